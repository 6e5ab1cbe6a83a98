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
import { type TestFunction } from "./functions.js";

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
  /**
   * Set when the point or f at it became Inf/NaN at index `step`: the path keeps the points (and
   * values) before it, so `points.length === step`.
   */
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
      const v = (await out[2].data())[0]; // f at points[t]
      if (!Number.isFinite(v)) {
        diverged = { step: t, message: `diverged at step ${t}: f became ${v} at (${points[t].join(", ")})` };
        points.pop();
        break;
      }
      values.push(v);
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
        diverged = {
          step: steps,
          message: `diverged at step ${steps}: f became ${last} at (${points[steps].join(", ")})`,
        };
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
  return diverged ? { points, values, diverged } : { points, values };
}

const PATH_COLORS = ["#e11d48", "#2563eb", "#16a34a", "#f59e0b", "#9333ea", "#0891b2", "#ea580c", "#64748b"];

export type Segment = { x: number; y: number; x2: number; y2: number };

/**
 * Marching squares: the line segments where a grid function crosses `level`. Row j of `values`
 * holds ys[j], column i holds xs[i]. Saddle cells are split the simple way (two segments).
 */
export function contourSegments(
  xs: number[],
  ys: number[],
  values: ArrayLike<number>,
  level: number,
): Segment[] {
  const nx = xs.length;
  const v = (i: number, j: number) => values[j * nx + i];
  const out: Segment[] = [];
  // Exact at t = 1 so that the two cells sharing an edge produce the same end point (joinSegments).
  const lerp = (a: number, b: number, fa: number, fb: number) => {
    const t = (level - fa) / (fb - fa);
    return t === 1 ? b : a + t * (b - a);
  };
  for (let j = 0; j + 1 < ys.length; j++)
    for (let i = 0; i + 1 < nx; i++) {
      const f = [v(i, j), v(i + 1, j), v(i + 1, j + 1), v(i, j + 1)];
      if (!f.every(Number.isFinite)) continue;
      const above = f.map((z) => z > level);
      if (above.every((a) => a) || above.every((a) => !a)) continue;
      // Crossing points on the four edges: bottom (0→1), right (1→2), top (3→2), left (0→3).
      const edges: [number, number][] = [];
      if (above[0] !== above[1]) edges.push([lerp(xs[i], xs[i + 1], f[0], f[1]), ys[j]]);
      if (above[1] !== above[2]) edges.push([xs[i + 1], lerp(ys[j], ys[j + 1], f[1], f[2])]);
      if (above[3] !== above[2]) edges.push([lerp(xs[i], xs[i + 1], f[3], f[2]), ys[j + 1]]);
      if (above[0] !== above[3]) edges.push([xs[i], lerp(ys[j], ys[j + 1], f[0], f[3])]);
      for (let k = 0; k + 1 < edges.length; k += 2) {
        const [a, b] = [edges[k], edges[k + 1]];
        // A corner exactly on the level makes two edges meet there: no segment to draw.
        if (a[0] !== b[0] || a[1] !== b[1]) out.push({ x: a[0], y: a[1], x2: b[0], y2: b[1] });
      }
    }
  return out;
}

/** Joins contour segments that share end points into polylines (a figure draws far fewer paths). */
export function joinSegments(segments: Segment[]): [number, number][][] {
  const key = (x: number, y: number) => `${x},${y}`;
  const at = new Map<string, number[]>();
  segments.forEach((s, i) => {
    for (const k of [key(s.x, s.y), key(s.x2, s.y2)]) at.set(k, [...(at.get(k) ?? []), i]);
  });
  const used = new Uint8Array(segments.length);
  const walk = (line: [number, number][]) => {
    for (;;) {
      const [x, y] = line[line.length - 1];
      const next = (at.get(key(x, y)) ?? []).find((i) => !used[i]);
      if (next === undefined) return;
      used[next] = 1;
      const s = segments[next];
      line.push(s.x === x && s.y === y ? [s.x2, s.y2] : [s.x, s.y]);
    }
  };
  const lines: [number, number][][] = [];
  // Open contours first, from an end point (a point with one segment), then the closed loops.
  const order = [...segments.keys()].sort(
    (a, b) =>
      Math.min(
        at.get(key(segments[a].x, segments[a].y))!.length,
        at.get(key(segments[a].x2, segments[a].y2))!.length,
      ) -
      Math.min(
        at.get(key(segments[b].x, segments[b].y))!.length,
        at.get(key(segments[b].x2, segments[b].y2))!.length,
      ),
  );
  for (const i of order) {
    if (used[i]) continue;
    used[i] = 1;
    const s = segments[i];
    const startsOpen = at.get(key(s.x, s.y))!.length === 1;
    const line: [number, number][] = startsOpen
      ? [
          [s.x, s.y],
          [s.x2, s.y2],
        ]
      : [
          [s.x2, s.y2],
          [s.x, s.y],
        ];
    walk(line);
    line.reverse();
    walk(line);
    lines.push(line);
  }
  return lines;
}

/**
 * Paths over the contour map of f (contours of log₁₀(1 + f − min f), so wide ranges such as
 * Rosenbrock's stay readable), as a Vega-Lite spec: start points as circles, known minima as
 * crosses; a diverged path ends at its last finite point. `grid` comes from `evaluateGrid`.
 */
export function pathFigure(
  fn: TestFunction,
  grid: { xs: number[]; ys: number[]; values: ArrayLike<number> },
  paths: { label: string; result: PathResult }[],
  opts: { title?: string; size?: number; levels?: number } = {},
): object {
  const { xs, ys, values } = grid;
  const finite = Array.from(values).filter(Number.isFinite);
  const lo = Math.min(...finite);
  const z = Array.from(values, (f) => (Number.isFinite(f) ? Math.log10(1 + f - lo) : NaN));
  const zMax = Math.max(...z.filter(Number.isFinite));
  const levels = opts.levels ?? 14;
  let id = 0;
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const contours = Array.from({ length: levels }, (_, k) => (zMax * (k + 0.5)) / levels).flatMap((level) =>
    joinSegments(contourSegments(xs, ys, z, level)).flatMap((line) => {
      id++;
      return line.map(([cx, cy], order) => ({ id, order, x: round(cx), y: round(cy), level: round(level) }));
    }),
  );
  const labels = paths.map((p) => p.label);
  const lines = paths.flatMap(({ label, result }) =>
    result.points.map(([x, y], step) => ({ optimizer: label, step, x, y })),
  );
  const starts = paths.map(({ label, result }) => ({
    optimizer: label,
    x: result.points[0][0],
    y: result.points[0][1],
  }));
  const scale = (d: number[]) => ({ domain: [d[0], d.at(-1)!], nice: false, zero: false });
  const x = { field: "x", type: "quantitative", title: "x", scale: scale(xs) };
  const y = { field: "y", type: "quantitative", title: "y", scale: scale(ys) };
  const size = opts.size ?? 460;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: opts.title ?? `${fn.name}: optimiser paths`,
    width: size,
    height: size,
    layer: [
      {
        data: { values: contours },
        mark: { type: "line", strokeWidth: 1, clip: true },
        encoding: {
          x,
          y,
          detail: { field: "id", type: "nominal" },
          order: { field: "order", type: "quantitative" },
          color: {
            field: "level",
            type: "quantitative",
            title: "log₁₀(1 + f − min)",
            scale: { domain: [0, zMax], range: ["#d4d4d8", "#27272a"] },
          },
        },
      },
      {
        data: { values: lines },
        mark: { type: "line", clip: true, strokeWidth: 2, point: { size: 12 } },
        encoding: {
          x,
          y,
          order: { field: "step", type: "quantitative" },
          color: {
            field: "optimizer",
            type: "nominal",
            title: "Optimiser",
            scale: { domain: labels, range: labels.map((_, i) => PATH_COLORS[i % PATH_COLORS.length]) },
          },
        },
      },
      {
        data: { values: starts },
        mark: { type: "point", shape: "circle", size: 90, filled: true, color: "black", clip: true },
        encoding: { x, y },
      },
      {
        data: { values: fn.minima.map(([mx, my]) => ({ x: mx, y: my })) },
        mark: {
          type: "point",
          shape: "cross",
          size: 140,
          filled: true,
          color: "#facc15",
          stroke: "black",
          strokeWidth: 0.6,
          clip: true,
        },
        encoding: { x, y },
      },
    ],
    resolve: { scale: { color: "independent" } },
  };
}
