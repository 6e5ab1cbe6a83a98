/**
 * The local pool: N child processes on this machine, each given its share of the cores
 * (TILLER_THREADS), handed one run at a time. No Redis: the run store alone says what is done.
 */
import { fork, type ChildProcess } from "node:child_process";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunJob, RunOutcome } from "./execute.js";

export type PoolEvent =
  { type: "started"; id: string; worker: string } | { type: "finished"; outcome: RunOutcome; worker: string };

/** One worker per 2 cores, at least one. */
export function defaultWorkers(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / 2));
}

/** Each worker's threads: the cores split evenly, at least one. */
export function threadsPerWorker(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / workers));
}

/** The child's entry: the .ts source through tsx in development and tests, the compiled .js otherwise. */
function childEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith(".ts");
  return { file: join(dirname(here), ts ? "child.ts" : "child.js"), execArgv: ts ? ["--import", "tsx"] : [] };
}

/**
 * Runs `jobs` on `workers` children. `stopHanding` (first Ctrl-C) hands out no more runs and lets
 * the running ones finish; `stopNow` (second) interrupts them, each resumable from its checkpoint.
 */
export async function runLocalPool(
  jobs: RunJob[],
  opts: {
    runsRoot: string;
    workers: number;
    threads?: number;
    stopHanding: AbortSignal;
    stopNow: AbortSignal;
    onEvent(e: PoolEvent): void;
  },
): Promise<void> {
  const queue = [...jobs];
  const threads = opts.threads ?? threadsPerWorker(opts.workers);
  const { file, execArgv } = childEntry();
  const count = Math.min(opts.workers, queue.length);
  const children: ChildProcess[] = [];
  const finished = Array.from({ length: count }, (_, w) => {
    const child = fork(file, [], {
      execArgv,
      env: { ...process.env, TILLER_THREADS: String(threads) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    const name = `local-${w + 1}`;
    const next = () => {
      const job = opts.stopHanding.aborted ? undefined : queue.shift();
      if (job) child.send({ type: "run", job, runsRoot: opts.runsRoot });
      else child.disconnect();
    };
    child.on("message", (m: { type: string; id?: string; outcome?: RunOutcome }) => {
      if (m.type === "ready") next();
      if (m.type === "started") opts.onEvent({ type: "started", id: m.id!, worker: name });
      if (m.type === "finished") {
        opts.onEvent({ type: "finished", outcome: m.outcome!, worker: name });
        next();
      }
    });
    return new Promise<void>((resolve) => child.on("exit", () => resolve()));
  });
  const stop = () => children.forEach((c) => c.connected && c.send({ type: "stop" }));
  opts.stopNow.addEventListener("abort", stop, { once: true });
  try {
    await Promise.all(finished);
  } finally {
    opts.stopNow.removeEventListener("abort", stop);
  }
}
