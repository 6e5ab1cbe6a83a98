/**
 * Transfer by gradient descent on part of a model, the baselines Curvature Tuning is compared
 * with. Each method is a parametrisation: which tensors train (`trainable`, grouped by top-level
 * key, each group with its own Adam learning rate), which stay frozen, and how the two build the
 * model's params. The classifier head is always new (the task's classes) and always trains.
 *
 * - trainable CT: every ReLU → CTU with β and c per channel, raw values (β = σ(raw)) starting at
 *   β ≈ 0.8, c = 0.5 as the official code; learning rate 0.1 for them, the head's for the head.
 * - LoRA (Hu et al. 2022): every linear and conv weight W of the backbone gets W + (α/r)·B·A with
 *   B ∈ ℝ^{out×r} (kaiming-uniform, a = √5, as the official CT code), A ∈ ℝ^{r×fan_in} zero;
 *   a conv's B·A is reshaped to [out, in, kh, kw].
 * - full fine-tuning: every backbone tensor trains (its own, smaller learning rate).
 */
import { jit, numpy as np, random, valueAndGrad } from "../../engine/jax.js";
import { keyFromSeed, splitKey } from "../../engine/prng.js";
import {
  countParams,
  getPath,
  leafAt,
  namedLeaves,
  setPath,
  treeDispose,
  treeRef,
  type Params,
} from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import { batchCount, gatherBatch } from "../../data/batches.js";
import { epochPermutation } from "../../data/order.js";
import { CTU_INIT } from "../../nn/activations.js";
import { linearInit, softmaxCrossEntropy } from "../../nn/layers.js";
import { activationSites, createModel, headName, type ModelConfig } from "../../nn/models/index.js";
import {
  applyUpdates,
  createOptimizer,
  type GradientTransformation,
  type OptState,
} from "../../optim/index.js";
import { batchLossAndCorrect } from "../../train/evaluate.js";
import { UsageError } from "../../errors.js";

export type Parametrisation = {
  method: string;
  config: ModelConfig;
  trainable: Params;
  frozen: Params;
  /** Learning rate per top-level group of `trainable`. */
  lr: Record<string, number>;
  /** The model's params from both parts (consumes both). */
  build(trainable: Params, frozen: Params): Params;
};

/** Adam per group: `trainable.head` with lr.head, `trainable.ct` with lr.ct, … */
export function groupedAdam(lr: Record<string, number>): GradientTransformation {
  const parts = Object.fromEntries(
    Object.entries(lr).map(([k, v]) => [k, createOptimizer({ name: "adam", lr: v })]),
  );
  return {
    init: (params) =>
      Object.fromEntries(Object.keys(parts).map((k) => [k, parts[k].init(params[k] as Params)])),
    update(updates, state, params) {
      const u: Params = {};
      const s: OptState = {};
      for (const k of Object.keys(parts)) {
        const r = parts[k].update(updates[k] as Params, state[k] as OptState, params[k] as Params);
        u[k] = r.updates;
        s[k] = r.state;
      }
      return { updates: u, state: s };
    },
  };
}

/** The backbone: everything but the head. Borrows nothing (a shallow view). */
function withoutHead(config: ModelConfig, params: Params): Params {
  const rest = { ...params };
  delete rest[headName(config)];
  return rest;
}

/** The backbone's tensors with the classes changed to `classes`. */
function retarget(config: ModelConfig, classes: number): ModelConfig {
  return { ...config, classes } as ModelConfig;
}

function newHead(config: ModelConfig, params: Params, classes: number, seed: number): Params {
  const dim = ((params[headName(config)] as Params).weight as np.Array).shape[1];
  return linearInit(keyFromSeed(seed), dim, classes) as unknown as Params;
}

export type MethodOptions = { classes: number; seed?: number; headLr?: number };

/** Linear probe (as a parametrisation; the feature path in probe.ts is the fast equivalent). Borrows params. */
export function linearProbe(config: ModelConfig, params: Params, o: MethodOptions): Parametrisation {
  const head = headName(config);
  return {
    method: "linear probe",
    config: retarget(config, o.classes),
    trainable: { head: newHead(config, params, o.classes, o.seed ?? 0) },
    frozen: treeRef(withoutHead(config, params)),
    lr: { head: o.headLr ?? 1e-3 },
    build: (t, f) => ({ ...f, [head]: t.head }),
  };
}

/** Trainable CT: per-channel β, c (raw) and a new head. Borrows params. */
export function trainableCt(
  config: ModelConfig,
  params: Params,
  o: MethodOptions & { ctLr?: number },
): Parametrisation {
  const head = headName(config);
  if (config.activation !== "relu")
    throw new UsageError(`trainable CT replaces relu, but this ${config.name} uses ${config.activation}`);
  const nodes: Params = {};
  for (const { name, size } of activationSites(config))
    nodes[name.replace(/\./g, "/")] = {
      beta: np.full([size], CTU_INIT.rawBeta),
      c: np.full([size], CTU_INIT.rawC),
    };
  const frozen = treeRef(withoutHead(config, params));
  return {
    method: "trainable CT",
    config: retarget({ ...config, activation: "ctu" } as ModelConfig, o.classes),
    trainable: { head: newHead(config, params, o.classes, o.seed ?? 0), ct: nodes },
    frozen,
    lr: { head: o.headLr ?? 1e-3, ct: o.ctLr ?? 0.1 },
    build: (t, f) => {
      const out: Params = { ...f, [head]: t.head };
      for (const [k, v] of Object.entries(t.ct as Params)) setPath(out, k.replace(/\//g, "."), v as Params);
      return out;
    },
  };
}

/** Names of the backbone's linear and conv weights (2-D or 4-D tensors called "weight"). */
export function adaptableWeights(config: ModelConfig, params: Params): [string, number[]][] {
  return namedLeaves(withoutHead(config, params))
    .filter(([n, x]) => n.endsWith(".weight") && (x.ndim === 2 || x.ndim === 4))
    .map(([n, x]) => [n, x.shape]);
}

/** LoRA of rank r (α = r, so the scale α/r is 1, as the official code) on every backbone weight. Borrows params. */
export function lora(
  config: ModelConfig,
  params: Params,
  o: MethodOptions & { rank?: number; alpha?: number; loraLr?: number },
): Parametrisation {
  const r = o.rank ?? 1;
  const scale = (o.alpha ?? r) / r;
  const head = headName(config);
  const weights = adaptableWeights(config, params);
  const keys = splitKey(keyFromSeed((o.seed ?? 0) + 1), weights.length + 1);
  keys.pop()!.dispose();
  const adapters: Params = {};
  weights.forEach(([name, shape], i) => {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const bound = 1 / Math.sqrt(r); // kaiming_uniform(a=√5) on [out, r]: U(−1/√r, 1/√r)
    adapters[name.replace(/\./g, "/")] = {
      B: random.uniform(keys[i], [shape[0], r], { minval: -bound, maxval: bound }),
      A: np.zeros([r, fanIn]),
    };
  });
  return {
    method: `LoRA (r=${r})`,
    config: retarget(config, o.classes),
    trainable: { head: newHead(config, params, o.classes, o.seed ?? 0), lora: adapters },
    frozen: treeRef(withoutHead(config, params)),
    lr: { head: o.headLr ?? 1e-3, lora: o.loraLr ?? 1e-3 },
    build: (t, f) => {
      const out: Params = { ...f, [head]: t.head };
      for (const [k, ab] of Object.entries(t.lora as Params)) {
        const path = k.replace(/\//g, ".");
        const { A, B } = ab as { A: np.Array; B: np.Array };
        const w = leafAt(f, path);
        const parent = path.slice(0, -".weight".length);
        const delta = np.matmul(B, A).mul(scale).reshape(w.shape);
        setPath(out, parent, { ...(getPath(f, parent) as Params), weight: w.add(delta) });
      }
      return out;
    },
  };
}

/** Full fine-tuning: every backbone tensor and a new head. Borrows params. */
export function fullFineTune(
  config: ModelConfig,
  params: Params,
  o: MethodOptions & { backboneLr?: number },
): Parametrisation {
  const head = headName(config);
  return {
    method: "full fine-tuning",
    config: retarget(config, o.classes),
    trainable: {
      head: newHead(config, params, o.classes, o.seed ?? 0),
      backbone: treeRef(withoutHead(config, params)),
    },
    frozen: {},
    lr: { head: o.headLr ?? 1e-3, backbone: o.backboneLr ?? 1e-4 },
    build: (t) => ({ ...(t.backbone as Params), [head]: t.head }),
  };
}

export type FineTuneOptions = {
  epochs?: number;
  batchSize?: number;
  seed?: number;
  evalBatchSize?: number;
  onEpoch?(info: { epoch: number; valAccuracy: number; trainLoss: number }): void;
  onStep?(info: { epoch: number; step: number; steps: number; loss: number }): void;
};

export type FineTuneResult = {
  method: string;
  trainableParams: number;
  valAccuracy: number;
  testAccuracy: number;
  bestEpoch: number;
  /** The best (by validation) trainable tensors; the caller owns them. */
  trainable: Params;
};

/** Accuracy of a parametrisation on a split. Borrows trainable and frozen. */
async function accuracy(
  step: (t: Params, f: Params, x: np.Array, y: np.Array) => [np.Array, np.Array],
  t: Params,
  f: Params,
  split: ImageSplit,
  batchSize: number,
): Promise<number> {
  const dim = split.shape[0] * split.shape[1] * split.shape[2];
  let correct = 0;
  for (let start = 0; start < split.n; start += batchSize) {
    const n = Math.min(batchSize, split.n - start);
    const x = np.array(split.images.subarray(start * dim, (start + n) * dim)).reshape([n, ...split.shape]);
    const y = np.array(split.labels.subarray(start, start + n), { dtype: np.int32 });
    const [l, c] = step(treeRef(t), treeRef(f), x, y);
    l.dispose();
    correct += (await c.data())[0];
  }
  return correct / split.n;
}

/**
 * Trains `p.trainable` with Adam (per-group learning rates) on `data.train`, evaluates on
 * `data.val` after every epoch, keeps the best epoch, and reports its test accuracy.
 * Consumes the parametrisation's tensors.
 */
export async function fineTune(
  p: Parametrisation,
  data: { train: ImageSplit; val: ImageSplit; test: ImageSplit },
  opts: FineTuneOptions = {},
): Promise<FineTuneResult> {
  const { epochs = 5, batchSize = 128, seed = 0, evalBatchSize = 250 } = opts;
  const model = createModel(p.config);
  const optimizer = groupedAdam(p.lr);
  const trainableParams = countParams(p.trainable);
  let t = p.trainable;
  let state = optimizer.init(t);
  const loss = (tr: Params, f: Params, x: np.Array, y: np.Array) =>
    softmaxCrossEntropy(model.apply(p.build(tr, f), x), y);
  const step = jit((tr: Params, s: OptState, f: Params, x: np.Array, y: np.Array) => {
    const [l, g] = valueAndGrad(loss)(treeRef(tr), f, x, y);
    const { updates, state: next } = optimizer.update(g, s, tr);
    return [applyUpdates(tr, updates), next, l] as [Params, OptState, np.Array];
  });
  const objective = batchLossAndCorrect(model);
  const evalStep = jit((tr: Params, f: Params, x: np.Array, y: np.Array) => objective(p.build(tr, f), x, y));
  let best: { t: Params; val: number; epoch: number } | null = null;
  const steps = batchCount(data.train.n, batchSize);
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = epochPermutation(data.train.n, seed, epoch - 1);
      let lossSum = 0;
      for (let i = 0; i < steps; i++) {
        const b = gatherBatch(data.train, order, i * batchSize, batchSize);
        const x = np.array(b.x).reshape([b.size, ...data.train.shape]);
        const y = np.array(b.y, { dtype: np.int32 });
        const [next, nextState, l] = step(t, state, treeRef(p.frozen), x, y);
        t = next;
        state = nextState;
        const value = (await l.data())[0];
        if (!Number.isFinite(value)) throw new Error(`${p.method}: loss became ${value} at epoch ${epoch}`);
        lossSum += value * b.size;
        opts.onStep?.({ epoch, step: i + 1, steps, loss: value });
      }
      const val = await accuracy(evalStep, t, p.frozen, data.val, evalBatchSize);
      opts.onEpoch?.({ epoch, valAccuracy: val, trainLoss: lossSum / data.train.n });
      if (!best || val > best.val) {
        if (best) treeDispose(best.t);
        best = { t: treeRef(t), val, epoch };
      }
    }
    const test = await accuracy(evalStep, best!.t, p.frozen, data.test, evalBatchSize);
    return {
      method: p.method,
      trainableParams,
      valAccuracy: best!.val,
      testAccuracy: test,
      bestEpoch: best!.epoch,
      trainable: best!.t,
    };
  } finally {
    step.dispose();
    evalStep.dispose();
    treeDispose(t);
    treeDispose(state);
    treeDispose(p.frozen);
  }
}
