/**
 * Transfer by gradient descent on part of a model, the baselines Curvature Tuning is compared
 * with. Each method is an adapter (steer/adapter.ts): which tensors train (`trainable`, grouped by
 * top-level key, each group with its own Adam learning rate), which stay frozen, and how the two
 * build the model's params. The classifier head is always new (the task's classes) and always trains.
 *
 * - trainable CT: every ReLU → CTU with β and c per channel, raw values (β = σ(raw)) starting at
 *   β ≈ 0.8, c = 0.5 as the official code; learning rate 0.1 for them, the head's for the head.
 * - LoRA (Hu et al. 2022, steer/lora/lora.ts): every linear and conv weight W of the backbone gets
 *   W + (α/r)·B·A with A ∈ ℝ^{r×fan_in} kaiming-uniform (a = √5) and B ∈ ℝ^{out×r} zero, the
 *   standard initialisation (the official CT code draws B and zeroes A instead: the same start,
 *   W′ = W, but the first gradient then reaches A, not B); a conv's B·A is reshaped to [out, in, kh, kw].
 * - full fine-tuning: every backbone tensor trains (its own, smaller learning rate).
 */
import { jit, numpy as np } from "../../engine/jax.js";
import { keyFromSeed } from "../../engine/prng.js";
import { countParams, namedLeaves, setPath, treeDispose, treeRef, type Params } from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import { batchCount, gatherBatch } from "../../data/batches.js";
import { epochPermutation } from "../../data/order.js";
import { CTU_INIT } from "../../nn/activations.js";
import { linearInit, softmaxCrossEntropy } from "../../nn/layers.js";
import { activationSites, createModel, headName, type ModelConfig } from "../../nn/models/index.js";
import { createOptimizer, type GradientTransformation, type OptState } from "../../optim/index.js";
import { batchLossAndCorrect } from "../../train/evaluate.js";
import { DivergedError, divergence, jitStep, runSteps, scalars } from "../../train/steps.js";
import type { Adapter } from "../adapter.js";
import { loraInit, loraParams } from "../lora/lora.js";
import { UsageError } from "../../errors.js";

/** An adapter of a vision model: the model it builds, and a learning rate per top-level group of `trainable`. */
export type Parametrisation = Adapter & { config: ModelConfig; lr: Record<string, number> };

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
    kind: "linear probe",
    describe: {},
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
    kind: "trainable CT",
    describe: {},
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
  const opts = { rank: o.rank ?? 1, alpha: o.alpha ?? o.rank ?? 1 };
  const head = headName(config);
  const targets = adaptableWeights(config, params).map(([name]) => name);
  const frozen = treeRef(withoutHead(config, params));
  return {
    kind: `LoRA (r=${opts.rank})`,
    describe: { rank: opts.rank, alpha: opts.alpha },
    config: retarget(config, o.classes),
    trainable: {
      head: newHead(config, params, o.classes, o.seed ?? 0),
      lora: loraInit(keyFromSeed((o.seed ?? 0) + 1), frozen, targets, opts),
    },
    frozen,
    lr: { head: o.headLr ?? 1e-3, lora: o.loraLr ?? 1e-3 },
    build: (t, f) => ({ ...loraParams(f, t.lora as Params, targets, opts), [head]: t.head }),
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
    kind: "full fine-tuning",
    describe: {},
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
 * Trains `p.trainable` with Adam (per-group learning rates) on `data.train` on the shared step loop,
 * evaluates on `data.val` after every epoch, keeps the best epoch, and reports its test accuracy.
 * A non-finite loss or gradient throws DivergedError naming the step. Consumes the adapter's tensors.
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
  const step = jitStep(
    (tr: Params, f: Params, x: np.Array, y: np.Array): [np.Array, np.Array] => [
      softmaxCrossEntropy(model.apply(p.build(tr, f), x), y),
      np.zeros([]),
    ],
    optimizer,
  );
  const objective = batchLossAndCorrect(model);
  const evalStep = jit((tr: Params, f: Params, x: np.Array, y: np.Array) => objective(p.build(tr, f), x, y));
  const perEpoch = batchCount(data.train.n, batchSize);
  const epochOf = (s: number) => Math.ceil(s / perEpoch);
  let order: Uint32Array = new Uint32Array(0);
  let lossSum = 0;
  // Set inside the loop's callbacks, which TypeScript's narrowing does not follow.
  let best = null as { t: Params; val: number; epoch: number } | null;
  let testAccuracy = 0;
  const result = await runSteps({
    steps: epochs * perEpoch,
    async step(s) {
      const i = (s - 1) % perEpoch;
      if (i === 0) [order, lossSum] = [epochPermutation(data.train.n, seed, epochOf(s) - 1), 0];
      const b = gatherBatch(data.train, order, i * batchSize, batchSize);
      const x = np.array(b.x).reshape([b.size, ...data.train.shape]);
      const y = np.array(b.y, { dtype: np.int32 });
      const [next, nextState, l, aux, g] = step(t, state, treeRef(p.frozen), x, y);
      [t, state] = [next, nextState];
      aux.dispose();
      const [loss, gradNorm] = await scalars(l, g);
      lossSum += loss * b.size;
      if (Number.isFinite(loss)) opts.onStep?.({ epoch: epochOf(s), step: i + 1, steps: perEpoch, loss });
      return { loss, gradNorm };
    },
    async after(s) {
      if (s % perEpoch !== 0) return false;
      const val = await accuracy(evalStep, t, p.frozen, data.val, evalBatchSize);
      opts.onEpoch?.({ epoch: epochOf(s), valAccuracy: val, trainLoss: lossSum / data.train.n });
      if (!best || val > best.val) {
        if (best) treeDispose(best.t);
        best = { t: treeRef(t), val, epoch: epochOf(s) };
      }
      return false;
    },
    async finish() {
      testAccuracy = await accuracy(evalStep, best!.t, p.frozen, data.test, evalBatchSize);
    },
    diverged: async (s, r) => `${p.kind}: ${divergence(r)} at epoch ${epochOf(s)}, step ${s}`,
    dispose() {
      step.dispose();
      evalStep.dispose();
      treeDispose(t);
      treeDispose(state);
      treeDispose(p.frozen);
    },
  });
  if (result.status !== "done") {
    treeDispose(best?.t);
    throw new DivergedError(result.reason ?? `${p.kind}: stopped at step ${result.step}`);
  }
  const kept = best!;
  return {
    method: p.kind,
    trainableParams,
    valAccuracy: kept.val,
    testAccuracy,
    bestEpoch: kept.epoch,
    trainable: kept.t,
  };
}
