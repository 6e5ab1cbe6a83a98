/**
 * Gradient clipping as transformations, to put at the front of a chain.
 *   clipByGlobalNorm(c): g ← g · min(1, c / ‖g‖₂), ‖g‖₂ over all leaves together (optax's form).
 *   clipByGlobalNorm(c, { eps }): g ← g · min(1, c / (‖g‖₂ + eps)), PyTorch's `clip_grad_norm_` (eps 1e-6),
 *     the form of the official Transformer² optimiser step that SVF follows.
 *   clipByValue(c): g ← clip(g, −c, c) element-wise.
 */
import { numpy as np } from "../engine/jax.js";
import { globalNorm, treeMap, treeRef } from "../engine/tree.js";
import { checkHyper, type GradientTransformation } from "./transform.js";

export function clipByGlobalNorm(maxNorm: number, opts: { eps?: number } = {}): GradientTransformation {
  checkHyper("clip norm", maxNorm, { minExclusive: 0 });
  if (opts.eps !== undefined) return clipByGlobalNormEps(maxNorm, opts.eps);
  return {
    init: () => ({}),
    update(updates, state) {
      const norm = globalNorm(treeRef(updates));
      // min(1, c/‖g‖) written so that ‖g‖ = 0 gives 1, not NaN.
      const factor = np.where(
        norm.ref.greater(maxNorm),
        np.divide(maxNorm, np.maximum(norm.ref, maxNorm)),
        1,
      );
      norm.dispose();
      const out = treeMap((g) => g.mul(factor.ref), updates);
      factor.dispose();
      return { updates: out, state };
    },
  };
}

function clipByGlobalNormEps(maxNorm: number, eps: number): GradientTransformation {
  checkHyper("clip eps", eps, { min: 0 });
  return {
    init: () => ({}),
    update(updates, state) {
      const norm = globalNorm(treeRef(updates));
      const coef = np.minimum(np.reciprocal(norm.add(eps)).mul(maxNorm), 1);
      const out = treeMap((g) => g.mul(coef.ref), updates);
      coef.dispose();
      return { updates: out, state };
    },
  };
}

export function clipByValue(maxAbs: number): GradientTransformation {
  checkHyper("clip value", maxAbs, { minExclusive: 0 });
  return {
    init: () => ({}),
    update: (updates, state) => ({ updates: treeMap((g) => np.clip(g, -maxAbs, maxAbs), updates), state }),
  };
}
