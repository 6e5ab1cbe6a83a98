/**
 * Derived classification tasks over a loaded dataset: class subsets (relabelled 0..k−1), held-out
 * validation splits, pixel-space normalisation, and the task names the steering commands accept:
 *
 *   fashion-mnist                      the whole dataset
 *   fashion-mnist:5-9                  classes 5..9 only, relabelled 0..4 (also "0,2,4")
 *   fashion-mnist+gaussian-blur@3      every image corrupted (see corruptions.ts), severity 1..5
 *   fashion-mnist:5-9+rotation@2       both
 */
import type { Dataset, ImageSplit, Normalization } from "./dataset.js";
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, loadFashionMnist } from "./fashion-mnist.js";
import { CORRUPTIONS, corruptSplit, type CorruptionName } from "./corruptions.js";
import { epochPermutation } from "./order.js";
import { UsageError } from "../errors.js";

/** The first `count` examples of a split from `offset` (a view, no copy). */
export function evaluationSubset(split: ImageSplit, count: number, offset = 0): ImageSplit {
  if (!Number.isInteger(count) || count < 1) throw new UsageError(`subset size must be ≥ 1, got ${count}`);
  if (offset < 0 || offset + count > split.n)
    throw new UsageError(`subset [${offset}, ${offset + count}) is outside the split's ${split.n} examples`);
  const dim = split.shape[0] * split.shape[1] * split.shape[2];
  return {
    n: count,
    shape: split.shape,
    images: split.images.subarray(offset * dim, (offset + count) * dim),
    labels: split.labels.subarray(offset, offset + count),
  };
}

/** The examples at `indices` (in that order), as a new split. */
export function takeExamples(split: ImageSplit, indices: ArrayLike<number>): ImageSplit {
  const dim = split.shape[0] * split.shape[1] * split.shape[2];
  const n = indices.length;
  const images = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const j = indices[i];
    images.set(split.images.subarray(j * dim, (j + 1) * dim), i * dim);
    labels[i] = split.labels[j];
  }
  return { n, shape: split.shape, images, labels };
}

/** Keeps the examples whose label is in `classes` and relabels them by position in that list. */
export function classSubset(split: ImageSplit, classes: number[]): ImageSplit {
  const position = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < split.n; i++) if (position.has(split.labels[i])) keep.push(i);
  const out = takeExamples(split, keep);
  for (let i = 0; i < out.n; i++) out.labels[i] = position.get(out.labels[i])!;
  return out;
}

/** A seeded random `size` examples held out of `split` as validation; the rest stays for training. */
export function holdOut(
  split: ImageSplit,
  size: number,
  seed: number,
): { train: ImageSplit; val: ImageSplit } {
  if (!Number.isInteger(size) || size < 1 || size >= split.n)
    throw new UsageError(`validation size must be an integer in [1, ${split.n - 1}], got ${size}`);
  const order = epochPermutation(split.n, seed, 0);
  return {
    val: takeExamples(split, order.subarray(0, size)),
    train: takeExamples(split, order.subarray(size)),
  };
}

/** The first `n` examples (or all, when n is null or larger). */
export function firstExamples(split: ImageSplit, n: number | null | undefined): ImageSplit {
  if (n == null || n >= split.n) return split;
  return takeExamples(
    split,
    Array.from({ length: n }, (_, i) => i),
  );
}

/** Pixels in [0, 1] → the model's input scaling (Fashion-MNIST's mean and std for "standardize"). */
export function normalizePixels(split: ImageSplit, normalize: Normalization): ImageSplit {
  if (normalize === "scale") return split;
  const images = new Float32Array(split.images.length);
  for (let i = 0; i < images.length; i++)
    images[i] = (split.images[i] - FASHION_MNIST_MEAN) / FASHION_MNIST_STD;
  return { ...split, images };
}

export type TaskSpec = {
  base: "fashion-mnist";
  classes: number[] | null;
  corruption: { name: CorruptionName; severity: number } | null;
};

/** Parses a task name ("fashion-mnist:5-9+gaussian-blur@3"); a bad name is a UsageError. */
export function parseTask(name: string): TaskSpec {
  const m = /^([a-z-]+?)(?::([0-9,-]+))?(?:\+([a-z-]+)(?:@(\d))?)?$/.exec(name.trim());
  const hint = `(e.g. fashion-mnist, fashion-mnist:5-9, fashion-mnist+gaussian-blur@3; corruptions: ${CORRUPTIONS.join(", ")})`;
  if (!m || m[1] !== "fashion-mnist") throw new UsageError(`unknown task "${name}" ${hint}`);
  let classes: number[] | null = null;
  if (m[2]) {
    const range = /^(\d)-(\d)$/.exec(m[2]);
    classes = range
      ? Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i)
      : m[2].split(",").map(Number);
    if (
      classes.length < 2 ||
      classes.some((c) => !Number.isInteger(c) || c < 0 || c > 9) ||
      new Set(classes).size !== classes.length
    )
      throw new UsageError(`task "${name}": classes must be at least two distinct labels in 0..9 ${hint}`);
  }
  let corruption: TaskSpec["corruption"] = null;
  if (m[3]) {
    if (!(CORRUPTIONS as readonly string[]).includes(m[3]))
      throw new UsageError(`task "${name}": unknown corruption "${m[3]}" ${hint}`);
    const severity = m[4] ? Number(m[4]) : 3;
    if (severity < 1 || severity > 5) throw new UsageError(`task "${name}": severity must be 1..5`);
    corruption = { name: m[3] as CorruptionName, severity };
  }
  return { base: "fashion-mnist", classes, corruption };
}

export type TaskOptions = {
  dataDir?: string;
  normalize?: Normalization;
  /** Seed of the corruption noise (one draw per split). */
  seed?: number;
  /** Keep only the first N training / test examples of the task (after subsetting). */
  limit?: number | null;
  testLimit?: number | null;
};

/** Loads a task by name: subset, corruption (in pixel space), then the model's normalisation. */
export function loadTask(name: string, opts: TaskOptions = {}): Dataset {
  const spec = parseTask(name);
  const raw = loadFashionMnist({ dataDir: opts.dataDir, normalize: "scale" });
  const seed = opts.seed ?? 0;
  const derive = (split: ImageSplit, limit: number | null | undefined, salt: number) => {
    let s = spec.classes ? classSubset(split, spec.classes) : split;
    s = firstExamples(s, limit);
    if (spec.corruption) s = corruptSplit(s, spec.corruption.name, spec.corruption.severity, seed * 2 + salt);
    return normalizePixels(s, opts.normalize ?? "standardize");
  };
  return {
    name,
    classes: spec.classes ? spec.classes.map((c) => raw.classes[c]) : raw.classes,
    train: derive(raw.train, opts.limit, 0),
    test: derive(raw.test, opts.testLimit, 1),
  };
}
