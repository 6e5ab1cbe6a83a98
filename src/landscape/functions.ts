/**
 * Two-dimensional test functions for watching optimisers move: each is f(x, y) written with array
 * ops, so the same definition gives gradients (for the paths), Hessian-vector products (Sophia) and
 * whole contour grids at once. Pure and browser-safe: the lab's playground uses this file as is.
 *
 *   rosenbrock   (a − x)² + b·(y − x²)²                        a 1, b 100; minimum (a, a²)
 *   himmelblau   (x² + y − 11)² + (x + y² − 7)²                four minima, f = 0
 *   rastrigin    2A + x² − A·cos 2πx + y² − A·cos 2πy           A 10; minimum (0, 0), many local ones
 *   saddle       0.5x² − 0.25y² + 3                             a saddle at (0, 0), unbounded below
 *   quadratic    x² + 2y²                                       an elongated bowl, minimum (0, 0)
 *   gaussian     offset − A·exp(−(x−x0)²/(2σ1²) − (y−y0)²/(2σ2²))  the book's negated Gaussian bowl
 */
import { numpy as np } from "../engine/jax.js";
import { UsageError } from "../errors.js";
import { addc, mulc } from "../optim/transform.js";

export const FUNCTIONS = [
  "rosenbrock",
  "himmelblau",
  "rastrigin",
  "saddle",
  "quadratic",
  "gaussian",
] as const;
export type FunctionName = (typeof FUNCTIONS)[number];

export type TestFunction = {
  name: FunctionName;
  /** The parameters in use (defaults filled in). */
  params: Record<string, number>;
  /** f element-wise over x and y of one shape (both consumed). */
  f(x: np.Array, y: np.Array): np.Array;
  /** A window that shows the interesting part, and a start point that makes a good story. */
  domain: { x: [number, number]; y: [number, number] };
  start: [number, number];
  /** Known global minima (none for the saddle). */
  minima: [number, number][];
};

/** Each function's parameters and their defaults. */
export const FUNCTION_PARAMS: Record<FunctionName, Record<string, number>> = {
  rosenbrock: { a: 1, b: 100 },
  himmelblau: {},
  rastrigin: { A: 10 },
  saddle: {},
  quadratic: {},
  gaussian: { A: 1, x0: 0, y0: 0, sigma1: 1, sigma2: 1, offset: 0 },
};

export function isFunctionName(name: string): name is FunctionName {
  return (FUNCTIONS as readonly string[]).includes(name);
}

/** A test function by name, with `params` overriding its defaults (unknown names are usage errors). */
export function testFunction(name: string, params: Record<string, number> = {}): TestFunction {
  if (!isFunctionName(name))
    throw new UsageError(`unknown function "${name}" (choose one of: ${FUNCTIONS.join(", ")})`);
  const defaults = FUNCTION_PARAMS[name];
  for (const [k, v] of Object.entries(params)) {
    if (!(k in defaults))
      throw new UsageError(
        `${name} has no parameter "${k}"${Object.keys(defaults).length ? ` (it takes: ${Object.keys(defaults).join(", ")})` : " (it takes none)"}`,
      );
    if (!Number.isFinite(v)) throw new UsageError(`${name} ${k} must be a finite number, got ${v}`);
  }
  const p = { ...defaults, ...params };
  switch (name) {
    case "rosenbrock":
      return {
        name,
        params: p,
        f: (x, y) => np.square(addc(np.negative(x.ref), p.a)).add(mulc(np.square(y.sub(np.square(x))), p.b)),
        domain: { x: [-2, 2], y: [-1, 3] },
        start: [-1.5, 2],
        minima: [[p.a, p.a * p.a]],
      };
    case "himmelblau":
      return {
        name,
        params: p,
        f: (x, y) =>
          np.square(np.square(x.ref).add(y.ref).sub(11)).add(np.square(x.add(np.square(y)).sub(7))),
        domain: { x: [-5, 5], y: [-5, 5] },
        start: [0, 0],
        minima: [
          [3, 2],
          [-2.805118, 3.131312],
          [-3.77931, -3.283186],
          [3.584428, -1.848126],
        ],
      };
    case "rastrigin": {
      const twoPi = 2 * Math.PI;
      const term = (t: np.Array) => np.square(t.ref).sub(mulc(np.cos(mulc(t, twoPi)), p.A));
      return {
        name,
        params: p,
        f: (x, y) => addc(term(x).add(term(y)), 2 * p.A),
        domain: { x: [-5.12, 5.12], y: [-5.12, 5.12] },
        start: [2.5, 2.2],
        minima: [[0, 0]],
      };
    }
    case "saddle":
      return {
        name,
        params: p,
        f: (x, y) => np.square(x).mul(0.5).sub(np.square(y).mul(0.25)).add(3),
        domain: { x: [-2, 2], y: [-2, 2] },
        start: [-1.5, 0.01],
        minima: [],
      };
    case "quadratic":
      return {
        name,
        params: p,
        f: (x, y) => np.square(x).add(np.square(y).mul(2)),
        domain: { x: [-2, 2], y: [-2, 2] },
        start: [-1.5, 1.5],
        minima: [[0, 0]],
      };
    case "gaussian": {
      if (p.sigma1 <= 0 || p.sigma2 <= 0) throw new UsageError("gaussian sigma1 and sigma2 must be > 0");
      const pad = 3;
      return {
        name,
        params: p,
        f: (x, y) => {
          const e = mulc(np.square(addc(x, -p.x0)), 1 / (2 * p.sigma1 ** 2)).add(
            mulc(np.square(addc(y, -p.y0)), 1 / (2 * p.sigma2 ** 2)),
          );
          return addc(mulc(np.exp(e.neg()), -p.A), p.offset);
        },
        domain: {
          x: [p.x0 - pad * p.sigma1, p.x0 + pad * p.sigma1],
          y: [p.y0 - pad * p.sigma2, p.y0 + pad * p.sigma2],
        },
        start: [p.x0 - 1.5 * p.sigma1, p.y0 + 1.2 * p.sigma2],
        minima: p.A > 0 ? [[p.x0, p.y0]] : [],
      };
    }
  }
}

/**
 * f on an nx × ny grid over the domain (row j = y value j, ascending), as host numbers: what a
 * contour plot needs.
 */
export async function evaluateGrid(
  fn: TestFunction,
  nx = 80,
  ny = 80,
  domain = fn.domain,
): Promise<{ xs: number[]; ys: number[]; values: Float32Array | Float64Array }> {
  const xs = Array.from({ length: nx }, (_, i) => domain.x[0] + ((domain.x[1] - domain.x[0]) * i) / (nx - 1));
  const ys = Array.from({ length: ny }, (_, j) => domain.y[0] + ((domain.y[1] - domain.y[0]) * j) / (ny - 1));
  const gx = np.array(ys.flatMap(() => xs)).reshape([ny, nx]);
  const gy = np.array(ys.flatMap((y) => xs.map(() => y))).reshape([ny, nx]);
  const values = (await fn.f(gx, gy).data()) as Float32Array | Float64Array;
  return { xs, ys, values };
}
