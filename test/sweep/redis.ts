/**
 * A throwaway redis-server for tests: a free loopback port, a temp dir, no persistence; stopped
 * (and restartable on the same port, empty, as a crashed server without persistence comes back).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkRedis } from "../../src/sweep/queue.js";

export const REDIS_SERVER = "/usr/bin/redis-server";
export const hasRedis = existsSync(REDIS_SERVER);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type TestRedis = { url: string; port: number; stop(): Promise<void>; restart(): Promise<void> };

async function ping(port: number): Promise<boolean> {
  return checkRedis({ host: "127.0.0.1", port, db: 0 }, 500).then(
    () => true,
    () => false,
  );
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "tiller-redis-"));
  let server: ChildProcess;
  const launch = async () => {
    server = spawn(
      REDIS_SERVER,
      ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50));
  };
  const stop = async () => {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const gone = new Promise((r) => server.once("exit", r));
    server.kill("SIGKILL"); // as a crash: nothing saved
    await gone;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}/0`,
    port,
    stop,
    async restart() {
      await stop();
      await launch();
    },
  };
}
