/**
 * Optimisers as gradient transformations (after optax): `init(params) → state`,
 * `update(updates, state, params, extras?) → { updates, state }`, composed with `chain`. State is a
 * tree of arrays, so it checkpoints next to the params and a resumed run continues exactly.
 *
 * Ownership: `init` borrows params; `update` consumes `updates`, `state` and `extras.hessian`, and
 * borrows `params`.
 *
 * An optimiser that needs curvature (Sophia) says so in `curvature`; whoever runs the step (the
 * training step, the 2-D path runner) then computes the estimate ĥ from the loss every `every`
 * steps and hands it over as `extras.hessian`. Keeping the estimate outside the optimiser keeps
 * the optimiser a pure function of arrays, and the loss where it belongs.
 */
import { numpy as np } from "../engine/jax.js";
import { UsageError } from "../errors.js";
import { fromNamedLeaves, namedLeaves, treeMap, type Params } from "../engine/tree.js";

export type OptState = Params;

/** Which diagonal-Hessian estimate an optimiser wants, and how often (steps 0, k, 2k, … before the update). */
export type CurvatureRequest = {
  estimator: "hutchinson" | "gauss-newton-bartlett";
  every: number;
};

export type UpdateExtras = {
  /** A fresh diagonal-Hessian estimate ĥ shaped like the params (only on curvature steps). */
  hessian?: Params;
};

export type GradientTransformation = {
  init(params: Params): OptState;
  update(
    updates: Params,
    state: OptState,
    params: Params,
    extras?: UpdateExtras,
  ): { updates: Params; state: OptState };
  curvature?: CurvatureRequest;
};

/**
 * Runs transformations one after the other; each keeps its own slot of the state. The curvature
 * estimate goes to the one link that asked for it.
 */
export function chain(...parts: GradientTransformation[]): GradientTransformation {
  const wants = parts.filter((p) => p.curvature);
  if (wants.length > 1) throw new Error("chain: only one link may ask for a curvature estimate");
  return {
    curvature: wants[0]?.curvature,
    init: (params) => Object.fromEntries(parts.map((p, i) => [String(i), p.init(params)])),
    update(updates, state, params, extras) {
      const next: OptState = {};
      parts.forEach((part, i) => {
        const r = part.update(
          updates,
          state[String(i)] as OptState,
          params,
          part.curvature ? extras : undefined,
        );
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

/**
 * `value` as a scalar of `dtype`. Inside `jit`, jax-js 0.1.25 rounds a bare JS number to float32
 * even when the other operand is float64 (eager ops keep it exact): 0.9·x comes out as
 * 0.89999997615·x. Float64 runs (the reference checks) pass constants through here.
 */
export function scalar(value: number, dtype: np.DType): np.Array {
  return np.array(value, { dtype });
}

/** x·c with c exact in x's dtype (see `scalar`). Consumes x. */
export function mulc(x: np.Array, c: number): np.Array {
  return x.dtype === np.float64 ? x.mul(scalar(c, np.float64)) : x.mul(c);
}

/** x + c with c exact in x's dtype (see `scalar`). Consumes x. */
export function addc(x: np.Array, c: number): np.Array {
  return x.dtype === np.float64 ? x.add(scalar(c, np.float64)) : x.add(c);
}

/** The exponential moving average β·avg + (1−β)·x. Consumes both. */
export function ema(avg: np.Array, x: np.Array, beta: number): np.Array {
  return mulc(avg, beta).add(mulc(x, 1 - beta));
}

/** sign(x) in x's dtype (jax-js 0.1.25's `sign` returns float32 for float64 input). Consumes x. */
export function sign(x: np.Array): np.Array {
  const dtype = x.dtype;
  return np.sign(x).astype(dtype);
}

/** The dtype of a tree's first leaf (float32 for an empty tree): scalars computed for the tree use it. */
export function treeDtype(tree: Params): np.DType {
  return namedLeaves(tree)[0]?.[1].dtype ?? np.float32;
}

/** A tree of zeros shaped like `params` (borrowed). */
export function zerosLike(params: Params): Params {
  return treeMap((p) => np.zerosLike(p.ref), params);
}

/** A tree of `value` shaped like `params` (borrowed). */
export function fullLike(params: Params, value: number): Params {
  return treeMap((p) => np.fullLike(p.ref, value), params);
}

/** A scalar int32 step counter, the usual first entry of a stateful transformation. */
export function zeroCount(): np.Array {
  return np.zeros([], { dtype: np.int32 });
}

/**
 * Like `treeMap`, with each leaf's dotted name as the first argument (for per-parameter masks such
 * as LARS's exclusions). Consumes what `fn` consumes.
 */
export function treeMapNamed(
  fn: (name: string, ...leaves: np.Array[]) => np.Array,
  tree: Params,
  ...rest: Params[]
): Params {
  const others = rest.map((t) => namedLeaves(t));
  return fromNamedLeaves(
    namedLeaves(tree).map(([name, x], i) => [name, fn(name, x, ...others.map((o) => o[i][1]))]),
  );
}

/**
 * 1 − βᵗ for an int32 step count t ≥ 1 (consumed), as a float32 scalar. Computed as
 * −expm1(t·log1p(−(1−β))) with 1 − β taken in double precision: jax-js's `power(0.999, 1)` is off
 * by 1e-5, which 1 − βᵗ turns into a 1 % error in Adam's first steps.
 */
export function biasCorrection(beta: number, count: np.Array, dtype: np.DType = np.float32): np.Array {
  const logBeta = Math.log1p(-(1 - beta));
  return np.expm1(mulc(count.astype(dtype), logBeta)).neg();
}

/** βⁿ for a float32 exponent n (consumed), via exp(n·log β) with log β in double precision. */
export function powerOf(beta: number, n: np.Array): np.Array {
  return np.exp(mulc(n, Math.log(beta)));
}

/** A learning rate: a number, or a schedule of the update count. */
export type LearningRate = number | Schedule;

/** Maps the number of updates applied so far (int32 scalar, consumed) to a scalar of `dtype` (float32 by default). */
export type Schedule = (count: np.Array, dtype?: np.DType) => np.Array;

/** Multiplies every update by `factor` (stateless). */
export function scale(factor: number): GradientTransformation {
  return {
    init: () => ({}),
    update: (updates, state) => ({
      updates: factor === 1 ? updates : treeMap((u) => mulc(u, factor), updates),
      state,
    }),
  };
}

/**
 * Multiplies every update by −lr: the last link of most optimiser chains (descent). A schedule
 * keeps its own count, so it sees 0 at the first update.
 */
export function scaleByLearningRate(lr: LearningRate, maximize = false): GradientTransformation {
  const sign = maximize ? 1 : -1;
  if (typeof lr === "number") return scale(sign * lr);
  return {
    init: () => ({ count: zeroCount() }),
    update(updates, state) {
      const count = state.count as np.Array;
      const factor = mulc(lr(count.ref, treeDtype(updates)), sign);
      const out = treeMap((u) => u.mul(factor.ref), updates);
      factor.dispose();
      return { updates: out, state: { count: count.add(1) } };
    },
  };
}

/** The state key of an injected learning rate (see `injectLearningRate`). */
export const INJECTED_LR = "injected_lr";

/**
 * Like `scaleByLearningRate`, but the learning rate lives in the state (optax's
 * `inject_hyperparams`), so a caller can change it between steps with `setInjectedLearningRate`
 * without rebuilding or re-jitting the step.
 */
export function injectLearningRate(lr: number): GradientTransformation {
  return {
    init: () => ({ [INJECTED_LR]: np.array(lr, { dtype: np.float32 }) }),
    update(updates, state) {
      const rate = state[INJECTED_LR] as np.Array;
      const out = treeMap((u) => u.mul(rate.ref).neg(), updates);
      return { updates: out, state: { [INJECTED_LR]: rate } };
    },
  };
}

/** A copy of `state` (consumed) with every injected learning rate set to `lr`. */
export function setInjectedLearningRate(state: OptState, lr: number): OptState {
  const visit = (node: Params): Params =>
    Object.fromEntries(
      Object.entries(node).map(([k, v]) => {
        if (k === INJECTED_LR && isArray(v)) {
          v.dispose();
          return [k, np.array(lr, { dtype: np.float32 })];
        }
        return [k, isArray(v) ? v : visit(v)];
      }),
    );
  return visit(state);
}

function isArray(v: np.Array | Params): v is np.Array {
  return typeof v === "object" && v !== null && Object.getPrototypeOf(v) !== Object.prototype;
}

/** Flips the sign of the gradient (PyTorch's `maximize`: ascend the objective). */
export function negate(): GradientTransformation {
  return scale(-1);
}

/** L2 penalty folded into the gradient, g ← g + λ·w (PyTorch's `weight_decay` for SGD and Adam). */
export function addDecayedWeights(
  weightDecay: number,
  mask?: (name: string, param: np.Array) => boolean,
): GradientTransformation {
  return {
    init: () => ({}),
    update(updates, state, params) {
      if (weightDecay === 0) return { updates, state };
      const out = treeMapNamed(
        (name, u, p) => (mask && !mask(name, p) ? u : u.add(mulc(p.ref, weightDecay))),
        updates,
        params,
      );
      return { updates: out, state };
    },
  };
}

/** Exact bytes held by an optimiser state (or any tree): Σ elements × bytes per element. Borrows. */
export function treeBytes(tree: Params): number {
  return namedLeaves(tree).reduce((n, [, x]) => n + x.size * bytesPerElement(x.dtype), 0);
}

export function bytesPerElement(dtype: np.DType): number {
  switch (dtype) {
    case np.float64:
      return 8;
    case np.float16:
      return 2;
    case np.bool:
      return 1;
    default:
      return 4;
  }
}

/** √(mean x²) of one array (consumed), as a scalar. */
export function rms(x: np.Array): np.Array {
  return np.sqrt(np.square(x).mean());
}

/** ‖x‖₂ of one array (consumed), as a scalar. */
export function l2(x: np.Array): np.Array {
  return np.sqrt(np.square(x).sum());
}

/** Checks hyper-parameters once, with messages a CLI user can act on. */
export function checkHyper(
  name: string,
  value: number,
  range: { min?: number; max?: number; maxExclusive?: number; minExclusive?: number; integer?: boolean },
) {
  if (!Number.isFinite(value)) throw new UsageError(`${name} must be a finite number, got ${value}`);
  if (range.integer && !Number.isInteger(value))
    throw new UsageError(`${name} must be an integer, got ${value}`);
  if (range.min !== undefined && value < range.min)
    throw new UsageError(`${name} must be ≥ ${range.min}, got ${value}`);
  if (range.minExclusive !== undefined && value <= range.minExclusive)
    throw new UsageError(`${name} must be > ${range.minExclusive}, got ${value}`);
  if (range.max !== undefined && value > range.max)
    throw new UsageError(`${name} must be ≤ ${range.max}, got ${value}`);
  if (range.maxExclusive !== undefined && value >= range.maxExclusive)
    throw new UsageError(`${name} must be < ${range.maxExclusive}, got ${value}`);
}

export function leafCount(tree: Params): number {
  return namedLeaves(tree).length;
}
