/**
 * Activations selectable by name. Each takes ownership of `x`. PReLU is the only one with a
 * parameter (its slope, one scalar per layer as PyTorch's default), passed in `slope`.
 */
import { lax, nn, numpy as np } from "../engine/jax.js";

export const ACTIVATIONS = [
  "relu",
  "leaky_relu",
  "prelu",
  "tanh",
  "sigmoid",
  "gelu",
  "silu",
  "softplus",
] as const;
export type ActivationName = (typeof ACTIVATIONS)[number];

export const LEAKY_RELU_SLOPE = 0.01;
export const PRELU_INIT = 0.25;

export function isActivation(name: string): name is ActivationName {
  return (ACTIVATIONS as readonly string[]).includes(name);
}

export function activate(name: ActivationName, x: np.Array, slope?: np.Array): np.Array {
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
 * log(1 + eˣ), stable for every x and exact in float64: max(x, 0) + log1p(e^−|x|), and x itself
 * above `threshold` (PyTorch's rule, threshold 20). jax-js 0.1.25's nn.softplus rounds to float32.
 */
export function softplus(x: np.Array, threshold = 20): np.Array {
  const smooth = np.maximum(x.ref, 0).add(np.log1p(np.exp(np.abs(x.ref).neg())));
  return np.where(x.ref.greater(threshold), x, smooth);
}

/** x − logΣeˣ over `axis`, exact in float64 (jax-js 0.1.25's nn.logSoftmax loses ~1e-7). */
export function logSoftmax(x: np.Array, axis = -1): np.Array {
  const shifted = x.ref.sub(lax.stopGradient(x.max(axis, { keepdims: true })));
  return shifted.ref.sub(np.log(np.exp(shifted).sum(axis, { keepdims: true })));
}
