/**
 * A sweep's results, read from its runs' own directories: one row per run with its swept values,
 * status, final and best test metrics and time; and each run's curves for the lab. The metrics are
 * the runs' epoch events (train runs); other kinds show their status and wall time.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { readJson, Run, type EpochEvent, type StatusRecord } from "../runs/store.js";
import { runState, type RunState, type SweepRecord } from "./store.js";

export type SweepRow = {
  id: string;
  values: Record<string, unknown>;
  state: RunState;
  reason?: string;
  epochs: number;
  final_accuracy?: number;
  best_accuracy?: number;
  final_loss?: number;
  best_loss?: number;
  seconds?: number;
};

export const METRICS = ["final_accuracy", "best_accuracy", "final_loss", "best_loss", "seconds"] as const;
export type MetricName = (typeof METRICS)[number];

function epochsOf(runsRoot: string, id: string): EpochEvent[] {
  const dir = join(resolve(runsRoot), id);
  if (!existsSync(join(dir, "metrics.jsonl"))) return [];
  try {
    return new Run(dir).metrics().filter((m): m is EpochEvent => m.type === "epoch");
  } catch {
    return []; // a run being written or damaged shows no metrics rather than hiding the table
  }
}

/**
 * A run's wall time from its files when it logs no epochs (comparisons, CT): created → last status.
 * (A resumed run's time includes the pause.)
 */
function wallSeconds(runsRoot: string, id: string, status?: StatusRecord): number | undefined {
  try {
    const created = (readJson(join(resolve(runsRoot), id, "config.json")) as { createdAt?: string })
      .createdAt;
    const s = (Date.parse(status?.updatedAt ?? "") - Date.parse(created ?? "")) / 1000;
    return Number.isFinite(s) && s >= 0 ? s : undefined;
  } catch {
    return undefined;
  }
}

export function sweepRows(runsRoot: string, record: SweepRecord): SweepRow[] {
  return record.runs.map(({ id, values }) => {
    const { state, status } = runState(runsRoot, id);
    const epochs = epochsOf(runsRoot, id);
    const wall = epochs.length || state === "pending" ? undefined : wallSeconds(runsRoot, id, status);
    const accs = epochs.map((e) => e.test_accuracy);
    const losses = epochs.map((e) => e.test_loss).filter(Number.isFinite);
    return {
      id,
      values,
      state,
      ...(state === "failed" && status?.reason ? { reason: status.reason } : {}),
      epochs: epochs.length,
      ...(accs.length ? { final_accuracy: accs.at(-1), best_accuracy: Math.max(...accs) } : {}),
      ...(losses.length ? { final_loss: losses.at(-1), best_loss: Math.min(...losses) } : {}),
      ...(epochs.length
        ? { seconds: epochs.at(-1)!.elapsed_s }
        : wall !== undefined
          ? { seconds: wall }
          : {}),
    };
  });
}

/** Rows sorted by a metric (best first: high accuracy, low loss or time) or a swept value. */
export function sortRows(rows: SweepRow[], key: string, descending?: boolean): SweepRow[] {
  const desc = descending ?? /accuracy/.test(key);
  const value = (r: SweepRow): unknown => (key in r ? r[key as keyof SweepRow] : r.values[key]);
  return [...rows].sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === undefined || vb === undefined) return va === undefined ? (vb === undefined ? 0 : 1) : -1;
    const c =
      typeof va === "number" && typeof vb === "number" ? va - vb : String(va).localeCompare(String(vb));
    return desc ? -c : c;
  });
}

/** The run with the best final test accuracy among the done ones. */
export function bestRow(rows: SweepRow[]): SweepRow | undefined {
  return sortRows(
    rows.filter((r) => r.state === "done" && r.final_accuracy !== undefined),
    "final_accuracy",
  )[0];
}

export type Curve = {
  id: string;
  epoch: number[];
  test_accuracy: number[];
  test_loss: number[];
  train_loss: number[];
};

export function sweepCurves(runsRoot: string, record: SweepRecord): Curve[] {
  return record.runs.map(({ id }) => {
    const epochs = epochsOf(runsRoot, id);
    return {
      id,
      epoch: epochs.map((e) => e.epoch),
      test_accuracy: epochs.map((e) => e.test_accuracy),
      test_loss: epochs.map((e) => e.test_loss),
      train_loss: epochs.map((e) => e.train_loss),
    };
  });
}
