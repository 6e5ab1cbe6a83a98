/**
 * AdaGrad (Duchi, Hazan & Singer 2011) with PyTorch's semantics (torch.optim.Adagrad):
 *   g ← −g with `maximize`;  g ← g + λw;  s ← s + g²;  lrₜ = lr / (1 + (t − 1)·lr_decay)
 *   w ← w − lrₜ·g / (√s + ε)
 * Defaults lr 1e-2, ε 1e-10, s₀ = `initialAccumulator` (0).
 */
import { numpy as np } from "../engine/jax.js";
import { treeMap, treeRef, type Params } from "../engine/tree.js";
import {
  addDecayedWeights,
  chain,
  addc,
  checkHyper,
  fullLike,
  mulc,
  treeDtype,
  negate,
  scaleByLearningRate,
  zeroCount,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type AdagradOptions = {
  lr: LearningRate;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulator?: number;
  eps?: number;
  maximize?: boolean;
};

export function scaleByAdagrad(eps = 1e-10, initialAccumulator = 0, lrDecay = 0): GradientTransformation {
  return {
    init: (params) => ({ count: zeroCount(), sum: fullLike(params, initialAccumulator) }),
    update(updates, state) {
      const count = state.count as np.Array;
      const sum = treeMap((g, s) => s.add(np.square(g)), treeRef(updates), state.sum as Params);
      let out = treeMap((g, s) => g.div(addc(np.sqrt(s.ref), eps)), updates, sum);
      if (lrDecay !== 0) {
        const decay = np.reciprocal(addc(mulc(count.ref.astype(treeDtype(out)), lrDecay), 1));
        out = treeMap((u) => u.mul(decay.ref), out);
        decay.dispose();
      }
      return { updates: out, state: { count: count.add(1), sum } };
    },
  };
}

export function adagrad(opts: AdagradOptions): GradientTransformation {
  const { lr, lrDecay = 0, weightDecay = 0, initialAccumulator = 0, eps = 1e-10, maximize = false } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("lr decay", lrDecay, { min: 0 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  checkHyper("initial accumulator", initialAccumulator, { min: 0 });
  checkHyper("eps", eps, { min: 0 });
  return chain(
    ...(maximize ? [negate()] : []),
    addDecayedWeights(weightDecay),
    scaleByAdagrad(eps, initialAccumulator, lrDecay),
    scaleByLearningRate(lr),
  );
}
