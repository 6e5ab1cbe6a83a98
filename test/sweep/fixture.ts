/**
 * Shared by the sweep tests: a grid of six tiny runs (512 images, one epoch, 16 hidden units),
 * the same runs trained one by one in this process through the library's session (the
 * reference), and the tiller CLI.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { resolveDataDir } from "../../src/data/fashion-mnist.js";
import { decodeSafetensors } from "../../src/engine/safetensors.js";
import { parseRequest } from "../../src/requests/request.js";
import { trainRequest } from "../../src/requests/train.js";
import { requestSchemas } from "../../src/sessions.js";
import { expandSweep, parseSweepSpec, type SweepSpec } from "../../src/sweep/spec.js";
import { runIdOf } from "../../src/sweep/store.js";

export const hasData = existsSync(resolveDataDir());

export function gridSpec(
  name: string,
  fixed: Record<string, unknown> = {},
  grid: Record<string, unknown[]> = { optimizer: ["sgd", "adam", "lion"], lr: [0.001, 0.01] },
): SweepSpec {
  return parseSweepSpec({
    name,
    command: "train",
    fixed: { hidden: [16], epochs: 1, limit: 512, batchSize: 128, logEvery: 1, dynamics: "off", ...fixed },
    grid,
  });
}

/** Trains each run of `spec` in this process, one after the other, into `root`. */
export async function trainOneByOne(spec: SweepSpec, root: string): Promise<string[]> {
  const ids: string[] = [];
  for (const { request } of expandSweep(spec)) {
    const id = runIdOf(spec.command, request);
    await requestSchemas.train.run(parseRequest(trainRequest, { ...request, name: id, runs: root }));
    ids.push(id);
  }
  return ids;
}

/** A digest of a checkpoint's tensors (params and optimiser state), bytes exactly. */
export function weightsDigest(root: string, id: string, epoch: number): string {
  const file = join(root, id, "checkpoints", `epoch-${epoch}.safetensors`);
  const { tensors } = decodeSafetensors(readFileSync(file));
  const hash = createHash("sha256");
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name];
    hash.update(name).update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return hash.digest("hex");
}

const cli = ["--import", "tsx", "src/cli/main.ts"];

export function tiller(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [...cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
}

/** A long-lived `tiller …` (a worker): its stderr is collected in `log()`. */
export function tillerProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; log(): string } {
  const child = spawn(process.execPath, [...cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (d: Buffer) => (text += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (text += d.toString()));
  return { child, log: () => text };
}

export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
