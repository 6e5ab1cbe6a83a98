/**
 * `runSweep(spec, { workers } | { queue })`: plan the sweep, record it, run what is not done on
 * local worker processes or through a BullMQ queue, and report progress as an async iterator.
 *
 *   for await (const e of runSweep(spec, { runsRoot: "runs", workers: 2 })) console.log(e);
 */
import { resolve } from "node:path";
import { defaultRunsRoot } from "../runs/store.js";
import type { RunJob, RunOutcome } from "./execute.js";
import { defaultWorkers, runLocalPool } from "./pool.js";
import { runOnQueue, type QueueOptions } from "./queue.js";
import { expandSweep, type SweepSpec } from "./spec.js";
import {
  runState,
  storeId,
  sweepRecord,
  writeSweepRecord,
  type RunState,
  type SweepRecord,
} from "./store.js";

export type PlannedRun = { id: string; values: Record<string, unknown>; state: RunState; reason?: string };

export type SweepEvent =
  | { type: "planned"; sweep: string; runs: PlannedRun[]; toRun: number }
  | { type: "started"; id: string; worker: string }
  /** `queue` (queue sweeps): BullMQ's enqueue → taken, and status.json written → seen here, in ms. */
  | { type: "finished"; outcome: RunOutcome; worker: string; queue?: { waitMs: number; recordMs: number } }
  /** Runs the queue no longer had (a Redis restart without persistence): put on it again. */
  | { type: "lost"; ids: string[] }
  | { type: "notice"; message: string }
  | { type: "done"; done: number; failed: number; notRun: number; seconds: number };

/** The sweep's runs and what the run store says of each; writes nothing. */
export function planSweep(
  spec: SweepSpec,
  runsRoot = defaultRunsRoot(),
): { record: SweepRecord; runs: PlannedRun[] } {
  const record = sweepRecord(spec, expandSweep(spec), storeId(runsRoot, false) ?? "");
  const runs = record.runs.map((r) => {
    const { state, status } = runState(runsRoot, r.id);
    return { id: r.id, values: r.values, state, ...(state === "failed" ? { reason: status?.reason } : {}) };
  });
  return { record, runs };
}

export type SweepOptions = {
  runsRoot?: string;
  /** Local worker processes (default: one per 2 cores). */
  workers?: number;
  /** Threads per local worker (default: the cores split evenly). */
  threads?: number;
  /** Put the runs on a BullMQ queue instead; `tiller worker` processes take them. */
  queue?: QueueOptions;
  /** Aborted: hand out no more runs. `stopNow`: interrupt the running ones (local), or stop following them (queue). */
  signal?: AbortSignal;
  stopNow?: AbortSignal;
};

/** A push-to-pull channel: the runner pushes events, the caller iterates them. */
function channel<T>() {
  const items: T[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  let failure: unknown = null;
  return {
    push(item: T) {
      items.push(item);
      wake?.();
    },
    close(error?: unknown) {
      closed = true;
      failure = error ?? null;
      wake?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<T> {
      for (;;) {
        while (items.length) yield items.shift()!;
        if (closed) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((r) => (wake = r));
        wake = null;
      }
    },
  };
}

export function runSweep(spec: SweepSpec, opts: SweepOptions = {}): AsyncIterable<SweepEvent> {
  const events = channel<SweepEvent>();
  const runsRoot = resolve(opts.runsRoot ?? defaultRunsRoot());
  const never = new AbortController().signal;
  const work = async () => {
    const t0 = performance.now();
    const { record, runs } = planSweep(spec, runsRoot);
    record.store = storeId(runsRoot, true)!;
    writeSweepRecord(runsRoot, record);
    const jobs: RunJob[] = record.runs
      .filter((r) => ["pending", "started"].includes(runs.find((p) => p.id === r.id)!.state))
      .map((r) => ({ id: r.id, command: record.command as RunJob["command"], request: r.request }));
    events.push({ type: "planned", sweep: record.name, runs, toRun: jobs.length });
    const ends = new Map<string, RunOutcome["status"]>();
    const onEvent = (e: SweepEvent) => {
      if (e.type === "finished") ends.set(e.outcome.id, e.outcome.status);
      events.push(e);
    };
    if (jobs.length && opts.queue)
      await runOnQueue(jobs, {
        ...opts.queue,
        runsRoot,
        store: record.store,
        sweep: record.name,
        signal: opts.signal ?? never,
        stopNow: opts.stopNow,
        onEvent,
      });
    else if (jobs.length)
      await runLocalPool(jobs, {
        runsRoot,
        workers: opts.workers ?? defaultWorkers(),
        threads: opts.threads,
        stopHanding: opts.signal ?? never,
        stopNow: opts.stopNow ?? never,
        onEvent,
      });
    const final = planSweep(spec, runsRoot).runs;
    const failed = (r: PlannedRun) =>
      r.state === "failed" || (r.state !== "done" && ends.get(r.id) === "failed");
    events.push({
      type: "done",
      done: final.filter((r) => r.state === "done").length,
      failed: final.filter(failed).length,
      notRun: final.filter((r) => r.state !== "done" && !failed(r)).length,
      seconds: (performance.now() - t0) / 1000,
    });
  };
  work().then(
    () => events.close(),
    (e) => events.close(e),
  );
  return events;
}
