/**
 * An optimiser's path on a 2-D test function: the point (x, y) is the only parameter, a [1, 2]
 * matrix (so LARS, LAMB and AdaFactor treat it as a weight matrix rather than a bias), and every
 * step is loss → gradient → the optimiser's update, exactly as in training. Pure and browser-safe.
 *
 * Sophia's curvature: SophiaH gets Hutchinson's u ⊙ (H u) as in training. SophiaG's
 * Gauss–Newton–Bartlett estimate needs labels sampled from a model's softmax, which a bare function
 * does not have; on a path it uses the same formula with the function's own gradient, ĝ ⊙ ĝ (B = 1).
 */
import { grad, jit, numpy as np, valueAndGrad } from "../engine/jax.js";
import { keyFromSeed } from "../engine/prng.js";
import { treeDispose, treeMap, treeRef, type Params } from "../engine/tree.js";
import { applyUpdates, type GradientTransformation, type OptState } from "../optim/transform.js";
import { hutchinson, rademacherLike } from "../optim/curvature.js";
import type { TestFunction } from "./functions.js";

export type PathOptions = {
  fn: TestFunction;
  optimizer: GradientTransformation;
  start: [number, number];
  steps: number;
  dtype?: "float32" | "float64";
  /** Seed of the Hutchinson probes (SophiaH). */
  seed?: number;
  /** Explicit Hutchinson probes, one [1, 2] array of ±1 per curvature step (tests use these). */
  probes?: number[][];
};

export type PathResult = {
  /** points[0] is the start, then one point per completed step. */
  points: [number, number][];
  /** f at each point. */
  values: number[];
  /** Set when a step produced Inf/NaN: the path stops at the last finite point. */
  diverged?: { step: number; message: string };
};

type Point = { xy: np.Array };

export async function runPath(opts: PathOptions): Promise<PathResult> {
  const { fn, optimizer, start, steps } = opts;
  const dtype = opts.dtype === "float64" ? np.float64 : np.float32;
  const loss = (p: Params) => {
    const v = (p as Point).xy.reshape([-1]);
    return fn.f(v.ref.slice(0), v.slice(1));
  };
  const update = (params: Params, state: OptState, hessian?: Params) => {
    const [value, grads] = valueAndGrad(loss)(treeRef(params));
    const r = optimizer.update(grads, state, params, hessian ? { hessian } : undefined);
    return [applyUpdates(params, r.updates), r.state, value] as [Params, OptState, np.Array];
  };
  const plain = jit((params: Params, state: OptState) => update(params, state));
  const curvature = optimizer.curvature;
  const estimateCurvature = (params: Params, probe: Params): Params => {
    if (curvature?.estimator === "hutchinson") return hutchinson(loss, treeRef(params), probe);
    treeDispose(probe);
    return treeMap((g) => np.square(g), grad(loss)(treeRef(params)) as Params);
  };
  const withCurvature = jit((params: Params, state: OptState, probe: Params) => {
    return update(params, state, estimateCurvature(params, probe));
  });
  const value = jit((params: Params) => loss(params));

  let params: Params = { xy: np.array([start], { dtype }) };
  let state = optimizer.init(params);
  const points: [number, number][] = [[start[0], start[1]]];
  const values: number[] = [];
  let diverged: PathResult["diverged"];
  try {
    for (let t = 0; t < steps; t++) {
      let out: [Params, OptState, np.Array];
      if (curvature && t % curvature.every === 0) {
        const i = t / curvature.every;
        const probe: Params = opts.probes
          ? { xy: np.array(opts.probes[i], { dtype }).reshape([1, 2]) }
          : rademacherLike(keyFromSeed(((opts.seed ?? 0) * 7919 + i) >>> 0), params);
        out = withCurvature(params, state, probe);
      } else out = plain(params, state);
      [params, state] = out;
      values.push((await out[2].data())[0]);
      const xy = Array.from((await (params as Point).xy.ref.data()) as Float32Array);
      if (!xy.every(Number.isFinite)) {
        diverged = { step: t + 1, message: `diverged at step ${t + 1}: the point became (${xy.join(", ")})` };
        break;
      }
      points.push([xy[0], xy[1]]);
    }
    if (!diverged) {
      const last = (await value(treeRef(params)).data())[0];
      if (Number.isFinite(last)) values.push(last);
      else {
        diverged = { step: steps, message: `diverged at step ${steps}: f became ${last}` };
        points.pop();
      }
    }
  } finally {
    treeDispose(params);
    treeDispose(state);
    plain.dispose();
    withCurvature.dispose();
    value.dispose();
  }
  // values[i] is f(points[i]); a value that overflowed before the point did ends the path there.
  const firstBad = values.findIndex((v) => !Number.isFinite(v));
  if (firstBad >= 0) {
    diverged ??= { step: firstBad, message: `diverged at step ${firstBad}: f became ${values[firstBad]}` };
    points.length = firstBad;
    values.length = firstBad;
  }
  values.length = Math.min(values.length, points.length);
  return diverged ? { points, values, diverged } : { points, values };
}
