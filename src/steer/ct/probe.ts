/**
 * Linear probing: the frozen backbone's features (what the classifier head sees) and a new linear
 * head fitted on them with Adam, keeping the epoch that does best on validation (as the official
 * Curvature Tuning code does).
 */
import { jit, numpy as np } from "../../engine/jax.js";
import { keyFromSeed } from "../../engine/prng.js";
import { treeDispose, treeRef, type Params } from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import { linear, linearInit, softmaxCrossEntropy, type LinearParams } from "../../nn/layers.js";
import { createModel, headName, type ModelConfig } from "../../nn/models/index.js";
import { createOptimizer, type OptState } from "../../optim/index.js";
import { DivergedError, divergence, runSteps, scalars, stepFunction } from "../../train/steps.js";

/** Features as a host matrix [n, dim] with the split's labels. */
export type FeatureSet = { x: Float32Array; y: Int32Array; n: number; dim: number };

/** Feature width: the head's input size. Borrows params. */
export function featureDim(config: ModelConfig, params: Params): number {
  return ((params[headName(config)] as LinearParams).weight as np.Array).shape[1];
}

/**
 * The backbone as a model: the same config and weights with the head replaced by the identity,
 * so `apply` returns the head's input exactly (x·I + 0 = x in floating point). Borrows params.
 */
export function backboneOf(config: ModelConfig, params: Params): { config: ModelConfig; params: Params } {
  const dim = featureDim(config, params);
  const out: Params = { ...params, [headName(config)]: { weight: np.eye(dim), bias: np.zeros([dim]) } };
  return { config: { ...config, classes: dim } as ModelConfig, params: out };
}

/** Runs `apply` over a split in batches; returns the outputs [n, k] on the host. Borrows params. */
export async function mapSplit(
  apply: (params: Params, x: np.Array) => np.Array,
  params: Params,
  split: ImageSplit,
  batchSize = 250,
): Promise<{ out: Float32Array; width: number }> {
  const dim = split.shape[0] * split.shape[1] * split.shape[2];
  const chunks: Float32Array[] = [];
  let width = 0;
  for (let start = 0; start < split.n; start += batchSize) {
    const n = Math.min(batchSize, split.n - start);
    const x = np.array(split.images.subarray(start * dim, (start + n) * dim)).reshape([n, ...split.shape]);
    const y = apply(treeRef(params), x);
    width = y.shape[1];
    chunks.push(Float32Array.from((await y.data()) as Float32Array));
  }
  const out = new Float32Array(split.n * width);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return { out, width };
}

/** The features of every example of `splits` under the (frozen) model. Borrows params. */
export async function extractFeatures(
  config: ModelConfig,
  params: Params,
  splits: ImageSplit[],
  batchSize = 250,
): Promise<FeatureSet[]> {
  const backbone = backboneOf(config, params);
  const model = createModel(backbone.config);
  const apply = jit((p: Params, x: np.Array) => model.apply(p, x));
  const head = backbone.params[headName(config)] as Params;
  try {
    const out: FeatureSet[] = [];
    for (const split of splits) {
      const { out: x, width } = await mapSplit(apply, backbone.params, split, batchSize);
      out.push({ x, y: split.labels, n: split.n, dim: width });
    }
    return out;
  } finally {
    apply.dispose();
    treeDispose(head);
  }
}

export type HeadOptions = { steps?: number; lr?: number; evalEvery?: number; seed?: number };
export type FittedHead = { head: LinearParams; valAccuracy: number; bestStep: number };

/** Accuracy of a linear head on a feature set. Borrows the head. */
export async function headAccuracy(head: LinearParams, data: FeatureSet, batchSize = 2000): Promise<number> {
  let correct = 0;
  for (let start = 0; start < data.n; start += batchSize) {
    const n = Math.min(batchSize, data.n - start);
    const x = np.array(data.x.subarray(start * data.dim, (start + n) * data.dim)).reshape([n, data.dim]);
    const y = np.array(data.y.subarray(start, start + n), { dtype: np.int32 });
    const logits = linear(treeRef(head) as LinearParams, x);
    correct += (await np.argmax(logits, -1).equal(y).astype(np.float32).sum().data())[0];
  }
  return correct / data.n;
}

/**
 * Fits a new linear head by full-batch Adam (default 300 steps at lr 1e-2) on the `train` features,
 * checking validation accuracy every `evalEvery` steps and returning the best head (the first on
 * ties). The official code runs mini-batch Adam (batch 32, 20 epochs, lr 1e-3) and keeps the best
 * epoch; full batch with the steps unrolled inside one compiled call is the same convex problem at a
 * small fraction of jax-js's per-call cost. Each call is one step of the shared loop (steps.ts), its
 * loss and gradient norm the sums over the unrolled steps, so a non-finite one throws DivergedError.
 */
export async function fitHead(
  train: FeatureSet,
  val: FeatureSet,
  classes: number,
  opts: HeadOptions = {},
): Promise<FittedHead> {
  const { steps = 300, lr = 1e-2, evalEvery = 10, seed = 0 } = opts;
  const optimizer = createOptimizer({ name: "adam", lr });
  let head = linearInit(keyFromSeed(seed), train.dim, classes) as unknown as Params;
  let state: OptState = optimizer.init(head);
  const xs = np.array(train.x).reshape([train.n, train.dim]);
  const ys = np.array(train.y, { dtype: np.int32 });
  const xv = np.array(val.x).reshape([val.n, val.dim]);
  const yv = np.array(val.y, { dtype: np.int32 });
  const update = stepFunction(
    (q: Params, x: np.Array, y: np.Array): [np.Array, np.Array] => [
      softmaxCrossEntropy(linear(q as unknown as LinearParams, x), y),
      np.zeros([]),
    ],
    optimizer,
  );
  // `evalEvery` Adam steps, then the validation count, in one compiled call.
  const chunk = jit((p: Params, s: OptState, x: np.Array, y: np.Array, vx: np.Array, vy: np.Array) => {
    let lossSum = np.zeros([]);
    let normSum = np.zeros([]);
    for (let i = 0; i < evalEvery; i++) {
      const [next, nextState, loss, aux, gradNorm] = update(p, s, [x.ref, y.ref]);
      aux.dispose();
      [p, s, lossSum, normSum] = [next, nextState, lossSum.add(loss), normSum.add(gradNorm)];
    }
    x.dispose();
    y.dispose();
    const correct = np
      .argmax(linear(treeRef(p) as unknown as LinearParams, vx), -1)
      .equal(vy)
      .astype(np.float32)
      .sum();
    return [p, s, correct, lossSum, normSum] as [Params, OptState, np.Array, np.Array, np.Array];
  });
  let best = null as FittedHead | null; // set inside the loop's callbacks
  const result = await runSteps({
    steps: Math.floor(steps / evalEvery),
    async step(k) {
      const [next, nextState, correct, lossSum, normSum] = chunk(head, state, xs.ref, ys.ref, xv.ref, yv.ref);
      [head, state] = [next, nextState];
      const [right, loss, gradNorm] = await scalars(correct, lossSum, normSum);
      const acc = right / val.n;
      if (Number.isFinite(loss) && Number.isFinite(gradNorm) && (!best || acc > best.valAccuracy)) {
        if (best) treeDispose(best.head as unknown as Params);
        best = { head: treeRef(head) as unknown as LinearParams, valAccuracy: acc, bestStep: k * evalEvery };
      }
      return { loss, gradNorm };
    },
    diverged: async (k, r) =>
      `linear probe: ${divergence(r)} in steps ${(k - 1) * evalEvery + 1}–${k * evalEvery}`,
    dispose() {
      chunk.dispose();
      for (const a of [xs, ys, xv, yv]) a.dispose();
      treeDispose(head);
      treeDispose(state);
    },
  });
  if (result.status !== "done") {
    treeDispose(best?.head as unknown as Params);
    throw new DivergedError(result.reason ?? "linear probe stopped");
  }
  return best!;
}
