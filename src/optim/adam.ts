/**
 * Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ)
 *   w ← w − lr·m̂/(√v̂ + ε)
 * Adam's weight decay is an L2 term added to g; AdamW's is decoupled: w ← w − lr·λ·w.
 */
import { numpy as np } from "../engine/jax.js";
import { treeMap, type Params } from "../engine/tree.js";
import {
  addDecayedWeights,
  chain,
  checkHyper,
  scaleByLearningRate,
  zerosLike,
  type GradientTransformation,
} from "./transform.js";

export type AdamOptions = { lr: number; b1?: number; b2?: number; eps?: number; weightDecay?: number };

export function scaleByAdam(b1 = 0.9, b2 = 0.999, eps = 1e-8): GradientTransformation {
  return {
    init: (params) => ({
      count: np.zeros([], { dtype: np.int32 }),
      mu: zerosLike(params),
      nu: zerosLike(params),
    }),
    update(updates, state) {
      const count = (state.count as np.Array).add(1);
      const t = count.ref.astype(np.float32);
      const c1 = np.power(b1, t.ref).neg().add(1); // 1 − β1ᵗ
      const c2 = np.power(b2, t).neg().add(1);
      const mu = treeMap(
        (g, m) => m.mul(b1).add(g.mul(1 - b1)),
        treeMap((g) => g.ref, updates),
        state.mu as Params,
      );
      const nu = treeMap((g, v) => v.mul(b2).add(np.square(g).mul(1 - b2)), updates, state.nu as Params);
      const out = treeMap((m, v) => m.ref.div(c1.ref).div(np.sqrt(v.ref.div(c2.ref)).add(eps)), mu, nu);
      c1.dispose();
      c2.dispose();
      return { updates: out, state: { count, mu, nu } };
    },
  };
}

/** Decoupled weight decay, applied after the adaptive scaling: u ← u + λ·w (then × −lr). */
export function addDecoupledWeightDecay(weightDecay: number): GradientTransformation {
  return addDecayedWeights(weightDecay);
}

function checkAdam(opts: AdamOptions) {
  checkHyper("lr", opts.lr, { min: 0 });
  checkHyper("b1", opts.b1 ?? 0.9, { min: 0, maxExclusive: 1 });
  checkHyper("b2", opts.b2 ?? 0.999, { min: 0, maxExclusive: 1 });
  checkHyper("eps", opts.eps ?? 1e-8, { min: 0 });
  checkHyper("weight decay", opts.weightDecay ?? 0, { min: 0 });
}

export function adam(opts: AdamOptions): GradientTransformation {
  checkAdam(opts);
  return chain(
    addDecayedWeights(opts.weightDecay ?? 0),
    scaleByAdam(opts.b1, opts.b2, opts.eps),
    scaleByLearningRate(opts.lr),
  );
}

export function adamw(opts: AdamOptions): GradientTransformation {
  checkAdam(opts);
  return chain(
    scaleByAdam(opts.b1, opts.b2, opts.eps),
    addDecoupledWeightDecay(opts.weightDecay ?? 0.01),
    scaleByLearningRate(opts.lr),
  );
}
