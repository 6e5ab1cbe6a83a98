/**
 * Layers as init/apply pairs over param trees, PyTorch layouts (Linear weight [out, in], Conv2d
 * weight [out, in, kh, kw]) so checkpoints and reference fixtures line up with PyTorch.
 * Every apply function takes ownership of its params and inputs.
 */
import { nn, numpy as np, random } from "../engine/jax.js";
import { conv2d, maxPool2d, avgPool2d } from "../engine/conv.js";
import { splitKey, type Key } from "../engine/prng.js";
import type { Params } from "../engine/tree.js";
import { computeFans } from "../init/fans.js";
import { TORCH_DEFAULT_INIT, type LayerInit } from "./init.js";
import { logSoftmax } from "./activations.js";

export type LinearParams = { weight: np.Array; bias: np.Array };

/**
 * A weight of `shape` ([out, in, …kernel], PyTorch's layout) and a bias of [out]; the bias rule gets
 * the weight's fan_in (in · kernel size), as PyTorch's Linear and Conv2d compute it.
 */
function weightAndBias(key: Key, shape: number[], init: LayerInit): { weight: np.Array; bias: np.Array } {
  const [kw, kb] = splitKey(key, 2);
  return { weight: init.weight(kw, shape), bias: init.bias(kb, [shape[0]], computeFans(shape).fanIn) };
}

export function linearInit(
  key: Key,
  inFeatures: number,
  outFeatures: number,
  init: LayerInit = TORCH_DEFAULT_INIT,
): LinearParams {
  return weightAndBias(key, [outFeatures, inFeatures], init);
}

/** y = x Wᵀ + b over the last axis of x. */
export function linear(p: LinearParams, x: np.Array): np.Array {
  return np.matmul(x, p.weight.transpose()).add(p.bias);
}

export type Conv2dParams = { weight: np.Array; bias: np.Array };

export function conv2dInit(
  key: Key,
  inChannels: number,
  outChannels: number,
  kernel: number,
  init: LayerInit = TORCH_DEFAULT_INIT,
): Conv2dParams {
  return weightAndBias(key, [outChannels, inChannels, kernel, kernel], init);
}

/** NCHW convolution plus a per-channel bias. */
export function conv2dLayer(
  p: Conv2dParams,
  x: np.Array,
  opts: { stride?: number; padding?: "SAME" | "VALID" | number } = {},
): np.Array {
  const y = conv2d(x, p.weight, opts);
  return y.add(p.bias.reshape([1, -1, 1, 1]));
}

export { maxPool2d, avgPool2d };

export type NormParams = { weight: np.Array; bias: np.Array };

export function layerNormInit(features: number): NormParams {
  return { weight: np.ones([features]), bias: np.zeros([features]) };
}

/** (x − mean) / √(var + eps) · γ + β over the last axis (biased variance, as PyTorch). */
export function layerNorm(p: NormParams, x: np.Array, eps = 1e-5): np.Array {
  const mean = x.ref.mean(-1, { keepdims: true });
  const centred = x.sub(mean);
  const variance = np.square(centred.ref).mean(-1, { keepdims: true });
  return centred
    .div(np.sqrt(variance.add(eps)))
    .mul(p.weight)
    .add(p.bias);
}

/**
 * Group normalisation (Wu & He 2018) of NCHW activations: statistics per example over each group of
 * C/groups channels and all positions (biased variance), then γ, β per channel — PyTorch's
 * `GroupNorm(groups, C)`. Stateless, so a model with it stays a pure `apply(params, x)`.
 */
export function groupNorm(p: NormParams, x: np.Array, groups: number, eps = 1e-5): np.Array {
  const [n, c, h, w] = x.shape;
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels do not split into ${groups} groups`);
  const g = x.reshape([n, groups, (c / groups) * h * w]);
  const mean = g.ref.mean(-1, { keepdims: true });
  const centred = g.sub(mean);
  const variance = np.square(centred.ref).mean(-1, { keepdims: true });
  return centred
    .div(np.sqrt(variance.add(eps)))
    .reshape([n, c, h, w])
    .mul(p.weight.reshape([1, -1, 1, 1]))
    .add(p.bias.reshape([1, -1, 1, 1]));
}

/** Groups for `channels`: 32 as the GroupNorm paper, or the largest divisor ≤ channels/2 when fewer. */
export function groupsFor(channels: number): number {
  for (let g = Math.min(32, Math.max(1, channels >> 1)); g > 1; g--) if (channels % g === 0) return g;
  return 1;
}

export type BatchNormState = { runningMean: np.Array; runningVar: np.Array };

export function batchNormInit(features: number): { params: NormParams; state: BatchNormState } {
  return {
    params: layerNormInit(features),
    state: { runningMean: np.zeros([features]), runningVar: np.ones([features]) },
  };
}

/**
 * Batch normalisation over the channel axis 1 of [N, C] or [N, C, H, W] inputs. In training it
 * normalises with the batch statistics (biased variance) and returns running statistics updated
 * with `momentum` using the unbiased variance, as PyTorch does; in eval it uses the running ones.
 */
export function batchNorm(
  p: NormParams,
  state: BatchNormState,
  x: np.Array,
  opts: { train: boolean; momentum?: number; eps?: number },
): { y: np.Array; state: BatchNormState } {
  const { momentum = 0.1, eps = 1e-5 } = opts;
  const axes = x.ndim === 2 ? [0] : [0, 2, 3];
  const bshape = x.ndim === 2 ? [1, -1] : [1, -1, 1, 1];
  const count = axes.reduce((n, a) => n * x.shape[a], 1);
  let mean: np.Array, variance: np.Array, newState: BatchNormState;
  if (opts.train) {
    mean = x.ref.mean(axes);
    variance = np.square(x.ref.sub(mean.ref.reshape(bshape))).mean(axes);
    const unbiased = variance.ref.mul(count / Math.max(count - 1, 1));
    newState = {
      runningMean: state.runningMean.mul(1 - momentum).add(mean.ref.mul(momentum)),
      runningVar: state.runningVar.mul(1 - momentum).add(unbiased.mul(momentum)),
    };
  } else {
    mean = state.runningMean.ref;
    variance = state.runningVar.ref;
    newState = state;
  }
  const inv = np.sqrt(variance.add(eps)).reshape(bshape);
  const y = x.sub(mean.reshape(bshape)).div(inv).mul(p.weight.reshape(bshape)).add(p.bias.reshape(bshape));
  return { y, state: newState };
}

/** Inverted dropout: zeroes with probability `rate`, scales survivors by 1/(1−rate). */
export function dropout(x: np.Array, rate: number, key: Key | null): np.Array {
  if (!key || rate === 0) {
    key?.dispose();
    return x;
  }
  const keep = random.bernoulli(key, 1 - rate, x.shape);
  return np.where(keep, x.div(1 - rate), 0);
}

export type AttentionParams = { q: LinearParams; k: LinearParams; v: LinearParams; o: LinearParams };

export function attentionInit(key: Key, dim: number, init: LayerInit = TORCH_DEFAULT_INIT): AttentionParams {
  const [kq, kk, kv, ko] = splitKey(key, 4);
  return {
    q: linearInit(kq, dim, dim, init),
    k: linearInit(kk, dim, dim, init),
    v: linearInit(kv, dim, dim, init),
    o: linearInit(ko, dim, dim, init),
  };
}

/**
 * Multi-head self-attention on x [B, T, D]: heads of size D/h, softmax(QKᵀ/√(D/h))V, heads
 * concatenated and projected by o. `causal` masks future positions.
 */
export function multiHeadAttention(p: AttentionParams, x: np.Array, heads: number, causal = false): np.Array {
  const [B, T, D] = x.shape;
  if (D % heads !== 0) throw new Error(`attention: dim ${D} is not divisible by ${heads} heads`);
  const split = (y: np.Array) => y.reshape([B, T, heads, D / heads]);
  const q = split(linear(p.q, x.ref));
  const k = split(linear(p.k, x.ref));
  const v = split(linear(p.v, x));
  const out = nn.dotProductAttention(q, k, v, { isCausal: causal });
  return linear(p.o, out.reshape([B, T, D]));
}

/** Mean softmax cross-entropy of logits [B, K] against integer labels [B]. */
export function softmaxCrossEntropy(logits: np.Array, labels: np.Array): np.Array {
  const classes = logits.shape[logits.ndim - 1];
  const logp = logSoftmax(logits, -1);
  return logp.mul(nn.oneHot(labels, classes)).sum(-1).mean().neg();
}

export type { Params };
