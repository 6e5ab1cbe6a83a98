/**
 * Sweeps across machines on BullMQ: the sweep puts one job per run on a queue (job id = run id,
 * so a run is queued once however often it is asked for); `tiller worker` processes on any
 * machine take them and write the runs into a run store every worker shares (a shared filesystem).
 *
 * The run store is the record: a run is done when its status.json says so, whatever the queue
 * says. So a worker killed mid-run (its job stalls; BullMQ hands it to another worker, which
 * resumes the run from its last checkpoint), a Redis restart that loses the queue (the sweep sees
 * the jobs missing and queues them again), or a job handed out twice (the run's lease, execute.ts)
 * never lose or duplicate a result.
 */
import { hostname } from "node:os";
import type { Job, Queue } from "bullmq";
import { UsageError } from "../errors.js";
import { executeRun, type RunJob, type RunOutcome } from "./execute.js";
import { describeTarget, parseRedisUrl, type RedisTarget } from "./redis/url.js";
import { runState, storeId } from "./store.js";

export type QueueOptions = { url: string; name?: string };
export const DEFAULT_QUEUE_NAME = "tiller-runs";

/** What a job carries: the run, the store it belongs to, the sweep that asked. No URL, no credentials. */
type JobData = { run: RunJob; store: string; sweep: string };

export class QueueUnreachableError extends Error {
  override name = "QueueUnreachableError";
}

/**
 * BullMQ and ioredis, loaded on first use: BullMQ's tslib helpers land on globalThis, and
 * importing the library must leave globalThis as it was (test/engine/pure-import.test.ts).
 */
const bullmq = () => import("bullmq");

/** Connection options for BullMQ, which makes its own ioredis clients (and reconnects them). */
function connection(target: RedisTarget) {
  return { ...target, maxRetriesPerRequest: null };
}

/** Fails with one line when Redis does not answer a PING within `timeoutMs`. */
export async function checkRedis(target: RedisTarget, timeoutMs = 3000): Promise<void> {
  const { Redis } = await import("ioredis");
  const client = new Redis({
    ...target,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined); // the rejection below says it
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new QueueUnreachableError(
      `cannot reach Redis at ${describeTarget(target)} (${(e as Error).message})`,
    );
  } finally {
    client.disconnect();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lockMs = () => Number(process.env.TILLER_QUEUE_LOCK_MS) || 30_000;

export type QueueEvent =
  | { type: "started"; id: string; worker: string }
  | { type: "finished"; outcome: RunOutcome; worker: string; queue?: { waitMs: number; recordMs: number } }
  | { type: "lost"; ids: string[] }
  | { type: "notice"; message: string };

/** Queues `run` unless the queue already has it waiting or running; a finished old job is replaced. */
async function enqueue(queue: Queue<JobData>, data: JobData): Promise<void> {
  const old = await queue.getJob(data.run.id);
  if (old) {
    const state = await old.getState();
    if (state !== "completed" && state !== "failed" && state !== "unknown") return;
    await old.remove();
  }
  // Finished jobs stay (they carry BullMQ's timestamps, and a finished job is not a lost one); the
  // next sweep that asks for the run again replaces them above.
  await queue.add("run", data, {
    jobId: data.run.id,
    attempts: 1,
    removeOnComplete: false,
    removeOnFail: false,
  });
}

/** The sweep's side: queue the runs, then follow them in the run store until each has ended. */
export async function runOnQueue(
  jobs: RunJob[],
  opts: QueueOptions & {
    runsRoot: string;
    store: string;
    sweep: string;
    signal: AbortSignal;
    /** Stop following: the runs already taken go on on their workers. */
    stopNow?: AbortSignal;
    onEvent(e: QueueEvent): void;
  },
): Promise<void> {
  const target = parseRedisUrl(opts.url);
  await checkRedis(target);
  const { Queue } = await bullmq();
  const queue = new Queue<JobData>(opts.name ?? DEFAULT_QUEUE_NAME, { connection: connection(target) });
  let down = false;
  queue.on("error", () => undefined); // followed below, where it is said once
  const data = (run: RunJob): JobData => ({ run, store: opts.store, sweep: opts.sweep });
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const outstanding = new Set(byId.keys());
  const started = new Map<string, string>();
  let stopped = false;
  try {
    for (const job of jobs) await enqueue(queue, data(job));
    while (outstanding.size) {
      if (opts.stopNow?.aborted) {
        opts.onEvent({
          type: "notice",
          message: `left ${outstanding.size} runs to their workers; tiller sweep show follows them`,
        });
        break;
      }
      try {
        if (opts.signal.aborted && !stopped) {
          stopped = true;
          for (const id of [...outstanding]) {
            const job = await queue.getJob(id);
            if (job && ["waiting", "delayed", "prioritized"].includes(await job.getState())) {
              await job.remove();
              outstanding.delete(id);
            }
          }
          opts.onEvent({
            type: "notice",
            message: `stopped handing out runs; ${outstanding.size} still running on workers`,
          });
        }
        const lost: string[] = [];
        for (const id of [...outstanding]) if (await follow(queue, id)) lost.push(id);
        if (lost.length && !stopped) {
          for (const id of lost) await enqueue(queue, data(byId.get(id)!));
          opts.onEvent({ type: "lost", ids: lost });
        }
        if (down) opts.onEvent({ type: "notice", message: "Redis answers again" });
        down = false;
      } catch (e) {
        if (!down)
          opts.onEvent({ type: "notice", message: `Redis unreachable (${(e as Error).message}); retrying` });
        down = true;
      }
      await sleep(250);
    }
  } finally {
    await queue.close().catch(() => undefined);
  }

  /** One look at a run: ended (in the run store, or failed in the queue), started, or lost. */
  async function follow(queue: Queue<JobData>, id: string): Promise<boolean> {
    const { state, status } = runState(opts.runsRoot, id);
    const job = await queue.getJob(id);
    const worker = job?.processedBy ?? started.get(id) ?? "queue";
    if (state === "done" || state === "failed") {
      outstanding.delete(id);
      const recordMs = status ? Math.max(0, Date.now() - Date.parse(status.updatedAt)) : 0;
      const waitMs = job?.processedOn ? job.processedOn - job.timestamp : NaN;
      const outcome: RunOutcome = {
        id,
        status: state,
        ...(state === "failed" ? { reason: status?.reason ?? status?.status } : {}),
        seconds: NaN,
      };
      opts.onEvent({ type: "finished", outcome, worker, queue: { waitMs, recordMs } });
      return false;
    }
    if (!job) return runState(opts.runsRoot, id).state !== "done"; // finished in between, or lost
    const jobState = await job.getState();
    if (jobState === "failed") {
      outstanding.delete(id);
      opts.onEvent({
        type: "finished",
        outcome: { id, status: "failed", reason: job.failedReason, seconds: NaN },
        worker,
      });
    } else if (jobState === "active" && started.get(id) !== worker) {
      started.set(id, worker);
      opts.onEvent({ type: "started", id, worker });
    }
    return false;
  }
}

export type WorkerEvent =
  | { type: "started"; id: string; sweep: string }
  | { type: "finished"; outcome: RunOutcome; sweep: string }
  | { type: "notice"; message: string };

/**
 * A queue worker: takes runs one at a time until `signal` (first Ctrl-C: finish the current run)
 * or `stopNow` (second: interrupt it, resumable, and give the job back). A job from a sweep whose
 * run store is not this worker's `runsRoot` is given back and the worker stops with a UsageError.
 */
export async function serveQueue(
  opts: QueueOptions & {
    runsRoot: string;
    signal: AbortSignal;
    stopNow: AbortSignal;
    onEvent(e: WorkerEvent): void;
  },
): Promise<void> {
  const target = parseRedisUrl(opts.url);
  await checkRedis(target);
  let refused: UsageError | null = null;
  const lock = lockMs();
  const { DelayedError, UnrecoverableError, Worker } = await bullmq();
  const worker = new Worker<JobData>(
    opts.name ?? DEFAULT_QUEUE_NAME,
    async (job: Job<JobData>, token?: string) => {
      const { run, store, sweep } = job.data;
      if (store !== storeId(opts.runsRoot, false)) {
        refused = new UsageError(
          `this worker's --runs ${opts.runsRoot} is not the run store of sweep "${sweep}": ` +
            "every worker must write into the sweep's own runs folder (a shared filesystem)",
        );
        await job.moveToDelayed(Date.now() + 1000, token);
        void worker.close();
        throw new DelayedError();
      }
      opts.onEvent({ type: "started", id: run.id, sweep });
      const outcome = await executeRun(run, opts.runsRoot, opts.stopNow);
      opts.onEvent({ type: "finished", outcome, sweep });
      if (outcome.status === "failed") throw new UnrecoverableError(outcome.reason ?? "failed");
      if (outcome.status === "interrupted") {
        await job.moveToDelayed(Date.now(), token); // back on the queue: another worker resumes it
        throw new DelayedError();
      }
      return { status: outcome.status, cached: Boolean(outcome.cached) };
    },
    {
      connection: connection(target),
      name: `${hostname()}:${process.pid}`,
      concurrency: 1,
      lockDuration: lock,
      stalledInterval: lock,
      maxStalledCount: 5,
    },
  );
  let down = false;
  worker.on("error", (e) => {
    if (!down) opts.onEvent({ type: "notice", message: `queue: ${e.message}` });
    down = true;
  });
  worker.on("ready", () => (down = false));
  const close = () => void worker.close();
  opts.signal.addEventListener("abort", close, { once: true });
  await new Promise<void>((resolve) => worker.on("closed", () => resolve()));
  opts.signal.removeEventListener("abort", close);
  if (refused) throw refused;
}
