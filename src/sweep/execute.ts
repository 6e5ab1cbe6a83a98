/**
 * One run of a sweep, as any worker (a local process or a queue worker on another machine) does
 * it: take the run's lease, then start it, resume it from its last checkpoint, or — when it is
 * already done or failed — return that without computing anything.
 *
 * The lease (`sweeps/leases/<id>.json`, refreshed every few seconds) keeps two workers off one run
 * directory: a queue may hand a job out twice (a stalled job whose worker is only slow, a Redis
 * restart that lost the job while a worker still ran it); the second waits until the first
 * finishes or its lease goes stale (the worker died), then resumes or finds the run done.
 */
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { writeJsonAtomic } from "../runs/atomic.js";
import { sweepCommand, type RunEnd, type SweepCommandName } from "./commands.js";
import { runState, sweepsDir } from "./store.js";
import { makeDirs } from "../runs/files.js";

/** What a worker is given: a run id and its validated request. Never a queue URL. */
export type RunJob = { id: string; command: SweepCommandName; request: Record<string, unknown> };

export type RunOutcome = RunEnd & {
  id: string;
  /** Found already done or failed: nothing computed. */
  cached?: boolean;
  /** Continued from a checkpoint of an earlier, interrupted attempt. */
  resumed?: boolean;
  seconds: number;
};

/** A lease not refreshed for this long is taken over (its worker died): 30 s, as BullMQ's job lock. */
const leaseMs = () => Number(process.env.TILLER_SWEEP_LEASE_MS) || 30_000;

type Lease = { owner: string; heartbeatAt: number };

function readLease(file: string): Lease | null {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Lease;
  } catch {
    return null; // gone, or half-written by a dying owner: treated as free
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for the run's lease and holds it (refreshed) until `release()`. Should another worker take
 * it over (this process's event loop stalled past the stale time), `onLost` stops this one's run.
 */
async function takeLease(
  runsRoot: string,
  id: string,
  signal: AbortSignal,
  onLost: () => void,
): Promise<() => void> {
  const dir = join(sweepsDir(runsRoot), "leases");
  makeDirs(dir);
  const file = join(dir, `${id}.json`);
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const stale = leaseMs();
  for (;;) {
    if (signal.aborted) throw new Error("interrupted while waiting for the run's lease");
    try {
      const fd = openSync(file, "wx");
      writeSync(fd, JSON.stringify({ owner, heartbeatAt: Date.now() }));
      closeSync(fd);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const held = readLease(file);
    if (!held || Date.now() - held.heartbeatAt > stale) {
      // The holder died: take the lease over, then check no other taker won the same race.
      writeJsonAtomic(file, { owner, heartbeatAt: Date.now() });
      await sleep(200);
      if (readLease(file)?.owner === owner) break;
    }
    await sleep(Math.min(1000, stale / 4));
  }
  const beat = setInterval(() => {
    const held = readLease(file);
    if (!held || held.owner === owner) writeJsonAtomic(file, { owner, heartbeatAt: Date.now() });
    else onLost();
  }, stale / 4);
  return () => {
    clearInterval(beat);
    if (readLease(file)?.owner === owner) rmSync(file, { force: true });
  };
}

export async function executeRun(job: RunJob, runsRoot: string, signal: AbortSignal): Promise<RunOutcome> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  // The run stops at a step boundary when asked to, or when its lease went to another worker.
  const stop = new AbortController();
  signal.addEventListener("abort", () => stop.abort(), { once: true });
  const release = await takeLease(runsRoot, job.id, signal, () => stop.abort());
  try {
    const { state, status } = runState(runsRoot, job.id);
    if (state === "done") return { id: job.id, status: "done", cached: true, seconds: seconds() };
    if (state === "failed")
      return {
        id: job.id,
        status: "failed",
        reason: status?.reason ?? status?.status,
        cached: true,
        seconds: seconds(),
      };
    const command = sweepCommand(job.command);
    const request = command.validate(job.request); // the worker checks what it is given
    const dir = join(resolve(runsRoot), job.id);
    const end =
      state === "pending" || !existsSync(join(dir, "config.json"))
        ? await command.start(request, job.id, runsRoot, stop.signal)
        : await command.resume(request, dir, runsRoot, stop.signal);
    // A diverged run says where in its status; that is the reason worth showing.
    const reason =
      end.status === "failed" ? (runState(runsRoot, job.id).status?.reason ?? end.reason) : end.reason;
    return {
      id: job.id,
      ...end,
      ...(reason ? { reason } : {}),
      ...(state === "started" ? { resumed: true } : {}),
      seconds: seconds(),
    };
  } catch (e) {
    const reason = String((e as Error).message ?? e).split("\n")[0];
    return { id: job.id, status: "failed", reason, seconds: seconds() };
  } finally {
    release();
  }
}
