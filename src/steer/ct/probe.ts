/**
 * Linear probing: the frozen backbone's features (what the classifier head sees) and a new linear
 * head fitted on them with Adam, keeping the epoch that does best on validation (as the official
 * Curvature Tuning code does).
 */
import { jit, numpy as np, valueAndGrad } from "../../engine/jax.js";
import { keyFromSeed } from "../../engine/prng.js";
import { treeDispose, treeRef, type Params } from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import { epochPermutation } from "../../data/order.js";
import { linear, linearInit, softmaxCrossEntropy, type LinearParams } from "../../nn/layers.js";
import { createModel, headName, type ModelConfig } from "../../nn/models/index.js";
import { applyUpdates, createOptimizer, type OptState } from "../../optim/index.js";

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

export type HeadOptions = { epochs?: number; batchSize?: number; lr?: number; seed?: number };
export type FittedHead = { head: LinearParams; valAccuracy: number; bestEpoch: number };

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
 * Fits a new linear head (Adam, default 10 epochs of batch 64 at lr 1e-3) on `train` features and
 * returns the epoch with the best validation accuracy (the first such epoch on ties).
 */
export async function fitHead(
  train: FeatureSet,
  val: FeatureSet,
  classes: number,
  opts: HeadOptions = {},
): Promise<FittedHead> {
  const { epochs = 10, batchSize = 64, lr = 1e-3, seed = 0 } = opts;
  const optimizer = createOptimizer({ name: "adam", lr });
  let head = linearInit(keyFromSeed(seed), train.dim, classes) as unknown as Params;
  let state: OptState = optimizer.init(head);
  const step = jit((p: Params, s: OptState, x: np.Array, y: np.Array) => {
    const [loss, g] = valueAndGradHead(treeRef(p), x, y);
    const { updates, state: next } = optimizer.update(g, s, p);
    return [applyUpdates(p, updates), next, loss] as [Params, OptState, np.Array];
  });
  let best: FittedHead | null = null;
  const bx = new Float32Array(batchSize * train.dim);
  const by = new Int32Array(batchSize);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = epochPermutation(train.n, seed, epoch - 1);
      for (let start = 0; start < train.n; start += batchSize) {
        const n = Math.min(batchSize, train.n - start);
        for (let i = 0; i < n; i++) {
          const j = order[start + i];
          bx.set(train.x.subarray(j * train.dim, (j + 1) * train.dim), i * train.dim);
          by[i] = train.y[j];
        }
        const x = np.array(bx.subarray(0, n * train.dim)).reshape([n, train.dim]);
        const y = np.array(by.subarray(0, n), { dtype: np.int32 });
        const [next, nextState, loss] = step(head, state, x, y);
        head = next;
        state = nextState;
        loss.dispose();
      }
      const acc = await headAccuracy(head as unknown as LinearParams, val);
      if (!best || acc > best.valAccuracy) {
        if (best) treeDispose(best.head as unknown as Params);
        best = { head: treeRef(head) as unknown as LinearParams, valAccuracy: acc, bestEpoch: epoch };
      }
    }
  } finally {
    step.dispose();
    treeDispose(head);
    treeDispose(state);
  }
  return best!;
}

function valueAndGradHead(p: Params, x: np.Array, y: np.Array): [np.Array, Params] {
  return valueAndGrad((q: Params) => softmaxCrossEntropy(linear(q as unknown as LinearParams, x), y))(p) as [
    np.Array,
    Params,
  ];
}
