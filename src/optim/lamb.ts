/**
 * LAMB (You et al. 2020, "Large Batch Optimization for Deep Learning: Training BERT in 76 minutes"),
 * Algorithm 2, per parameter tensor (the paper's "layer"):
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  r = m̂ / (√v̂ + ε)  (bias-corrected m̂, v̂)
 *   u = r + λ·w;  w ← w − lr·(φ(‖w‖) / ‖u‖)·u,  φ(z) = min(max(z, γl), γu)
 * The trust ratio is 1 where ‖w‖ or ‖u‖ is 0 (fresh zero-initialised biases).
 * Defaults lr 1e-3, β = (0.9, 0.999), ε 1e-6, λ 0, γl 0, γu 10.
 */
import { numpy as np } from "../engine/jax.js";
import { treeMap, type Params } from "../engine/tree.js";
import {
  chain,
  checkHyper,
  l2,
  mulc,
  scaleByLearningRate,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";
import { scaleByAdam } from "./adam.js";

export type LambOptions = {
  lr: LearningRate;
  b1?: number;
  b2?: number;
  eps?: number;
  weightDecay?: number;
  /** γl, γu: bounds of φ(‖w‖) in the trust ratio. */
  trustMin?: number;
  trustMax?: number;
};

/** u ← (φ(‖w‖)/‖u + λw‖)·(u + λw) per tensor; φ clips ‖w‖ to [lo, hi]. */
export function scaleByLambTrustRatio(weightDecay = 0, lo = 0, hi = 10): GradientTransformation {
  return {
    init: () => ({}),
    update(updates, state, params) {
      const out = treeMap(
        (r, w) => {
          const u = weightDecay === 0 ? r : r.add(mulc(w.ref, weightDecay));
          const wNorm = np.clip(l2(w.ref), lo, hi);
          const uNorm = l2(u.ref);
          const ok = np.logicalAnd(wNorm.ref.greater(0), uNorm.ref.greater(0));
          const ratio = np.where(ok, wNorm.div(np.where(uNorm.ref.greater(0), uNorm, 1)), 1);
          return u.mul(ratio);
        },
        updates,
        params as Params,
      );
      return { updates: out, state };
    },
  };
}

export function lamb(opts: LambOptions): GradientTransformation {
  const { lr, b1 = 0.9, b2 = 0.999, eps = 1e-6, weightDecay = 0, trustMin = 0, trustMax = 10 } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("b1", b1, { min: 0, maxExclusive: 1 });
  checkHyper("b2", b2, { min: 0, maxExclusive: 1 });
  checkHyper("eps", eps, { min: 0 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  checkHyper("trust min", trustMin, { min: 0 });
  checkHyper("trust max", trustMax, { minExclusive: trustMin });
  return chain(
    scaleByAdam(b1, b2, eps),
    scaleByLambTrustRatio(weightDecay, trustMin, trustMax),
    scaleByLearningRate(lr),
  );
}
