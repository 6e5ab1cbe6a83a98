/**
 * Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ (the official Transformer²
 * optimiser step): g ← g · min(1, max_norm / (‖g‖ + 1e-6)). A local copy: src/optim had no
 * committed clip transformation when SVF was written.
 */
import { numpy as np } from "../../engine/jax.js";
import { globalNorm, treeMap, treeRef } from "../../engine/tree.js";
import type { GradientTransformation } from "../../optim/index.js";

export function clipByGlobalNorm(maxNorm: number): GradientTransformation {
  return {
    init: () => ({}),
    update(updates, state) {
      const norm = globalNorm(treeRef(updates));
      const coef = np.minimum(np.reciprocal(norm.add(1e-6)).mul(maxNorm), 1);
      const out = treeMap((g) => g.mul(coef.ref), updates);
      coef.dispose();
      return { updates: out, state };
    },
  };
}
