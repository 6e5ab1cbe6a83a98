/**
 * RMSProp (Hinton, Coursera lecture 6e; centred form Graves 2013) with PyTorch's semantics
 * (torch.optim.RMSprop):
 *   g ← g + λw;  v ← α·v + (1 − α)·g²;  centred: ḡ ← α·ḡ + (1 − α)·g, d = √(v − ḡ²) + ε, else d = √v + ε
 *   momentum μ > 0: b ← μ·b + g/d, w ← w − lr·b;  otherwise w ← w − lr·g/d
 * Defaults lr 1e-2, α 0.99, ε 1e-8.
 */
import { numpy as np } from "../engine/jax.js";
import { treeMap, treeRef, type Params } from "../engine/tree.js";
import {
  addc,
  addDecayedWeights,
  chain,
  checkHyper,
  ema,
  mulc,
  negate,
  scaleByLearningRate,
  zerosLike,
  type GradientTransformation,
  type LearningRate,
} from "./transform.js";

export type RmspropOptions = {
  lr: LearningRate;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
};

export function scaleByRmsprop(
  alpha = 0.99,
  eps = 1e-8,
  centered = false,
  momentum = 0,
): GradientTransformation {
  return {
    init: (params) => ({
      nu: zerosLike(params),
      ...(centered ? { mu: zerosLike(params) } : {}),
      ...(momentum > 0 ? { buf: zerosLike(params) } : {}),
    }),
    update(updates, state) {
      const nu = treeMap((g, v) => ema(v, np.square(g), alpha), treeRef(updates), state.nu as Params);
      const next: Params = { nu };
      let denom: Params;
      if (centered) {
        const mu = treeMap((g, m) => ema(m, g, alpha), treeRef(updates), state.mu as Params);
        denom = treeMap((v, m) => addc(np.sqrt(v.ref.sub(np.square(m.ref))), eps), nu, mu);
        next.mu = mu;
      } else denom = treeMap((v) => addc(np.sqrt(v.ref), eps), nu);
      let out = treeMap((g, d) => g.div(d), updates, denom);
      if (momentum > 0) {
        const buf = treeMap((u, b) => mulc(b, momentum).add(u), out, state.buf as Params);
        out = treeRef(buf);
        next.buf = buf;
      }
      return { updates: out, state: next };
    },
  };
}

export function rmsprop(opts: RmspropOptions): GradientTransformation {
  const {
    lr,
    alpha = 0.99,
    eps = 1e-8,
    weightDecay = 0,
    momentum = 0,
    centered = false,
    maximize = false,
  } = opts;
  if (typeof lr === "number") checkHyper("lr", lr, { min: 0 });
  checkHyper("alpha", alpha, { min: 0, maxExclusive: 1 });
  checkHyper("eps", eps, { min: 0 });
  checkHyper("weight decay", weightDecay, { min: 0 });
  checkHyper("momentum", momentum, { min: 0, maxExclusive: 1 });
  return chain(
    ...(maximize ? [negate()] : []),
    addDecayedWeights(weightDecay),
    scaleByRmsprop(alpha, eps, centered, momentum),
    scaleByLearningRate(lr),
  );
}
