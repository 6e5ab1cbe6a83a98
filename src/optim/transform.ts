/**
 * Optimisers as gradient transformations (after optax): `init(params) → state`,
 * `update(updates, state, params) → { updates, state }`, composed with `chain`. State is a tree of
 * arrays, so it checkpoints next to the params and a resumed run continues exactly.
 *
 * Ownership: `init` borrows params; `update` consumes `updates` and `state` and borrows `params`.
 */
import { numpy as np } from "../engine/jax.js";
import { UsageError } from "../errors.js";
import { namedLeaves, treeMap, type Params } from "../engine/tree.js";

export type OptState = Params;

export type GradientTransformation = {
  init(params: Params): OptState;
  update(updates: Params, state: OptState, params: Params): { updates: Params; state: OptState };
};

/** Runs transformations one after the other; each keeps its own slot of the state. */
export function chain(...parts: GradientTransformation[]): GradientTransformation {
  return {
    init: (params) => Object.fromEntries(parts.map((p, i) => [String(i), p.init(params)])),
    update(updates, state, params) {
      const next: OptState = {};
      parts.forEach((part, i) => {
        const r = part.update(updates, state[String(i)] as OptState, params);
        updates = r.updates;
        next[String(i)] = r.state;
      });
      return { updates, state: next };
    },
  };
}

/** params + updates. Consumes both. */
export function applyUpdates(params: Params, updates: Params): Params {
  return treeMap((p, u) => p.add(u), params, updates);
}

/** A tree of zeros shaped like `params` (borrowed). */
export function zerosLike(params: Params): Params {
  return treeMap((p) => np.zerosLike(p.ref), params);
}

/** Multiplies every update by −lr: the last link of every optimiser chain (descent). */
export function scaleByLearningRate(lr: number, maximize = false): GradientTransformation {
  const factor = maximize ? lr : -lr;
  return {
    init: () => ({}),
    update: (updates, state) => ({ updates: treeMap((u) => u.mul(factor), updates), state }),
  };
}

/** L2 penalty folded into the gradient, g ← g + λ·w (PyTorch's `weight_decay` for SGD and Adam). */
export function addDecayedWeights(weightDecay: number): GradientTransformation {
  return {
    init: () => ({}),
    update: (updates, state, params) =>
      weightDecay === 0
        ? { updates, state }
        : { updates: treeMap((u, p) => u.add(p.ref.mul(weightDecay)), updates, params), state },
  };
}

/** Checks hyper-parameters once, with messages a CLI user can act on. */
export function checkHyper(
  name: string,
  value: number,
  range: { min?: number; max?: number; maxExclusive?: number },
) {
  if (!Number.isFinite(value)) throw new UsageError(`${name} must be a finite number, got ${value}`);
  if (range.min !== undefined && value < range.min)
    throw new UsageError(`${name} must be ≥ ${range.min}, got ${value}`);
  if (range.max !== undefined && value > range.max)
    throw new UsageError(`${name} must be ≤ ${range.max}, got ${value}`);
  if (range.maxExclusive !== undefined && value >= range.maxExclusive)
    throw new UsageError(`${name} must be < ${range.maxExclusive}, got ${value}`);
}

export function leafCount(tree: Params): number {
  return namedLeaves(tree).length;
}
