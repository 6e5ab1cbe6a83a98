/**
 * The verifiable task suite: families by name, seeded train/validation/test splits, the prompt
 * template and the exact-match checker.
 *
 * Validation and test sets are canonical: generated from a fixed seed, so every run (pretraining,
 * every expert, LoRA, evaluation) is scored on the same questions. Training examples come from the
 * run's seed and never repeat a validation or test question.
 */
import { UsageError } from "../../errors.js";
import { COMPOSED_FAMILIES, type ComposedFamily } from "./dispatch.js";
import { FAMILIES, type TaskExample, type TaskFamily } from "./families.js";
import { createRng, hashSeed } from "../../engine/rng.js";

export type { TaskExample, TaskFamily };
export { FAMILIES };

export const TASK_NAMES = FAMILIES.map((f) => f.name);
export const TRAINING_TASKS = FAMILIES.filter((f) => !f.heldOut).map((f) => f.name);
export const HELD_OUT_TASKS = FAMILIES.filter((f) => f.heldOut).map((f) => f.name);
/** The default pretraining mixture: the expert families plus the adaptation prompt ("dispatch"). */
export const PRETRAIN_TASKS = [...TRAINING_TASKS, "dispatch"];

/** Answers of the suite's families fit in this many tokens (EOS included). */
export const DEFAULT_ANSWER_TOKENS = 10;

/** Every character a task prompt or answer can contain (the character tokenizer's alphabet). */
export const TASK_ALPHABET =
  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,?;:=+-*()[]'\n\\{}";

export const EVAL_SPLIT_SIZE = 256;
const EVAL_SEED = 0;

export function getFamily(name: string): TaskFamily {
  const f = FAMILIES.find((x) => x.name === name) ?? COMPOSED_FAMILIES.find((x) => x.name === name);
  if (!f)
    throw new UsageError(
      `unknown task "${name}" (choose from: ${[...TASK_NAMES, ...COMPOSED_FAMILIES.map((c) => c.name)].join(", ")})`,
    );
  return f;
}

/** Tokens to generate for answers of these families (the longest any of them needs). */
export function answerTokens(names: Iterable<string>): number {
  let n = DEFAULT_ANSWER_TOKENS;
  for (const name of new Set(names)) n = Math.max(n, getFamily(name).answerTokens ?? DEFAULT_ANSWER_TOKENS);
  return n;
}

/** Parses "math,code" into family names, checking each. */
export function parseTaskList(value: string): string[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new UsageError("expected at least one task name");
  names.forEach(getFamily);
  return [...new Set(names)];
}

/**
 * Parses a pretraining mixture, "math,code,reasoning:3": family names, each optionally weighted
 * (default 1; the stream draws a family with probability weight / sum). Weights are returned only
 * when some differ, so an unweighted mixture keeps the uniform stream exactly.
 */
export function parseTaskMixture(value: string): { tasks: string[]; weights?: number[] } {
  const entries = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [name, w, ...rest] = s.split(":");
      const weight = w === undefined ? 1 : Number(w);
      if (rest.length || !(weight > 0) || !Number.isFinite(weight))
        throw new UsageError(
          `bad task weight in "${s}" (expected name or name:weight with a positive weight)`,
        );
      return { name, weight };
    });
  const tasks = parseTaskList(entries.map((e) => e.name).join(","));
  if (tasks.length !== entries.length) throw new UsageError(`a task is listed twice in "${value}"`);
  const weights = entries.map((e) => e.weight);
  return weights.every((w) => w === weights[0]) ? { tasks } : { tasks, weights };
}

/** A mixture as written on the command line: "math,code" or, weighted, "math:1,reasoning:3". */
export function mixtureLabel(tasks: string[], weights?: number[], separator = ","): string {
  return tasks.map((t, i) => (weights ? `${t}:${weights[i]}` : t)).join(separator);
}

/** The prompt a model sees; the answer follows it directly, then EOS. */
export function promptText(question: string): string {
  return `${question}\nA:`;
}

/** Exact match after trimming surrounding whitespace. */
export function isCorrect(output: string, answer: string): boolean {
  return output.trim() === answer;
}

/** +1 for a correct answer, −1 otherwise (the REINFORCE reward). */
export function reward(output: string, answer: string): number {
  return isCorrect(output, answer) ? 1 : -1;
}

function uniqueExamples(family: TaskFamily, n: number, seed: number, exclude: Set<string>): TaskExample[] {
  const rng = createRng(seed);
  const out: TaskExample[] = [];
  const seen = new Set(exclude);
  for (let attempts = 0; out.length < n; attempts++) {
    if (attempts > 50 * n + 1000)
      throw new Error(`task ${family.name}: cannot find ${n} distinct questions (got ${out.length})`);
    const ex = family.generate(rng);
    if (seen.has(ex.question)) continue;
    seen.add(ex.question);
    out.push(ex);
  }
  return out;
}

const evalCache = new Map<string, { validation: TaskExample[]; test: TaskExample[] }>();

/** The canonical validation and test sets of a family (EVAL_SPLIT_SIZE each, disjoint). */
export function evalSplits(name: string): { validation: TaskExample[]; test: TaskExample[] } {
  let splits = evalCache.get(name);
  if (!splits) {
    const family = getFamily(name);
    const test = uniqueExamples(family, EVAL_SPLIT_SIZE, hashSeed(`${name}/test/${EVAL_SEED}`), new Set());
    const validation = uniqueExamples(
      family,
      EVAL_SPLIT_SIZE,
      hashSeed(`${name}/validation/${EVAL_SEED}`),
      new Set(test.map((e) => e.question)),
    );
    splits = { validation, test };
    evalCache.set(name, splits);
  }
  return splits;
}

/** `n` distinct training examples of a family for a run seed, none of them a validation or test question. */
export function trainSplit(name: string, n: number, seed: number): TaskExample[] {
  const family = getFamily(name);
  const held = [name, ...((family as Partial<ComposedFamily>).components ?? []).map((c) => c.name)];
  const exclude = new Set(held.flatMap((h) => Object.values(evalSplits(h)).flat()).map((e) => e.question));
  return uniqueExamples(getFamily(name), n, hashSeed(`${name}/train/${seed}`), exclude);
}

/**
 * An endless stream of training examples from a mixture of families (uniform over families, or
 * in proportion to `weights`), for pretraining; reproducible from the seed, never a validation or
 * test question.
 */
export function* trainStream(names: string[], seed: number, weights?: number[]): Generator<TaskExample> {
  const families = names.map(getFamily);
  const exclude = new Set(
    names.flatMap((n) =>
      Object.values(evalSplits(n))
        .flat()
        .map((e) => e.question),
    ),
  );
  if (weights && weights.length !== names.length)
    throw new UsageError(`${weights.length} task weights for ${names.length} tasks`);
  const rng = createRng(hashSeed(`mixture/${mixtureLabel(names, weights)}/${seed}`));
  const total = weights?.reduce((a, b) => a + b, 0) ?? 0;
  const draw = () => {
    if (!weights) return rng.pick(families);
    let u = rng.next() * total;
    for (let i = 0; i < families.length; i++) if ((u -= weights[i]) < 0) return families[i];
    return families[families.length - 1];
  };
  for (;;) {
    const ex = draw().generate(rng);
    if (!exclude.has(ex.question)) yield ex;
  }
}
