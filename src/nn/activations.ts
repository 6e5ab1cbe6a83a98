/**
 * Activations selectable by name. Each takes ownership of `x`. Two carry parameters, stored in the
 * model's param tree under `act{i}`: PReLU its slope (one scalar per layer, PyTorch's default) and
 * the CTU its raw curvature β and mixing coefficient c (β = σ(raw β), c = σ(raw c); scalars shared
 * by a layer, or one per channel).
 */
import { lax, nn, numpy as np } from "../engine/jax.js";
import { isLeaf, type Params } from "../engine/tree.js";

export const ACTIVATIONS = [
  "relu",
  "leaky_relu",
  "prelu",
  "tanh",
  "sigmoid",
  "gelu",
  "silu",
  "softplus",
  "ctu",
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const LEAKY_RELU_SLOPE = 0.01;
export const PRELU_INIT = 0.25;

/** A fresh CTU starts where the official trainable CT does: β = σ(1.386) ≈ 0.8, c = σ(0) = 0.5. */
export const CTU_INIT = { rawBeta: 1.386, rawC: 0 };

/** The `act{i}` node a layer with activation `name` starts with (null: it has no parameters). */
export function activationInit(name: ActivationName): Params | null {
  if (name === "prelu") return { slope: np.full([], PRELU_INIT) };
  if (name === "ctu") return { beta: np.full([], CTU_INIT.rawBeta), c: np.full([], CTU_INIT.rawC) };
  return null;
}

/** Puts the node of a layer with activation `name` at `params[node]`, when that activation has parameters. */
export function addActivationNode(params: Params, node: string, name: ActivationName): void {
  const act = activationInit(name);
  if (act) params[node] = act;
}

export function isActivation(name: string): name is ActivationName {
  return (ACTIVATIONS as readonly string[]).includes(name);
}

/** An activation's own parameters (`act{i}` in a model's param tree). */
export type ActivationParams = { slope?: np.Array; beta?: np.Array; c?: np.Array };

/**
 * Applies activation `name`; `params` is the layer's `act{i}` node (or, for PReLU, its slope).
 * Consumes `x` and the parameter arrays it uses.
 */
export function activate(name: ActivationName, x: np.Array, params?: np.Array | ActivationParams): np.Array {
  const act: ActivationParams = isLeaf(params) ? { slope: params } : (params ?? {});
  const slope = act.slope;
  switch (name) {
    case "relu":
      return relu(x);
    case "leaky_relu":
      return leakyRelu(x, LEAKY_RELU_SLOPE);
    case "prelu": {
      if (!slope) throw new Error("prelu needs its slope parameter");
      return leakyRelu(x, slope);
    }
    case "tanh":
      return np.tanh(x);
    case "sigmoid":
      return nn.sigmoid(x);
    case "gelu":
      return nn.gelu(x, { approximate: false });
    case "silu":
      return nn.silu(x);
    case "softplus":
      return softplus(x);
    case "ctu": {
      if (!act.beta || !act.c) throw new Error("ctu needs its beta and c parameters");
      const channel = (p: np.Array) => (p.ndim === 1 && x.ndim === 4 ? p.reshape([1, -1, 1, 1]) : p);
      return ctu(x, channel(sigmoid(act.beta)), channel(sigmoid(act.c)));
    }
  }
}

/**
 * max(x, 0) with derivative 0 at x = 0, as PyTorch and JAX define it; jax-js 0.1.25's nn.relu
 * gives 1 there (see src/engine/NOTES.md).
 */
export function relu(x: np.Array): np.Array {
  return np.where(x.ref.greater(0), x, 0);
}

/** x for x > 0, slope·x otherwise; derivative `slope` at 0, as PyTorch (jax-js's gives 1). */
export function leakyRelu(x: np.Array, slope: number | np.Array): np.Array {
  return np.where(x.ref.greater(0), x.ref, x.mul(slope));
}

/**
 * log(1 + eˣ), stable for every x: max(x, 0) + log1p(e^−|x|), and x itself above `threshold`
 * (PyTorch's rule, threshold 20). jax-js 0.1.25's nn.softplus rounds to float32.
 */
export function softplus(x: np.Array, threshold = 20): np.Array {
  const smooth = np.maximum(x.ref, 0).add(log1pUnit(np.exp(np.abs(x.ref).neg())));
  return np.where(x.ref.greater(threshold), x, smooth);
}

/**
 * log(1 + u) for u ∈ [0, 1], to float64 accuracy: 2·atanh(s) with s = u/(2 + u) ≤ 1/3, summed as
 * its series 2s·Σ s²ᵏ/(2k + 1) up to k = 14 (remainder < 2e-15). jax-js 0.1.25's log and log1p
 * are off by up to 1e-5 (absolute, float64 and float32 alike) when the argument's mantissa is near 2,
 * e.g. log1p(0.95).
 */
function log1pUnit(u: np.Array): np.Array {
  const s = u.ref.div(u.add(2));
  const s2 = s.ref.mul(s.ref);
  const terms = 14;
  let acc = s2.ref.mul(1 / (2 * terms + 1)).add(1 / (2 * terms - 1));
  for (let k = terms - 2; k >= 0; k--) acc = acc.mul(s2.ref).add(1 / (2 * k + 1));
  s2.dispose();
  return acc.mul(s).mul(2);
}

/** x − logΣeˣ over `axis`, exact in float64 (jax-js 0.1.25's nn.logSoftmax loses ~1e-7). */
export function logSoftmax(x: np.Array, axis = -1): np.Array {
  const shifted = x.ref.sub(lax.stopGradient(x.max(axis, { keepdims: true })));
  return shifted.ref.sub(np.log(np.exp(shifted).sum(axis, { keepdims: true })));
}

/** 1/(1 + e⁻ᶻ) without overflow for any z, so that its gradient stays finite at |z| = 1e6. */
export function sigmoid(z: np.Array): np.Array {
  const e = np.exp(np.abs(z.ref).neg());
  return np.where(z.greaterEqual(0), np.reciprocal(e.ref.add(1)), e.ref.div(e.add(1)));
}

/**
 * The Curvature Tuning Unit (Hu, Gamba & Balestriero 2025), with z = x/(1−β):
 *
 *   CTU_{β,c}(x) = c · σ(β·z) · x + (1 − c) · softplus(z) · (1 − β)
 *
 * β ∈ [0, 1] sets the curvature: β = 1 is ReLU exactly (bitwise, and its gradient too), smaller β
 * is smoother. c ∈ [0, 1] mixes the SiLU-like and Softplus-like smoothings, whose opposite shifts
 * of the mean cancel at the default c = 0.5. Softplus is linear above 20, so no |x| overflows.
 * `beta` and `c` are numbers or arrays broadcastable against `x` (scalars, or per channel);
 * arrays work under `jit` and `grad` (gradients w.r.t. x, β and c). Consumes `x` and the arrays.
 */
export function ctu(x: np.Array, beta: number | np.Array, c: number | np.Array = 0.5): np.Array {
  if (typeof beta === "number") {
    if (!(beta >= 0 && beta <= 1)) throw new Error(`ctu: beta must be in [0, 1], got ${beta}`);
    if (beta === 1) {
      if (typeof c !== "number") c.dispose();
      return relu(x);
    }
    return ctuSmooth(x, beta, c);
  }
  // Where β = 1 (as a float32 sigmoid can round to) take the ReLU branch; the smooth branch is fed a
  // harmless β there so that neither it nor its gradient produces the NaN that where() would keep.
  const isRelu = beta.ref.greaterEqual(1);
  const safeBeta = np.where(isRelu.ref, 0.5, beta);
  return np.where(isRelu, relu(x.ref), ctuSmooth(x, safeBeta, c));
}

function ctuSmooth(x: np.Array, beta: number | np.Array, c: number | np.Array): np.Array {
  const oneMinusBeta = typeof beta === "number" ? 1 - beta : np.subtract(1, beta.ref);
  const z = x.ref.div(typeof oneMinusBeta === "number" ? oneMinusBeta : oneMinusBeta.ref);
  const oneMinusC = typeof c === "number" ? 1 - c : np.subtract(1, c.ref);
  const siluPart = sigmoid(z.ref.mul(beta)).mul(x).mul(c);
  const softplusPart = softplus(z).mul(oneMinusBeta).mul(oneMinusC);
  return siluPart.add(softplusPart);
}
