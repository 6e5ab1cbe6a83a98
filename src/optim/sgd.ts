/**
 * SGD with PyTorch's semantics (torch.optim.SGD):
 *   g ← −g with `maximize`;  g ← g + λw;  buf ← g at the first step, then buf ← μ·buf + (1 − τ)·g;
 *   d = g + μ·buf (Nesterov) or buf;  w ← w − lr·d.
 * Setting dampening τ = μ gives the EMA form buf = μ·buf + (1 − μ)·g.
 */
import { numpy as np } from "../engine/jax.js";
import { treeDispose, treeMap, treeRef, type Params } from "../engine/tree.js";
import {
  addDecayedWeights,
  chain,
  checkHyper,
  mulc,
  negate,
  scaleByLearningRate,
  zeroCount,
  zerosLike,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";
import { UsageError } from "../errors.js";

export type SgdOptions = {
  lr: LearningRate;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
  maximize?: boolean;
};

/** The momentum buffer as a transformation (no learning rate), PyTorch's first-step rule included. */
export function traceMomentum(momentum: number, dampening = 0, nesterov = false): GradientTransformation {
  if (momentum === 0) return { init: () => ({}), update: (updates, state) => ({ updates, state }) };
  return {
    init: (params) => ({ step: zeroCount(), buf: zerosLike(params) }),
    update(updates, state) {
      const first = (state.step as np.Array).ref.equal(0);
      // Each g is used twice below (buffer, then Nesterov's look-ahead or disposal): keep a ref.
      const buf = treeMap(
        (g, b) => np.where(first.ref, g.ref, mulc(b, momentum).add(mulc(g.ref, 1 - dampening))),
        updates,
        state.buf as Params,
      );
      first.dispose();
      let out: Params;
      if (nesterov) out = treeMap((g, b) => g.add(mulc(b.ref, momentum)), updates, buf);
      else {
        treeDispose(updates);
        out = treeRef(buf);
      }
      return { updates: out, state: { step: (state.step as np.Array).add(1), buf } };
    },
  };
}

export function sgd(opts: SgdOptions): GradientTransformation {
  const { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0, maximize = false } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("momentum", momentum, { min: 0, maxExclusive: 1 });
  checkHyper("dampening", dampening, { min: 0, max: 1 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  if (nesterov && (momentum <= 0 || dampening !== 0))
    throw new UsageError("Nesterov momentum needs momentum > 0 and dampening = 0");
  return chain(
    ...(maximize ? [negate()] : []),
    addDecayedWeights(weightDecay),
    traceMomentum(momentum, dampening, nesterov),
    scaleByLearningRate(lr),
  );
}
