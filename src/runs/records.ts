/**
 * The shapes of a run's records (config.json, status.json, metrics.jsonl) as reports read them,
 * checked with zod. Files are read through the contained reader (inside the run, regular files,
 * size-limited). Every failure is an Error with a one-line message naming the file and the problem.
 */
import { join } from "node:path";
import { z } from "zod";
import { MAX_JSON_BYTES, MAX_LOG_BYTES, readContainedText, RunStoreError } from "./files.js";
import { RUN_STATUSES } from "./store.js";

export interface StepMetric {
  type: "step";
  epoch: number;
  step: number;
  loss: number | null;
  elapsed_s: number;
}

export interface EpochMetric {
  type: "epoch";
  epoch: number;
  train_loss: number | null;
  train_accuracy: number | null;
  test_loss: number | null;
  test_accuracy: number | null;
  elapsed_s: number;
}

export interface RunMetrics {
  steps: StepMetric[];
  epochs: EpochMetric[];
}

const num = z.number();
// JSON has no NaN/Infinity: a diverged run's loss arrives as null.
const metric = z.number().nullable();

export const RunConfigSchema = z
  .object({
    id: z.string(),
    createdAt: z.string(),
    command: z.string(),
    model: z.object({ name: z.string() }).passthrough(),
    optimizer: z.object({ name: z.string(), lr: num }).passthrough(),
    data: z.object({ dataset: z.string(), limit: num.nullable(), normalize: z.string() }).passthrough(),
    epochs: num,
    batchSize: num,
    seed: num,
    paramCount: num,
  })
  .passthrough();
export type RunConfig = z.infer<typeof RunConfigSchema>;

const count = z.number().int().positive();
const sizes = z.array(count).min(1);

/**
 * A training run's config as far as rebuilding its model and data order needs: wrong types here
 * would otherwise surface deep in the engine (e.g. as a failed free of a NaN pointer).
 */
export const TrainRunConfigSchema = RunConfigSchema.extend({
  command: z.literal("train"),
  model: z
    .object({ name: z.string(), hidden: sizes.optional(), channels: sizes.optional(), dense: count.optional() })
    .passthrough(),
  optimizer: z.object({ name: z.string(), lr: z.number().finite().positive() }).passthrough(),
  data: z
    .object({ dataset: z.string(), limit: count.nullable(), normalize: z.enum(["standardize", "scale"]) })
    .passthrough(),
  epochs: count,
  batchSize: count,
  seed: z.number().int().min(0),
  logEvery: count.optional(),
}).passthrough();

/** config.json of a training run, checked (a one-line error naming the field otherwise). */
export function readTrainRunConfig(dir: string): z.infer<typeof TrainRunConfigSchema> {
  return readJson(dir, "config.json", TrainRunConfigSchema);
}

export const RunStatusSchema = z
  .object({
    status: z.enum(RUN_STATUSES),
    reason: z.string().optional(),
    epochsCompleted: num,
    updatedAt: z.string(),
  })
  .passthrough();
export type RunStatus = z.infer<typeof RunStatusSchema>;

const StepSchema = z.object({
  type: z.literal("step"),
  epoch: num,
  step: num,
  loss: metric,
  elapsed_s: num,
});
const EpochSchema = z.object({
  type: z.literal("epoch"),
  epoch: num,
  train_loss: metric,
  train_accuracy: metric,
  test_loss: metric,
  test_accuracy: metric,
  elapsed_s: num,
});

export interface LoadedMetrics extends RunMetrics {
  /** 1-based numbers of complete lines that were not valid JSON and were skipped (crash debris). */
  skippedLines: number[];
}

function readText(dir: string, name: string, maxBytes = MAX_JSON_BYTES): string {
  const path = join(dir, name);
  try {
    return readContainedText(path, dir, maxBytes);
  } catch (e) {
    const why = (e as Error).message.replace(`${path}: `, "");
    throw new RunStoreError(`${name}: ${/ENOENT/.test(why) ? "file not found" : why} at ${path}`);
  }
}

function describeZod(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
}

function readJson<T>(dir: string, name: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): T {
  const path = join(dir, name);
  const text = readText(dir, name);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${name}: invalid JSON (${(e as Error).message}) at ${path}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new Error(`${name}: unexpected content (${describeZod(parsed.error)}) at ${path}`);
  return parsed.data;
}

export function readRunConfig(dir: string): RunConfig {
  return readJson(dir, "config.json", RunConfigSchema);
}

export function readRunStatus(dir: string): RunStatus {
  return readJson(dir, "status.json", RunStatusSchema);
}

/**
 * A truncated last line is skipped silently; other lines that are not JSON (a crash mid-write
 * followed by a resumed append) are skipped and reported; lines that are JSON but malformed mean a format bug, so they throw.
 * Unknown event types are ignored so the log can grow new kinds. Later lines win per step/epoch.
 */
export function readRunMetrics(dir: string): LoadedMetrics {
  const name = "metrics.jsonl";
  const path = join(dir, name);
  const lines = readText(dir, name, MAX_LOG_BYTES).split("\n");
  const steps = new Map<number, StepMetric>();
  const epochs = new Map<number, EpochMetric>();
  const skippedLines: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      // The final line has no newline while the writer is mid-line (or crashed there): expected, stay quiet.
      if (i < lines.length - 1) skippedLines.push(i + 1);
      return;
    }
    const type = (raw as { type?: unknown } | null)?.type;
    const schema = type === "step" ? StepSchema : type === "epoch" ? EpochSchema : null;
    if (!schema) return;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new Error(`${name}: line ${i + 1}: ${describeZod(parsed.error)} at ${path}`);
    const event = parsed.data;
    if (event.type === "step") steps.set(event.step, event);
    else epochs.set(event.epoch, event);
  });
  return {
    steps: [...steps.values()].sort((a, b) => a.step - b.step),
    epochs: [...epochs.values()].sort((a, b) => a.epoch - b.epoch),
    skippedLines,
  };
}
