/**
 * A run's headline for lists (the lab's run table, `tiller runs list`): what it is, the optimiser
 * it used and its best test accuracy — read from wherever that kind of run keeps them. A training
 * run logs test accuracy per epoch; an optimiser comparison keeps its members' in summary.json;
 * Curvature Tuning, SVF and LoRA runs in results.json; an initialiser comparison its error rates
 * in table.json. Nothing here writes; unreadable files count as absent.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readContainedJson } from "./files.js";

export type Headline = {
  /** What the run is: its model for a training run, else its kind ("ct-compare", "svf math"). */
  what?: string;
  /** The optimiser(s): "adam" or "sgd, adam, lion" for a comparison. */
  optimizer?: string;
  lr?: number;
  /** The best test accuracy the run reports anywhere, in [0, 1]. */
  best?: number;
  /** Wall time of the run's work, seconds. */
  duration_s?: number;
};

type Json = Record<string, unknown>;

function readJson(dir: string, name: string): unknown {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  try {
    return readContainedJson(path, dir);
  } catch {
    return undefined;
  }
}

const obj = (v: unknown): Json | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const fraction = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= 1;

const TEST_ACCURACY = new Set(["test_accuracy", "testAccuracy", "best_test_accuracy", "final_test_accuracy"]);
/** Accuracies that are not a test result: validation scores, the landscape's probe of a checkpoint. */
const NOT_TEST = new Set(["center", "validation", "search", "history", "cem", "confusion"]);

/** Every test accuracy in a result file: known keys anywhere, and `accuracy` of a method's row. */
export function testAccuracies(v: unknown, inRow = false): number[] {
  if (Array.isArray(v)) return v.flatMap((x) => testAccuracies(x, inRow));
  const o = obj(v);
  if (!o) return [];
  return Object.entries(o).flatMap(([k, x]) => {
    if (NOT_TEST.has(k)) return [];
    if (TEST_ACCURACY.has(k) || (inRow && k === "accuracy")) return fraction(x) ? [x] : [];
    return typeof x === "object" ? testAccuracies(x, inRow || k === "rows") : [];
  });
}

/** Best accuracy of an initialiser comparison, from its error rates in percent. */
function initBest(table: unknown): number | undefined {
  const rows = obj(table)?.rows;
  if (!Array.isArray(rows)) return undefined;
  const errors = rows.map((r) => obj(r)?.errorRate).filter((e): e is number => typeof e === "number" && Number.isFinite(e));
  return errors.length ? 1 - Math.min(...errors) / 100 : undefined;
}

function describe(config: Json): Pick<Headline, "what" | "optimizer" | "lr"> {
  const request = obj(config.request) ?? {};
  const model = str(obj(config.model)?.name) ?? str(request.model) ?? str(config.model);
  const kind = str(config.command) ?? str(config.kind);
  const adapter = str(obj(config.adapter)?.kind);
  const task = str(obj(config.finetune)?.task) ?? str(config.task);
  const what =
    kind === "train" || (!kind && model)
      ? model
      : [kind === "adapter" ? undefined : kind, adapter, task].filter(Boolean).join(" ") || model;
  const opt = obj(config.optimizer) ?? obj(request.optimizer);
  const members = Array.isArray(config.members)
    ? config.members.map((m) => str(obj(m)?.label) ?? str(obj(obj(m)?.optimizer)?.name)).filter(Boolean)
    : [];
  return {
    what,
    optimizer: members.length ? members.join(", ") : str(opt?.name),
    ...(!members.length && typeof opt?.lr === "number" ? { lr: opt.lr } : {}),
  };
}

/** The headline of the run in `dir` with this config; `epochAccuracies` are its logged test accuracies. */
export function runHeadline(dir: string, config: Json, epochAccuracies: number[] = []): Headline {
  const accs = [
    ...epochAccuracies.filter(fraction),
    ...testAccuracies(readJson(dir, "summary.json"), true),
    ...testAccuracies(readJson(dir, "results.json")),
  ];
  const init = initBest(readJson(dir, "table.json"));
  if (init !== undefined) accs.push(init);
  const tour = obj(readJson(dir, "tour.json"));
  const results = obj(readJson(dir, "results.json"));
  const seconds = [tour?.seconds, results?.elapsed_s].find((s) => typeof s === "number" && s >= 0) as
    | number
    | undefined;
  return {
    ...describe(config),
    ...(accs.length ? { best: Math.max(...accs) } : {}),
    ...(seconds !== undefined ? { duration_s: seconds } : {}),
  };
}
