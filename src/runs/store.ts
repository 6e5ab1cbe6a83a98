/**
 * The run store: one directory per run, the unit every later analysis, report and lab view reads.
 *
 *   runs/<id>/config.json        what was asked for (immutable after creation)
 *   runs/<id>/status.json        running | done | failed | interrupted | diverged, with a reason
 *   runs/<id>/metrics.jsonl      step and epoch events, appended line by line
 *   runs/<id>/checkpoints/       epoch-N.safetensors + index.json (sha256 of each, written after it)
 *   runs/<id>/figures/, report.html
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { decodeSafetensors, encodeSafetensors, type Safetensors } from "../engine/safetensors.js";
import type { HostTensors } from "../engine/tree.js";
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import {
  entryKind,
  FolderError,
  isInside,
  makeDirs,
  MAX_CHECKPOINT_BYTES,
  MAX_LOG_BYTES,
  readContained,
  readContainedJson,
  readContainedText,
  RunStoreError,
} from "./files.js";
import { acquireRunLock, releaseRunLock } from "./lock.js";
import { UsageError } from "../errors.js";

export { RunStoreError } from "./files.js";
export { RunBusyError } from "./lock.js";

export const RUN_STATUSES = ["running", "done", "failed", "interrupted", "diverged"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type StatusRecord = { status: RunStatus; reason?: string; epochsCompleted: number; updatedAt: string };

export type StepEvent = {
  type: "step";
  epoch: number;
  step: number;
  loss: number;
  /** Global L2 norm of the gradient at this step (before the optimiser). */
  grad_norm?: number;
  elapsed_s: number;
};
export type EpochEvent = {
  type: "epoch";
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  elapsed_s: number;
};
/** A training step left unapplied (`onDivergence: "skip"`): its loss or gradient norm was NaN/Inf. */
export type SkipEvent = {
  type: "skip";
  epoch: number;
  step: number;
  /** null when NaN/Inf (JSON has neither; the reason says which). */
  loss: number | null;
  grad_norm: number | null;
  reason: string;
  /** Steps skipped so far in the run, this one included. */
  skips: number;
  elapsed_s: number;
};
/** Accuracy of generated answers on a task split, at a training step (LM, SVF and LoRA runs). */
export type EvalEvent = {
  type: "eval";
  step: number;
  task: string;
  split: string;
  accuracy: number;
  n: number;
  elapsed_s: number;
};
/** One policy-gradient step of an RL run (SVF or LoRA). */
export type RlStepEvent = {
  type: "rl_step";
  step: number;
  loss: number;
  reward_mean: number;
  /** Fraction of the sampled answers that were correct. */
  accuracy: number;
  kl?: number;
  grad_norm: number;
  elapsed_s: number;
};
export type MetricEvent = StepEvent | EpochEvent | SkipEvent | EvalEvent | RlStepEvent;

export function defaultRunsRoot(): string {
  return resolve(process.env.TILLER_RUNS ?? "runs");
}

export function newRunId(parts: string[]): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "").replace("T", "-");
  return [stamp, ...parts, randomBytes(2).toString("hex")].join("-");
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function assertRunId(id: string): void {
  if (!SAFE_ID.test(id) || id.includes(".."))
    throw new UsageError(`invalid run id "${id}" (letters, digits, ".", "_", "-" only)`);
}

/** checkpoints/index.json's entry for one file; `pending` while a replacement is being written. */
export type CheckpointEntry = {
  sha256: string;
  bytes: number;
  savedAt: string;
  pending?: { sha256: string; bytes: number };
};

export class Run {
  readonly dir: string;
  /** Every file read must resolve inside this folder: the run's own, or (for a member run) its parent's. */
  readonly bound: string;
  constructor(dir: string, bound?: string) {
    this.dir = resolve(dir);
    this.bound = resolve(bound ?? dir);
  }

  /**
   * A new run folder owned (locked) by this process. If the folder cannot be completed (a full
   * disk), what was made is removed again, so the same name can be used once the cause is fixed.
   */
  static create(root: string, id: string, config: object): Run {
    assertRunId(id);
    const dir = join(root, id);
    if (entryKind(dir) !== undefined)
      throw new RunStoreError(`run ${dir} already exists (use --resume to continue it)`);
    try {
      makeDirs(root);
      mkdirSync(dir);
    } catch (e) {
      const why =
        e instanceof FolderError
          ? `${e.code} at ${e.at}`
          : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
      throw new RunStoreError(`cannot create run directory ${dir} (${why})`);
    }
    const run = new Run(dir);
    try {
      run.lock();
      makeDirs(run.path("checkpoints"));
      makeDirs(run.path("figures"));
      writeJsonAtomic(run.path("config.json"), config);
      writeFileAtomic(run.path("metrics.jsonl"), "");
      run.setStatus("running", 0);
    } catch (e) {
      releaseRunLock(dir);
      rmSync(dir, { recursive: true, force: true });
      throw e instanceof RunStoreError ? e : new RunStoreError(`cannot create run ${dir}: ${(e as Error).message}`);
    }
    return run;
  }

  static open(dirOrId: string, root = defaultRunsRoot()): Run {
    const dir = existsSync(dirOrId) ? dirOrId : (assertRunId(dirOrId), join(root, dirOrId));
    if (!existsSync(join(dir, "config.json")))
      throw new RunStoreError(`no run at ${dir} (config.json missing); "tiller runs list" shows the runs`);
    return new Run(dir);
  }

  /** A run this process will write: opened and locked (RunBusyError when another process owns it). */
  static openForWriting(dirOrId: string, root = defaultRunsRoot()): Run {
    const run = Run.open(dirOrId, root);
    run.lock();
    return run;
  }

  get id(): string {
    return this.dir.split("/").pop()!;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /**
   * Makes this process the run's only writer (RunBusyError if another live process is); every
   * write below takes the lock first. It is given up when the run's status leaves "running", by
   * `release()`, or at exit; a SIGKILLed owner leaves a stale lock, which the next writer takes over.
   */
  lock(): void {
    acquireRunLock(this.dir);
  }

  release(): void {
    releaseRunLock(this.dir);
  }

  /** A file of the run by its path inside it; it must resolve inside the run and be a regular file. */
  readBytes(rel: string, maxBytes?: number): Buffer {
    return readContained(this.path(rel), this.bound, maxBytes);
  }

  readText(rel: string, maxBytes?: number): string {
    return readContainedText(this.path(rel), this.bound, maxBytes);
  }

  readJson(rel: string): unknown {
    return readContainedJson(this.path(rel), this.bound);
  }

  has(rel: string): boolean {
    return entryKind(this.path(rel)) !== undefined;
  }

  /** Writes a file of the run atomically (creating its folder), as this run's owner. */
  writeFile(rel: string, data: string | Uint8Array): string {
    const path = this.#writablePath(rel);
    writeFileAtomic(path, data);
    return path;
  }

  writeJson(rel: string, value: unknown): string {
    const path = this.#writablePath(rel);
    writeJsonAtomic(path, value);
    return path;
  }

  #writablePath(rel: string): string {
    const path = resolve(this.dir, rel);
    if (!isInside(this.dir, path) || path === this.dir) throw new RunStoreError(`${rel}: not a file inside run ${this.id}`);
    this.lock();
    makeDirs(dirname(path));
    // A folder inside the run that is a link elsewhere would carry the write out of the run.
    if (!isInside(realpathSync(this.bound), realpathSync(dirname(path))))
      throw new RunStoreError(`${dirname(path)}: resolves outside run ${this.id} (a symbolic link?), not written`);
    return path;
  }

  config<T = Record<string, unknown>>(): T {
    const config = this.readJson("config.json");
    if (typeof config !== "object" || config === null || Array.isArray(config))
      throw new RunStoreError(`${this.path("config.json")}: not a run config (expected a JSON object)`);
    return config as T;
  }

  status(): StatusRecord {
    const record = this.readJson("status.json") as Partial<StatusRecord> | null;
    if (!record || !RUN_STATUSES.includes(record.status as RunStatus))
      throw new RunStoreError(`${this.path("status.json")}: not a run status (expected {"status": ${RUN_STATUSES.join("|")}})`);
    return record as StatusRecord;
  }

  setStatus(status: RunStatus, epochsCompleted: number, reason?: string): void {
    const record: StatusRecord = { status, epochsCompleted, updatedAt: new Date().toISOString() };
    if (reason) record.reason = reason;
    this.lock();
    writeJsonAtomic(this.path("status.json"), record);
    // A run that stopped (done, failed, diverged, interrupted) is free for the next writer.
    if (status !== "running") this.release();
  }

  /**
   * Marks the run failed with the error's first line. Never throws: when the status cannot be
   * written (a full disk), the error being handled is the one the user must see.
   */
  recordFailure(error: unknown, epochsCompleted: number): void {
    // A trainer's DivergedError (train/steps.ts, a layer above) ends the run diverged, not failed.
    const status = (error as Error)?.name === "DivergedError" ? "diverged" : "failed";
    try {
      this.setStatus(status, epochsCompleted, String((error as Error)?.message ?? error).split("\n")[0]);
    } catch {
      // the original error is the one to report
    }
  }

  /**
   * Runs `work`; if it throws, a run still marked running (or interrupted, when a resume failed)
   * is marked failed with the error's first line, and the error is rethrown. A status that
   * cannot be written (a full disk) never hides the original error.
   */
  async failOnError<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      try {
        const current = this.has("status.json") ? this.status() : null;
        if (!current || current.status === "running" || current.status === "interrupted")
          this.setStatus("failed", current?.epochsCompleted ?? 0, String((e as Error).message ?? e).split("\n")[0]);
      } catch {
        // the original error is the one to report
      }
      throw e;
    }
  }

  /**
   * Cuts a half-written last line (a crash mid-append) so that appends after a resume start on a
   * fresh line instead of gluing onto the fragment.
   */
  repairMetrics(): void {
    if (!this.has("metrics.jsonl")) return void this.writeFile("metrics.jsonl", "");
    const text = this.readText("metrics.jsonl", MAX_LOG_BYTES);
    if (text === "" || text.endsWith("\n")) return;
    this.writeFile("metrics.jsonl", text.slice(0, text.lastIndexOf("\n") + 1));
  }

  /**
   * Keeps the step and epoch events of epochs ≤ `epoch` (the checkpoint a resume restarts from) and
   * drops the rest, which the resumed run writes again: metrics.jsonl then reads as if never
   * interrupted, without the killed epoch's steps twice.
   */
  keepMetricsUpTo(epoch: number): void {
    this.keepMetricsWhere((m) => !("epoch" in m) || m.epoch <= epoch);
  }

  /** Rewrites metrics.jsonl with the lines `keep` accepts (a resume cuts the lines after its checkpoint). */
  keepMetricsWhere(keep: (m: MetricEvent) => boolean): void {
    const kept = this.metrics().filter(keep);
    this.writeFile("metrics.jsonl", kept.map((m) => JSON.stringify(m) + "\n").join(""));
  }

  appendMetric(event: MetricEvent): void {
    this.appendLine("metrics.jsonl", event);
  }

  /** Appends one JSON line to a log of the run (metrics.jsonl, dynamics.jsonl), as its owner. */
  appendLine(rel: string, value: unknown): void {
    appendJsonLine(this.#writablePath(rel), value);
  }

  /** Events in order; a truncated last line (crash mid-append) is skipped, other bad lines are errors. */
  metrics(): MetricEvent[] {
    const file = this.path("metrics.jsonl");
    if (!this.has("metrics.jsonl")) return [];
    const lines = this.readText("metrics.jsonl", MAX_LOG_BYTES).split("\n");
    const out: MetricEvent[] = [];
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim()))
          throw new RunStoreError(`${file}: line ${i + 1} is not valid JSON`);
        return;
      }
      // Readers switch on `type`: a line that is JSON but not an event is corruption, not data.
      if (typeof (event as { type?: unknown } | null)?.type !== "string" || Array.isArray(event))
        throw new RunStoreError(`${file}: line ${i + 1} is not a metrics event (an object with a "type")`);
      out.push(event as MetricEvent);
    });
    return out;
  }

  /**
   * Writes a checkpoint so that a kill at any moment leaves a file the index vouches for: the new
   * checksum is recorded as pending next to the old one, the file is replaced atomically, then the
   * pending entry becomes the entry. (Recording after the write alone left a window in which a
   * SIGKILL paired the new `latest` with the old checksum and the resume refused it as corrupt.)
   */
  saveCheckpoint(name: string, tensors: HostTensors, metadata: Record<string, string>): void {
    const bytes = encodeSafetensors(tensors, metadata);
    const file = `${name}.safetensors`;
    const entry = { sha256: sha256(bytes), bytes: bytes.length, savedAt: new Date().toISOString() };
    const before = this.checkpointIndex();
    if (before[file]) {
      before[file] = { ...before[file], pending: { sha256: entry.sha256, bytes: entry.bytes } };
      this.writeJson(join("checkpoints", "index.json"), before);
    }
    this.writeFile(join("checkpoints", file), bytes);
    const index = this.checkpointIndex();
    index[file] = entry;
    this.writeJson(join("checkpoints", "index.json"), index);
  }

  checkpointIndex(): Record<string, CheckpointEntry> {
    const rel = join("checkpoints", "index.json");
    if (!this.has(rel)) return {};
    const index = this.readJson(rel);
    const valid =
      typeof index === "object" &&
      index !== null &&
      !Array.isArray(index) &&
      Object.values(index).every(
        (e) =>
          typeof e?.sha256 === "string" &&
          Number.isSafeInteger(e?.bytes) &&
          e.bytes >= 0 &&
          (e.pending === undefined || typeof e.pending?.sha256 === "string"),
      );
    if (!valid) throw new RunStoreError(`${this.path(rel)}: not a checkpoint index ({file: {sha256, bytes}})`);
    return index as ReturnType<Run["checkpointIndex"]>;
  }

  /** Loads a checkpoint after checking it against the index. */
  loadCheckpoint(name: string): Safetensors {
    const file = `${name}.safetensors`;
    const entry = this.checkpointIndex()[file];
    const path = this.path("checkpoints", file);
    if (!entry) throw new RunStoreError(`${path}: not recorded in checkpoints/index.json (incomplete write?)`);
    const bytes = this.readBytes(join("checkpoints", file), MAX_CHECKPOINT_BYTES);
    const sum = sha256(bytes);
    // A write interrupted between the file and the index leaves the pending checksum's file.
    if (sum !== entry.sha256 && sum !== entry.pending?.sha256)
      throw new RunStoreError(`${path}: checksum mismatch, the file is corrupt`);
    try {
      return decodeSafetensors(bytes);
    } catch (e) {
      throw new RunStoreError(`${path}: ${(e as Error).message}`);
    }
  }

  /** Epoch checkpoints that the index vouches for, in epoch order. */
  epochCheckpoints(): number[] {
    return Object.keys(this.checkpointIndex())
      .map((f) => /^epoch-(\d+)\.safetensors$/.exec(f)?.[1])
      .filter((e): e is string => e !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }
}

export type RunSummary = {
  id: string;
  dir: string;
  config: Record<string, unknown>;
  status: StatusRecord | null;
  best?: number;
  final?: number;
  duration_s?: number;
};

/** An entry of the runs folder that is not a readable run, and why. */
export type BrokenRun = { id: string; dir: string; reason: string };

/**
 * Every run under `root`, newest first. An entry that looks like a run but cannot be read (a bad
 * config.json, a dangling or escaping link, a FIFO where a file should be) is listed in `broken`
 * with the reason; it never hides the others. `problems` is the same as one-line messages.
 */
export function listRuns(root = defaultRunsRoot()): { runs: RunSummary[]; broken: BrokenRun[]; problems: string[] } {
  const runs: RunSummary[] = [];
  const broken: BrokenRun[] = [];
  if (!existsSync(root)) return { runs, broken, problems: [] };
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch (e) {
    throw new RunStoreError(`cannot list ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  for (const name of names) {
    const dir = join(root, name);
    const kind = entryKind(dir);
    if (name.startsWith(".") || kind === "file" || kind === "other") continue;
    try {
      if (kind === "link" && !isFolder(dir)) throw new RunStoreError("a symbolic link to nothing or to a file");
      if (entryKind(join(dir, "config.json")) === undefined) continue;
      runs.push(summariseRun(new Run(dir), name));
    } catch (e) {
      broken.push({ id: name, dir, reason: (e as Error).message.replace(`${dir}/`, "") });
    }
  }
  runs.sort((a, b) => String(b.config.createdAt).localeCompare(String(a.config.createdAt)));
  return { runs, broken, problems: broken.map((b) => `${b.dir}: ${b.reason}`) };
}

function summariseRun(run: Run, id: string): RunSummary {
  const config = run.config();
  const epochs = run.metrics().filter((m): m is EpochEvent => m.type === "epoch");
  const accs = epochs.map((e) => e.test_accuracy).filter((a) => typeof a === "number" && Number.isFinite(a));
  return {
    id,
    dir: run.dir,
    config,
    status: run.has("status.json") ? run.status() : null,
    best: accs.length ? Math.max(...accs) : undefined,
    final: accs.at(-1),
    duration_s: epochs.at(-1)?.elapsed_s,
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A JSON file read safely (a regular file under the size limit, not a link out of its folder). */
export function readJson(path: string): unknown {
  return readContainedJson(path, dirname(resolve(path)));
}
