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
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { decodeSafetensors, encodeSafetensors, type Safetensors } from "../engine/safetensors.js";
import type { HostTensors } from "../engine/tree.js";
import { appendJsonLine, writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { UsageError } from "../errors.js";

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

export class RunStoreError extends Error {
  override name = "RunStoreError";
}

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

export class Run {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  static create(root: string, id: string, config: object): Run {
    assertRunId(id);
    const dir = join(root, id);
    if (existsSync(dir)) throw new RunStoreError(`run ${dir} already exists (use --resume to continue it)`);
    try {
      mkdirSync(join(dir, "checkpoints"), { recursive: true });
      mkdirSync(join(dir, "figures"), { recursive: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new RunStoreError(`cannot create run directory ${dir} (${code})`);
    }
    const run = new Run(dir);
    writeJsonAtomic(run.path("config.json"), config);
    writeFileAtomic(run.path("metrics.jsonl"), "");
    run.setStatus("running", 0);
    return run;
  }

  static open(dirOrId: string, root = defaultRunsRoot()): Run {
    const dir = existsSync(dirOrId) ? dirOrId : (assertRunId(dirOrId), join(root, dirOrId));
    if (!existsSync(join(dir, "config.json")))
      throw new RunStoreError(`no run at ${dir} (config.json missing); "tiller runs list" shows the runs`);
    return new Run(dir);
  }

  get id(): string {
    return this.dir.split("/").pop()!;
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  config<T = Record<string, unknown>>(): T {
    return readJson(this.path("config.json")) as T;
  }

  status(): StatusRecord {
    return readJson(this.path("status.json")) as StatusRecord;
  }

  setStatus(status: RunStatus, epochsCompleted: number, reason?: string): void {
    const record: StatusRecord = { status, epochsCompleted, updatedAt: new Date().toISOString() };
    if (reason) record.reason = reason;
    writeJsonAtomic(this.path("status.json"), record);
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
        const current = existsSync(this.path("status.json")) ? this.status() : null;
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
    const file = this.path("metrics.jsonl");
    if (!existsSync(file)) return writeFileAtomic(file, "");
    const text = readFileSync(file, "utf8");
    if (text === "" || text.endsWith("\n")) return;
    writeFileAtomic(file, text.slice(0, text.lastIndexOf("\n") + 1));
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
    writeFileAtomic(this.path("metrics.jsonl"), kept.map((m) => JSON.stringify(m) + "\n").join(""));
  }

  appendMetric(event: MetricEvent): void {
    appendJsonLine(this.path("metrics.jsonl"), event);
  }

  /** Events in order; a truncated last line (crash mid-append) is skipped, other bad lines are errors. */
  metrics(): MetricEvent[] {
    const file = this.path("metrics.jsonl");
    if (!existsSync(file)) return [];
    const lines = readFileSync(file, "utf8").split("\n");
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

  /** Writes a checkpoint atomically, then records its checksum; a checkpoint not in the index is never loaded. */
  saveCheckpoint(name: string, tensors: HostTensors, metadata: Record<string, string>): void {
    const bytes = encodeSafetensors(tensors, metadata);
    const file = `${name}.safetensors`;
    writeFileAtomic(this.path("checkpoints", file), bytes);
    const index = this.checkpointIndex();
    index[file] = { sha256: sha256(bytes), bytes: bytes.length, savedAt: new Date().toISOString() };
    writeJsonAtomic(this.path("checkpoints", "index.json"), index);
  }

  checkpointIndex(): Record<string, { sha256: string; bytes: number; savedAt: string }> {
    const file = this.path("checkpoints", "index.json");
    if (!existsSync(file)) return {};
    const index = readJson(file);
    const valid =
      typeof index === "object" &&
      index !== null &&
      !Array.isArray(index) &&
      Object.values(index).every(
        (e) => typeof e?.sha256 === "string" && Number.isSafeInteger(e?.bytes) && e.bytes >= 0,
      );
    if (!valid) throw new RunStoreError(`${file}: not a checkpoint index ({file: {sha256, bytes}})`);
    return index as ReturnType<Run["checkpointIndex"]>;
  }

  /** Loads a checkpoint after checking it against the index. */
  loadCheckpoint(name: string): Safetensors {
    const file = `${name}.safetensors`;
    const entry = this.checkpointIndex()[file];
    const path = this.path("checkpoints", file);
    if (!entry) throw new RunStoreError(`${path}: not recorded in checkpoints/index.json (incomplete write?)`);
    const bytes = readFileSync(path);
    if (sha256(bytes) !== entry.sha256) throw new RunStoreError(`${path}: checksum mismatch, the file is corrupt`);
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

/** Every run under `root`, newest first; unreadable entries are reported, not fatal. */
export function listRuns(root = defaultRunsRoot()): { runs: RunSummary[]; problems: string[] } {
  const runs: RunSummary[] = [];
  const problems: string[] = [];
  if (!existsSync(root)) return { runs, problems };
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, "config.json"))) continue;
    try {
      const run = new Run(dir);
      const epochs = run.metrics().filter((m): m is EpochEvent => m.type === "epoch");
      const accs = epochs.map((e) => e.test_accuracy);
      runs.push({
        id: name,
        dir,
        config: run.config(),
        status: existsSync(run.path("status.json")) ? run.status() : null,
        best: accs.length ? Math.max(...accs) : undefined,
        final: accs.at(-1),
        duration_s: epochs.at(-1)?.elapsed_s,
      });
    } catch (e) {
      problems.push(`${dir}: ${(e as Error).message}`);
    }
  }
  runs.sort((a, b) => String(b.config.createdAt).localeCompare(String(a.config.createdAt)));
  return { runs, problems };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new RunStoreError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunStoreError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}
