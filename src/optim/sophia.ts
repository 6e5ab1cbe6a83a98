/**
 * Sophia (Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order Optimizer"), Algorithm 1:
 *   m ← β1·m + (1−β1)·g
 *   at steps t = 1, k+1, 2k+1, … (before the update): h ← β2·h + (1−β2)·ĥ
 *   w ← w − lr·λ·w;  w ← w − lr·sign(m)·min(|m| / max(ρ·h, ε), 1)
 * ĥ estimates the Hessian diagonal of the mean loss:
 *   SophiaH — Hutchinson, ĥ = u ⊙ (H u) with Rademacher u;
 *   SophiaG — Gauss–Newton–Bartlett, ĥ = B·ĝ ⊙ ĝ with ĝ the gradient of the mean loss on labels
 *             sampled from the model's own softmax (B = batch size).
 * The official SophiaG code keeps ĝ⊙ĝ in h and divides by ρ·B·h instead; the two are the same rule.
 * Here B lives in ĥ so that both estimators fill h with the same quantity. The estimate itself is
 * computed by whoever runs the step (see `curvature` in transform.ts and curvature.ts).
 * Defaults (official SophiaG): lr 1e-4, β = (0.965, 0.99), ρ 0.04, λ 0.1, k 10, ε 1e-15.
 */
import { numpy as np } from "../engine/jax.js";
import { treeMap, treeRef, type Params } from "../engine/tree.js";
import {
  addDecayedWeights,
  chain,
  checkHyper,
  ema,
  mulc,
  scaleByLearningRate,
  sign,
  zerosLike,
  type CurvatureRequest,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type SophiaOptions = {
  lr: LearningRate;
  b1?: number;
  b2?: number;
  rho?: number;
  weightDecay?: number;
  /** k: refresh the Hessian estimate every k steps. */
  every?: number;
  eps?: number;
};

export function scaleBySophia(
  estimator: CurvatureRequest["estimator"],
  opts: { b1?: number; b2?: number; rho?: number; every?: number; eps?: number } = {},
): GradientTransformation {
  const { b1 = 0.965, b2 = 0.99, rho = 0.04, every = 10, eps = 1e-15 } = opts;
  return {
    curvature: { estimator, every },
    init: (params) => ({ mu: zerosLike(params), hess: zerosLike(params) }),
    update(updates, state, _params, extras) {
      const mu = treeMap((g, m) => ema(m, g, b1), updates, state.mu as Params);
      const hess = extras?.hessian
        ? treeMap((e, h) => ema(h, e, b2), extras.hessian, state.hess as Params)
        : (state.hess as Params);
      const out = treeMap(
        (m, h) => sign(m.ref).mul(np.minimum(np.abs(m).div(np.maximum(mulc(h, rho), eps)), 1)),
        treeRef(mu),
        treeRef(hess),
      );
      return { updates: out, state: { mu, hess } };
    },
  };
}

function sophia(estimator: CurvatureRequest["estimator"], opts: SophiaOptions): GradientTransformation {
  const { lr, b1 = 0.965, b2 = 0.99, rho = 0.04, weightDecay = 0.1, every = 10, eps = 1e-15 } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("b1", b1, { min: 0, maxExclusive: 1 });
  checkHyper("b2", b2, { min: 0, maxExclusive: 1 });
  checkHyper("rho", rho, { minExclusive: 0 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  checkHyper("every (k)", every, { min: 1, integer: true });
  checkHyper("eps", eps, { minExclusive: 0 });
  return chain(
    scaleBySophia(estimator, { b1, b2, rho, every, eps }),
    addDecayedWeights(weightDecay),
    scaleByLearningRate(lr),
  );
}

/** Sophia with the Hutchinson estimate u ⊙ (H u). */
export function sophiaH(opts: SophiaOptions): GradientTransformation {
  return sophia("hutchinson", opts);
}

/** Sophia with the Gauss–Newton–Bartlett estimate B·ĝ ⊙ ĝ (classification losses). */
export function sophiaG(opts: SophiaOptions): GradientTransformation {
  return sophia("gauss-newton-bartlett", opts);
}
