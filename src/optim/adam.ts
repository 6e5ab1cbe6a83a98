/**
 * Adam (Kingma & Ba 2015), AMSGrad (Reddi, Kale & Kumar 2018) and AdamW (Loshchilov & Hutter 2019)
 * with PyTorch's semantics (torch.optim.Adam / AdamW):
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  AMSGrad: v̄ ← max(v̄, v) used in place of v
 *   w ← w − (lr / (1−β1ᵗ))·m / (√v / √(1−β2ᵗ) + ε)
 * Adam's weight decay is an L2 term added to g; AdamW's is decoupled: w ← w − lr·λ·w.
 * Defaults lr 1e-3, β = (0.9, 0.999), ε 1e-8; AdamW's λ 1e-2.
 */
import { numpy as np } from "../engine/jax.js";
import { treeMap, treeRef, type Params } from "../engine/tree.js";
import {
  addc,
  addDecayedWeights,
  biasCorrection,
  chain,
  checkHyper,
  ema,
  negate,
  scaleByLearningRate,
  treeDtype,
  zeroCount,
  zerosLike,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type AdamOptions = {
  lr: LearningRate;
  b1?: number;
  b2?: number;
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
};

/** The bias-corrected Adam direction m̂ / (√v̂ + ε), without the learning rate. */
export function scaleByAdam(b1 = 0.9, b2 = 0.999, eps = 1e-8, amsgrad = false): GradientTransformation {
  return {
    init: (params) => ({
      count: zeroCount(),
      mu: zerosLike(params),
      nu: zerosLike(params),
      ...(amsgrad ? { nuMax: zerosLike(params) } : {}),
    }),
    update(updates, state) {
      const count = (state.count as np.Array).add(1);
      const dtype = treeDtype(updates);
      const c1 = biasCorrection(b1, count.ref, dtype);
      const c2Sqrt = np.sqrt(biasCorrection(b2, count.ref, dtype));
      const mu = treeMap((g, m) => ema(m, g, b1), treeRef(updates), state.mu as Params);
      const nu = treeMap((g, v) => ema(v, np.square(g), b2), updates, state.nu as Params);
      const next: Params = { count, mu, nu };
      let second = nu;
      if (amsgrad) {
        next.nuMax = treeMap((v, vMax) => np.maximum(vMax, v.ref), nu, state.nuMax as Params);
        second = next.nuMax;
      }
      const out = treeMap(
        (m, v) => m.ref.div(c1.ref).div(addc(np.sqrt(v.ref).div(c2Sqrt.ref), eps)),
        mu,
        second,
      );
      c1.dispose();
      c2Sqrt.dispose();
      return { updates: out, state: next };
    },
  };
}

function checkAdam(opts: AdamOptions) {
  if (typeof opts.lr === "number") checkHyper("lr", opts.lr, { min: 0 });
  checkHyper("b1", opts.b1 ?? 0.9, { min: 0, maxExclusive: 1 });
  checkHyper("b2", opts.b2 ?? 0.999, { min: 0, maxExclusive: 1 });
  checkHyper("eps", opts.eps ?? 1e-8, { min: 0 });
  checkHyper("weight decay", opts.weightDecay ?? 0, { min: 0 });
}

export function adam(opts: AdamOptions): GradientTransformation {
  checkAdam(opts);
  return chain(
    ...(opts.maximize ? [negate()] : []),
    addDecayedWeights(opts.weightDecay ?? 0),
    scaleByAdam(opts.b1, opts.b2, opts.eps, opts.amsgrad),
    scaleByLearningRate(opts.lr),
  );
}

export function adamw(opts: AdamOptions): GradientTransformation {
  checkAdam(opts);
  return chain(
    ...(opts.maximize ? [negate()] : []),
    scaleByAdam(opts.b1, opts.b2, opts.eps, opts.amsgrad),
    addDecayedWeights(opts.weightDecay ?? 0.01),
    scaleByLearningRate(opts.lr),
  );
}
