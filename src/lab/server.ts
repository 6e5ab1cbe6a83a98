/** Starts the lab: the Hono app on a Node HTTP server, plus its job queue. */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { makeDirs } from "../runs/files.js";
import { createLabApp } from "./app.js";
import { JobQueue, type Launcher } from "./jobs.js";
import { defaultAssetsDir } from "./paths.js";

export type LabOptions = {
  runsRoot: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  assetsDir?: string;
  maxJobs?: number;
  launcher?: Launcher;
  pollMs?: number;
};

export type Lab = { url: string; port: number; runsRoot: string; jobs: JobQueue; close(): Promise<void> };

export const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export async function startLab(opts: LabOptions): Promise<Lab> {
  const runsRoot = resolve(opts.runsRoot);
  makeDirs(runsRoot);
  const host = opts.host ?? "127.0.0.1";
  const jobs = new JobQueue({
    runsRoot,
    maxRunning: opts.maxJobs,
    ...(opts.launcher ? { launcher: opts.launcher } : {}),
  });
  const app = createLabApp({
    runsRoot,
    jobs,
    assetsDir: opts.assetsDir ?? defaultAssetsDir(),
    loopbackOnly: LOOPBACK.has(host),
    pollMs: opts.pollMs,
  });
  const server = await new Promise<Server>((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: opts.port ?? 0 }) as Server;
    s.once("listening", () => resolveServer(s));
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new Error(
          e.code === "EADDRINUSE"
            ? `port ${opts.port} on ${host} is in use (pick another with --port, or --port 0 for any free one)`
            : `cannot listen on ${host}:${opts.port}: ${e.message}`,
        ),
      ),
    );
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    url: `http://${shown}:${port}/`,
    port,
    runsRoot,
    jobs,
    async close() {
      await jobs.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
