/**
 * LARS (You, Gitman & Ginsburg 2017, "Large Batch Training of Convolutional Networks"), Algorithm 1,
 * per parameter tensor:
 *   local lr  λˡ = η·‖w‖ / (‖g‖ + β·‖w‖)        (1 where ‖w‖ or ‖g‖ is 0)
 *   v ← μ·v + lr·λˡ·(g + β·w);  w ← w − v
 * Tensors picked by `exclude` (by default those with fewer than 2 dims: biases, norm scales) get
 * neither the trust ratio nor weight decay: v ← μ·v + lr·g.
 * Defaults lr 1, η (trust coefficient) 1e-3, μ 0.9, β (weight decay) 0.
 */
import { numpy as np } from "../engine/jax.js";
import { traceMomentum } from "./sgd.js";
import {
  chain,
  checkHyper,
  l2,
  mulc,
  scaleByLearningRate,
  treeMapNamed,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type LarsOptions = {
  lr: LearningRate;
  momentum?: number;
  weightDecay?: number;
  trustCoefficient?: number;
  /** Tensors that keep plain momentum SGD (default: fewer than 2 dims). */
  exclude?: (name: string, param: np.Array) => boolean;
};

export const excludeVectors = (_name: string, param: np.Array) => param.ndim < 2;

export function scaleByLars(
  trustCoefficient = 1e-3,
  weightDecay = 0,
  exclude: (name: string, param: np.Array) => boolean = excludeVectors,
): GradientTransformation {
  return {
    init: () => ({}),
    update(updates, state, params) {
      const out = treeMapNamed(
        (name, g, w) => {
          if (exclude(name, w)) return g;
          const wNorm = l2(w.ref);
          const gNorm = l2(g.ref);
          const ok = np.logicalAnd(wNorm.ref.greater(0), gNorm.ref.greater(0));
          const denom = gNorm.add(mulc(wNorm.ref, weightDecay));
          const local = np.where(
            ok,
            mulc(wNorm, trustCoefficient).div(np.where(denom.ref.greater(0), denom, 1)),
            1,
          );
          const d = weightDecay === 0 ? g : g.add(mulc(w.ref, weightDecay));
          return d.mul(local);
        },
        updates,
        params,
      );
      return { updates: out, state };
    },
  };
}

export function lars(opts: LarsOptions): GradientTransformation {
  const { lr, momentum = 0.9, weightDecay = 0, trustCoefficient = 1e-3, exclude = excludeVectors } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("momentum", momentum, { min: 0, maxExclusive: 1 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  checkHyper("trust coefficient", trustCoefficient, { minExclusive: 0 });
  // The learning rate goes inside the momentum buffer, as in the paper (it matters with schedules).
  return chain(
    scaleByLars(trustCoefficient, weightDecay, exclude),
    scaleByLearningRate(lr),
    traceMomentum(momentum),
  );
}
