/**
 * Where a sweep lives in the run store. Its runs are ordinary run directories at the top of the
 * runs folder, each named by its command and a hash of its validated request, so the same request
 * is the same run whichever sweep (or retry, or worker) asks for it:
 *
 *   <runs>/train-3fa9c1d2e4b5/        one run (config.json, status.json, metrics.jsonl, checkpoints/)
 *   <runs>/sweeps/store.json          the run store's identity, checked by every queue worker
 *   <runs>/sweeps/<name>/sweep.json   the spec and its runs (id and swept values)
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { readJson, RunStoreError, type StatusRecord } from "../runs/store.js";
import { writeJsonAtomic } from "../runs/atomic.js";
import { UsageError } from "../errors.js";
import type { SweepSpec, SweptRun } from "./spec.js";
import { makeDirs } from "../runs/files.js";
import { stableJson } from "../runs/stable-json.js";

export { stableJson };

/** The run directory name of a request: `<command>-<first 12 hex digits of sha256>`. */
export function runIdOf(command: string, request: Record<string, unknown>): string {
  const hash = createHash("sha256").update(stableJson({ command, request })).digest("hex");
  return `${command}-${hash.slice(0, 12)}`;
}

export type SweepRunRecord = {
  id: string;
  values: Record<string, unknown>;
  request: Record<string, unknown>;
};
export type SweepRecord = {
  name: string;
  command: string;
  spec: SweepSpec;
  /** The keys swept, in spec order (the table's columns). */
  swept: string[];
  runs: SweepRunRecord[];
  store: string;
  createdAt: string;
};

export function sweepsDir(runsRoot: string): string {
  return join(resolve(runsRoot), "sweeps");
}

/** The run store's identity, created on first use; workers compare it with their jobs'. */
export function storeId(runsRoot: string, create: boolean): string | null {
  const file = join(sweepsDir(runsRoot), "store.json");
  if (existsSync(file)) {
    const record = readJson(file) as { id?: unknown };
    if (typeof record.id !== "string") throw new RunStoreError(`${file}: no store id in it`);
    return record.id;
  }
  if (!create) return null;
  makeDirs(sweepsDir(runsRoot));
  const id = randomBytes(8).toString("hex");
  writeJsonAtomic(file, { id, createdAt: new Date().toISOString() });
  return id;
}

export function sweepRecord(spec: SweepSpec, runs: SweptRun[], store: string): SweepRecord {
  const swept: string[] = [];
  for (const r of runs) for (const k of Object.keys(r.values)) if (!swept.includes(k)) swept.push(k);
  const seen = new Set<string>();
  const records: SweepRunRecord[] = [];
  for (const r of runs) {
    const id = runIdOf(spec.command, r.request);
    if (seen.has(id)) continue; // the same request twice (a grid point also listed in runs) is one run
    seen.add(id);
    records.push({ id, values: r.values, request: r.request });
  }
  return {
    name: spec.name,
    command: spec.command,
    spec,
    swept,
    runs: records,
    store,
    createdAt: new Date().toISOString(),
  };
}

export function writeSweepRecord(runsRoot: string, record: SweepRecord): void {
  const dir = join(sweepsDir(runsRoot), record.name);
  makeDirs(dir);
  writeJsonAtomic(join(dir, "sweep.json"), record);
}

export function readSweepRecord(runsRoot: string, name: string): SweepRecord {
  const file = join(sweepsDir(runsRoot), name, "sweep.json");
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || !existsSync(file))
    throw new UsageError(`no sweep "${name}" in ${resolve(runsRoot)} (tiller sweep list shows them)`);
  return readJson(file) as SweepRecord;
}

export function listSweeps(runsRoot: string): string[] {
  const dir = sweepsDir(runsRoot);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, "sweep.json")))
    .sort();
}

/**
 * A run's state as a sweep sees it: not started, started (running, interrupted or killed: it
 * resumes), done, or failed (failed or diverged: its own fault, never retried by the sweep).
 */
export type RunState = "pending" | "started" | "done" | "failed";

export function runState(runsRoot: string, id: string): { state: RunState; status?: StatusRecord } {
  const dir = join(resolve(runsRoot), id);
  if (!existsSync(join(dir, "config.json"))) return { state: "pending" };
  if (!existsSync(join(dir, "status.json"))) return { state: "started" };
  let status: StatusRecord;
  try {
    status = readJson(join(dir, "status.json")) as StatusRecord;
  } catch {
    return { state: "started" };
  }
  if (status.status === "done") return { state: "done", status };
  if (status.status === "failed" || status.status === "diverged") return { state: "failed", status };
  return { state: "started", status };
}
