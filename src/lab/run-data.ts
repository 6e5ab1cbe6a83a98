/**
 * What the lab reads from the run store: run summaries (with progress while training), one run's
 * details and its files. Every path is built from a validated run id and validated name segments,
 * then checked to resolve (symlinks included) inside the run directory, which must resolve inside
 * the runs root. Nothing here writes.
 */
import { existsSync, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { entryKind, isInside, readContained, readContainedText } from "../runs/files.js";
import { runHeadline } from "../runs/headline.js";
import { readTags } from "./tags.js";
import { assertRunId, Run, type EpochEvent, type MetricEvent, type StatusRecord } from "../runs/store.js";

/** A fixable request problem (HTTP 400) or a missing thing (HTTP 404); the message is for the user. */
export class LabRequestError extends Error {
  override name = "LabRequestError";
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 415 | 429,
    message: string,
  ) {
    super(message);
  }
}

/** Training-set sizes, for a run's step count before its first epoch ends. */
const TRAIN_SIZES: Record<string, number> = { "fashion-mnist": 60_000 };

export type RunProgress = {
  /** Fraction of the planned optimisation steps done, in [0, 1]. */
  fraction: number;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
};

export type LabRunSummary = {
  id: string;
  command: string;
  model?: string;
  optimizer?: string;
  lr?: number;
  status: StatusRecord["status"] | "unknown";
  reason?: string;
  createdAt?: string;
  best?: number;
  final?: number;
  duration_s?: number;
  /** Labels a person gave the run (tags.json). */
  tags: string[];
  /** Seconds since metrics.jsonl or status.json last changed. */
  idle_s: number;
  progress?: RunProgress;
};

export type RunFileEntry = { path: string; bytes: number; kind: "figure" | "data" | "report" | "log" };

export type LabRunDetail = LabRunSummary & {
  config: Record<string, unknown>;
  epochs: EpochEvent[];
  files: RunFileEntry[];
};

const NAME_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Files the lab hands out, by extension, with the content type it serves them under. */
export const SERVED_TYPES: Record<string, string> = {
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json; charset=utf-8",
  ".jsonl": "application/x-ndjson; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".html": "text/html; charset=utf-8",
};
/** Folders a run's analyses write into; listing stops there (checkpoints are binary and large). */
const LISTED_DEPTH = 3;
const SKIPPED_DIRS = new Set(["checkpoints"]);

/** The run directory for `id`, after checking the id and that the run exists inside `root`. */
export function runDir(root: string, id: string): string {
  try {
    assertRunId(id);
  } catch (e) {
    throw new LabRequestError(400, (e as Error).message);
  }
  const dir = join(root, id);
  if (!existsSync(join(dir, "config.json"))) throw new LabRequestError(404, `no run "${id}"`);
  const realRoot = realpathSync(root);
  const realDir = realpathSync(dir);
  if (!isInside(realRoot, realDir))
    throw new LabRequestError(403, `run "${id}" lies outside the runs folder`);
  return dir;
}

/**
 * A file of a run from its relative path segments (already URL-decoded), checked segment by
 * segment and again after resolving symlinks.
 */
export function runFilePath(root: string, id: string, segments: string[]): string {
  const dir = runDir(root, id);
  if (segments.length === 0 || segments.length > LISTED_DEPTH + 1)
    throw new LabRequestError(400, "expected a file path like figures/loss.svg");
  for (const s of segments)
    if (!NAME_SEGMENT.test(s) || s.includes(".."))
      throw new LabRequestError(400, `invalid file name "${s}" (letters, digits, ".", "_", "-" only)`);
  if (SKIPPED_DIRS.has(segments[0])) throw new LabRequestError(403, "checkpoints are not served");
  const ext = extname(segments.at(-1)!).toLowerCase();
  if (!(ext in SERVED_TYPES))
    throw new LabRequestError(400, `files of type "${ext || "(none)"}" are not served`);
  const path = join(dir, ...segments);
  if (!existsSync(path) || !statSync(path).isFile())
    throw new LabRequestError(404, `no file ${segments.join("/")}`);
  if (!isInside(realpathSync(dir), realpathSync(path)))
    throw new LabRequestError(403, `${segments.join("/")} lies outside the run`);
  return path;
}

export { isInside };

/** Every run under `root`, newest first; a run that cannot be read is reported in `problems`. */
export function runSummaries(root: string): { runs: LabRunSummary[]; problems: string[] } {
  const runs: LabRunSummary[] = [];
  const problems: string[] = [];
  if (!existsSync(root)) return { runs, problems };
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    try {
      if (!lstatSync(dir).isDirectory() || !existsSync(join(dir, "config.json"))) continue;
      assertRunId(name);
      runs.push(summarise(new Run(dir)).summary);
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
    }
  }
  runs.sort(
    (a, b) => String(b.createdAt ?? "").localeCompare(String(a.createdAt ?? "")) || b.id.localeCompare(a.id),
  );
  return { runs, problems };
}

export function runDetail(root: string, id: string): LabRunDetail {
  const run = new Run(runDir(root, id));
  const { summary, config, epochs } = summarise(run);
  return { ...summary, config, epochs, files: listRunFiles(run.dir) };
}

/** A run's metric events (step events thinned to at most `maxSteps`, evenly, keeping the last). */
export function runMetrics(root: string, id: string, maxSteps = 2000): MetricEvent[] {
  const events = new Run(runDir(root, id)).metrics();
  const steps = events.filter((e) => e.type === "step");
  if (steps.length <= maxSteps) return events;
  const stride = Math.ceil(steps.length / maxSteps);
  const keep = new Set(steps.filter((_, i) => i % stride === 0 || i === steps.length - 1));
  return events.filter((e) => e.type !== "step" || keep.has(e));
}

function summarise(run: Run): {
  summary: LabRunSummary;
  config: Record<string, unknown>;
  epochs: EpochEvent[];
} {
  const config = run.config();
  const status = run.has("status.json") ? run.status() : null;
  const events = run.metrics();
  const epochs = events.filter((m): m is EpochEvent => m.type === "epoch");
  const accs = epochs.map((e) => e.test_accuracy).filter((a) => typeof a === "number" && Number.isFinite(a));
  const model = config.model as { name?: string } | undefined;
  const optimizer = config.optimizer as { name?: string; lr?: number } | undefined;
  const lastStep = [...events].reverse().find((e) => e.type === "step");
  const headline = runHeadline(run.dir, config, accs);
  const summary: LabRunSummary = {
    id: run.id,
    command:
      typeof config.command === "string"
        ? config.command
        : typeof config.kind === "string"
          ? config.kind
          : "unknown",
    ...(typeof model?.name === "string"
      ? { model: model.name }
      : headline.what
        ? { model: headline.what }
        : {}),
    ...(typeof optimizer?.name === "string"
      ? { optimizer: optimizer.name }
      : headline.optimizer
        ? { optimizer: headline.optimizer }
        : {}),
    ...(typeof optimizer?.lr === "number"
      ? { lr: optimizer.lr }
      : headline.lr !== undefined
        ? { lr: headline.lr }
        : {}),
    status: status?.status ?? "unknown",
    ...(status?.reason ? { reason: status.reason } : {}),
    ...(typeof config.createdAt === "string" ? { createdAt: config.createdAt } : {}),
    ...(headline.best !== undefined ? { best: headline.best } : {}),
    ...(accs.length ? { final: accs.at(-1) } : {}),
    duration_s:
      lastStep || epochs.length
        ? Math.max(lastStep?.elapsed_s ?? 0, epochs.at(-1)?.elapsed_s ?? 0)
        : headline.duration_s,
    tags: readTags(run.dir),
    idle_s: idleSeconds(run),
  };
  const progress = Array.isArray(config.members)
    ? compareProgress(run, config)
    : trainingProgress(config, epochs, lastStep?.type === "step" ? lastStep : undefined);
  if (progress) summary.progress = progress;
  return { summary, config, epochs };
}

/**
 * A comparison (`tiller optim compare`) trains its members one after another in members/<label>:
 * its progress is theirs, summed.
 */
function compareProgress(run: Run, config: Record<string, unknown>): RunProgress | undefined {
  const members = (config.members as { label?: unknown }[]).map((m) => String(m.label ?? ""));
  if (!members.length || !members.every((m) => NAME_SEGMENT.test(m))) return undefined;
  let step = 0;
  let steps = 0;
  let epoch = 0;
  for (const label of members) {
    const dir = run.path("members", label);
    // Bounded by the comparison's folder: a member linked elsewhere is not read.
    const member = existsSync(join(dir, "config.json")) ? new Run(dir, run.bound) : undefined;
    const events = member?.metrics() ?? [];
    const p = trainingProgress(
      member?.config() ?? config,
      events.filter((e): e is EpochEvent => e.type === "epoch"),
      [...events].reverse().find((e) => e.type === "step"),
    );
    if (!p) return undefined;
    step += p.step;
    steps += p.steps;
    epoch += p.epoch;
  }
  const epochs = members.length * Number(config.epochs);
  return { fraction: steps ? Math.min(1, step / steps) : 0, epoch, epochs, step, steps };
}

/** Progress of a training run from its config and the metrics logged so far. */
export function trainingProgress(
  config: Record<string, unknown>,
  epochs: EpochEvent[],
  lastStep?: { epoch: number; step: number },
): RunProgress | undefined {
  const total = config.epochs;
  const batch = config.batchSize;
  if (typeof total !== "number" || typeof batch !== "number" || total < 1 || batch < 1) return undefined;
  const data = (config.data ?? {}) as { dataset?: string; limit?: number | null };
  const size = TRAIN_SIZES[data.dataset ?? ""];
  const n = size === undefined ? undefined : Math.min(size, data.limit ?? Infinity);
  const stepsPerEpoch = n === undefined ? undefined : Math.ceil(n / batch);
  const epochsDone = epochs.length ? Math.max(...epochs.map((e) => e.epoch)) : 0;
  if (stepsPerEpoch === undefined) {
    return { fraction: Math.min(1, epochsDone / total), epoch: epochsDone, epochs: total, step: 0, steps: 0 };
  }
  const steps = total * stepsPerEpoch;
  const step = Math.max(lastStep?.step ?? 0, epochsDone * stepsPerEpoch);
  return {
    fraction: Math.min(1, step / steps),
    epoch: Math.max(epochsDone, lastStep?.epoch ?? 0),
    epochs: total,
    step,
    steps,
  };
}

function idleSeconds(run: Run): number {
  let last = 0;
  for (const f of ["metrics.jsonl", "status.json"]) {
    try {
      last = Math.max(last, lstatSync(run.path(f)).mtimeMs);
    } catch {
      // not written yet
    }
  }
  return last ? Math.max(0, (Date.now() - last) / 1000) : 0;
}

/** The files a run's analyses produced, as paths relative to the run (checkpoints left out). */
export function listRunFiles(dir: string): RunFileEntry[] {
  const out: RunFileEntry[] = [];
  const visit = (rel: string[], depth: number) => {
    const abs = join(dir, ...rel);
    for (const name of readdirSync(abs).sort()) {
      if (name.startsWith(".") || !NAME_SEGMENT.test(name)) continue;
      const st = lstatSync(join(abs, name));
      if (st.isDirectory()) {
        if (depth < LISTED_DEPTH && !(depth === 0 && SKIPPED_DIRS.has(name)))
          visit([...rel, name], depth + 1);
        continue;
      }
      const ext = extname(name).toLowerCase();
      if (!st.isFile() || !(ext in SERVED_TYPES)) continue;
      const path = [...rel, name].join("/");
      if (depth === 0 && ["config.json", "status.json"].includes(name)) continue;
      out.push({ path, bytes: st.size, kind: fileKind(path, ext) });
    }
  };
  visit([], 0);
  return out;
}

function fileKind(path: string, ext: string): RunFileEntry["kind"] {
  if (ext === ".svg" || ext === ".png") return "figure";
  if (ext === ".html") return "report";
  if (path === "metrics.jsonl" || ext === ".txt") return "log";
  if (ext === ".md") return "report";
  return "data";
}

export function readRunFile(root: string, id: string, segments: string[]): { bytes: Buffer; type: string } {
  const path = runFilePath(root, id, segments);
  return { bytes: readContained(path, runDir(root, id)), type: SERVED_TYPES[extname(path).toLowerCase()] };
}

/** A run's status.json as text, "" while it is not written yet (the event stream polls it). */
export function readStatusText(dir: string): string {
  const path = join(dir, "status.json");
  if (entryKind(path) === undefined) return "";
  return readContainedText(path, dir, 1 << 16).trim();
}
