/**
 * Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), the published rule:
 *   u = sign(β1·m + (1−β1)·g);  w ← w − lr·(u + λ·w);  m ← β2·m + (1−β2)·g
 * The interpolation that makes the update (β1) and the momentum that is kept (β2) differ.
 * Defaults lr 1e-4, β1 0.9, β2 0.99, λ 0.
 */
import { treeMap, treeRef, type Params } from "../engine/tree.js";
import {
  addDecayedWeights,
  chain,
  checkHyper,
  ema,
  scaleByLearningRate,
  sign,
  zerosLike,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type LionOptions = { lr: LearningRate; b1?: number; b2?: number; weightDecay?: number };

export function scaleByLion(b1 = 0.9, b2 = 0.99): GradientTransformation {
  return {
    init: (params) => ({ mu: zerosLike(params) }),
    update(updates, state) {
      const mu = state.mu as Params;
      const out = treeMap((g, m) => sign(ema(m.ref, g, b1)), treeRef(updates), mu);
      const next = treeMap((g, m) => ema(m, g, b2), updates, mu);
      return { updates: out, state: { mu: next } };
    },
  };
}

export function lion(opts: LionOptions): GradientTransformation {
  const { lr, b1 = 0.9, b2 = 0.99, weightDecay = 0 } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("b1", b1, { min: 0, max: 1 });
  checkHyper("b2", b2, { min: 0, max: 1 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  return chain(scaleByLion(b1, b2), addDecayedWeights(weightDecay), scaleByLearningRate(lr));
}
