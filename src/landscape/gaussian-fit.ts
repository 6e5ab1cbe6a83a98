/**
 * The book's Gaussian model of a loss basin, z = offset − A·exp(−((x−x₀)²/(2σ₁²) + (y−y₀)²/(2σ₂²))),
 * fitted to a surface grid by Levenberg–Marquardt (Marquardt 1963: damping scaled by diag(JᵀJ),
 * as MINPACK and scipy's curve_fit). The book fixes the offset at max(z) and fits the other five;
 * both ways are offered. Parameter covariance as curve_fit's pcov: s²·(JᵀJ)⁻¹.
 */
import { UsageError } from "../errors.js";

export type GaussianParams = {
  A: number;
  x0: number;
  y0: number;
  sigmaX: number;
  sigmaY: number;
  offset: number;
};

export const PARAM_NAMES = ["A", "x0", "y0", "sigmaX", "sigmaY", "offset"] as const;

export function gaussian(p: GaussianParams, x: number, y: number): number {
  return (
    p.offset -
    p.A * Math.exp(-((x - p.x0) ** 2 / (2 * p.sigmaX ** 2) + (y - p.y0) ** 2 / (2 * p.sigmaY ** 2)))
  );
}

export type GaussianFit = {
  params: GaussianParams;
  /** Standard errors of the fitted parameters (NaN for a fixed offset). */
  stderr: GaussianParams;
  /** Whether the offset was held fixed (the book's max(z)) rather than fitted. */
  fixedOffset: boolean;
  rmse: number;
  r2: number;
  iterations: number;
  converged: boolean;
};

type Point = { x: number; y: number; z: number };

/**
 * Fits the Gaussian to points (x, y, z). `offset`: "max" (default, the book's choice: fixed at
 * max z), "fit" (a sixth free parameter; degenerate when the basin is not Gaussian-shaped, e.g.
 * a quadratic bowl, where A and σ grow without bound) or a number to hold fixed. `initial` overrides the data-driven starting point.
 */
export function fitGaussian(
  points: Point[],
  opts: {
    offset?: "fit" | "max" | number;
    initial?: Partial<GaussianParams>;
    maxIter?: number;
    tol?: number;
  } = {},
): GaussianFit {
  const { maxIter = 500, tol = 1e-12 } = opts;
  if (points.length < 6) throw new UsageError(`a Gaussian fit needs at least 6 points, got ${points.length}`);
  const { start, fixedOffset } = startingPoint(points, opts);
  const free = fixedOffset ? 5 : 6;
  const toParams = (q: number[]): GaussianParams => ({
    A: q[0],
    x0: q[1],
    y0: q[2],
    sigmaX: q[3],
    sigmaY: q[4],
    offset: q[5],
  });
  const lm = levenbergMarquardt(
    points,
    free,
    [start.A, start.x0, start.y0, start.sigmaX, start.sigmaY, start.offset],
    maxIter,
    tol,
  );
  const { p, c } = lm;
  p[3] = Math.abs(p[3]);
  p[4] = Math.abs(p[4]);
  const n = points.length;
  const { JtJ } = normalEquations(lm.J, lm.r, n, free);
  const inv = invert(JtJ, free);
  const s2 = c / Math.max(n - free, 1);
  const se = Array.from({ length: 6 }, (_, a) =>
    a < free && inv ? Math.sqrt(Math.abs(inv[a * free + a]) * s2) : NaN,
  );
  const zs = points.map((pt) => pt.z);
  const mean = zs.reduce((a, b) => a + b, 0) / n;
  const total = zs.reduce((a, z) => a + (z - mean) ** 2, 0);
  return {
    params: toParams(p),
    stderr: toParams(se),
    fixedOffset,
    rmse: Math.sqrt(c / n),
    r2: total > 0 ? 1 - c / total : 1,
    iterations: lm.iterations,
    converged: lm.converged,
  };
}

/** The starting point: the dip at the lowest point, as deep as the data, a quarter of the span wide. */
function startingPoint(
  points: Point[],
  opts: { offset?: "fit" | "max" | number; initial?: Partial<GaussianParams> },
): { start: GaussianParams; fixedOffset: boolean } {
  const zs = points.map((p) => p.z);
  const zMax = Math.max(...zs);
  const zMin = Math.min(...zs);
  const lowest = points[zs.indexOf(zMin)];
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const spanX = Math.max(...xs) - Math.min(...xs) || 1;
  const spanY = Math.max(...ys) - Math.min(...ys) || 1;
  const offsetMode = opts.offset ?? "max";
  const offset = offsetMode === "max" ? zMax : typeof offsetMode === "number" ? offsetMode : zMax;
  return {
    start: {
      A: zMax - zMin || 1,
      x0: lowest.x,
      y0: lowest.y,
      sigmaX: spanX / 4,
      sigmaY: spanY / 4,
      offset,
      ...opts.initial,
    },
    fixedOffset: offsetMode !== "fit",
  };
}

/** Residuals r_i = offset − A·e_i − z_i at q, and their Jacobian in the first `free` parameters. */
function residualsAndJacobian(points: Point[], free: number, q: number[]) {
  const r = new Float64Array(points.length);
  const J = new Float64Array(points.length * free);
  points.forEach((pt, i) => {
    const dx = pt.x - q[1];
    const dy = pt.y - q[2];
    const e = Math.exp(-((dx * dx) / (2 * q[3] * q[3]) + (dy * dy) / (2 * q[4] * q[4])));
    r[i] = q[5] - q[0] * e - pt.z;
    const row = i * free;
    J[row] = -e;
    J[row + 1] = (-q[0] * e * dx) / (q[3] * q[3]);
    J[row + 2] = (-q[0] * e * dy) / (q[4] * q[4]);
    J[row + 3] = (-q[0] * e * dx * dx) / q[3] ** 3;
    J[row + 4] = (-q[0] * e * dy * dy) / q[4] ** 3;
    if (free === 6) J[row + 5] = 1;
  });
  return { r, J };
}

const sumOfSquares = (r: Float64Array) => r.reduce((a, v) => a + v * v, 0);

/** JᵀJ and Jᵀr for n residuals and `free` parameters. */
function normalEquations(J: Float64Array, r: Float64Array, n: number, free: number) {
  const JtJ = new Float64Array(free * free);
  const Jtr = new Float64Array(free);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < free; a++) {
      const ja = J[i * free + a];
      Jtr[a] += ja * r[i];
      for (let b = 0; b < free; b++) JtJ[a * free + b] += ja * J[i * free + b];
    }
  }
  return { JtJ, Jtr };
}

/**
 * Levenberg–Marquardt from p0: solve (JᵀJ + λ·diag(JᵀJ))·δ = −Jᵀr, accept δ when the cost falls
 * (then λ /= 10), else λ *= 10; stop at a relative cost change or step below `tol`.
 */
function levenbergMarquardt(points: Point[], free: number, p0: number[], maxIter: number, tol: number) {
  let p = p0;
  let { r, J } = residualsAndJacobian(points, free, p);
  let c = sumOfSquares(r);
  let lambda = 1e-3;
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIter; iterations++) {
    const { JtJ, Jtr } = normalEquations(J, r, points.length, free);
    let improved = false;
    for (let tries = 0; tries < 30 && !improved; tries++) {
      const M = Float64Array.from(JtJ);
      for (let a = 0; a < free; a++) M[a * free + a] += lambda * Math.max(JtJ[a * free + a], 1e-12);
      const step = solve(
        M,
        Jtr.map((v) => -v),
        free,
      );
      if (!step) {
        lambda *= 10;
        continue;
      }
      const q = p.map((v, a) => (a < free ? v + step[a] : v));
      const next = residualsAndJacobian(points, free, q);
      const nc = sumOfSquares(next.r);
      if (Number.isFinite(nc) && nc < c) {
        const relative = (c - nc) / Math.max(c, 1e-300);
        const stepSize = Math.sqrt(step.reduce((a, v) => a + v * v, 0));
        const size = Math.sqrt(q.reduce((a, v) => a + v * v, 0));
        p = q;
        ({ r, J } = next);
        c = nc;
        lambda = Math.max(lambda / 10, 1e-15);
        improved = true;
        if (relative < tol || stepSize < tol * (size + tol)) converged = true;
      } else lambda *= 10;
    }
    if (!improved) {
      converged = true; // no downhill step at any damping: a (local) minimum
      break;
    }
    if (converged) break;
  }
  return { p, r, J, c, iterations, converged };
}

/** Points of a grid surface (loss[j][i] at x[i], y[j]). */
export function gridPoints(grid: { x: number[]; y: number[]; loss: number[][] }): Point[] {
  return grid.y.flatMap((y, j) => grid.x.map((x, i) => ({ x, y, z: grid.loss[j][i] })));
}

/** The book's printout: "Function parameters = [A x0 y0 sigma_x sigma_y]" and the offset. */
export function describeFit(fit: GaussianFit): string {
  const p = fit.params;
  const f = (v: number) => v.toPrecision(8);
  return [
    `Function parameters = [${[p.A, p.x0, p.y0, p.sigmaX, p.sigmaY].map(f).join(" ")}]`,
    `offset = ${f(p.offset)}${fit.fixedOffset ? " (fixed)" : ""}`,
    `rmse = ${fit.rmse.toPrecision(4)} · R² = ${fit.r2.toFixed(6)} · ${fit.iterations} LM iterations${fit.converged ? "" : " (not converged)"}`,
  ].join("\n");
}

/** Gaussian elimination with partial pivoting; null when singular. */
function solve(M: Float64Array, b: Float64Array, n: number): number[] | null {
  const a = Float64Array.from(M);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]) > Math.abs(a[pivot * n + col])) pivot = r;
    if (Math.abs(a[pivot * n + col]) < 1e-300) return null;
    if (pivot !== col) {
      for (let k = 0; k < n; k++) [a[col * n + k], a[pivot * n + k]] = [a[pivot * n + k], a[col * n + k]];
      [x[col], x[pivot]] = [x[pivot], x[col]];
    }
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col] / a[col * n + col];
      for (let k = col; k < n; k++) a[r * n + k] -= f * a[col * n + k];
      x[r] -= f * x[col];
    }
  }
  const out = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r];
    for (let k = r + 1; k < n; k++) s -= a[r * n + k] * out[k];
    out[r] = s / a[r * n + r];
  }
  return out.every(Number.isFinite) ? out : null;
}

function invert(M: Float64Array, n: number): Float64Array | null {
  const out = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    const e = new Float64Array(n);
    e[c] = 1;
    const col = solve(M, e, n);
    if (!col) return null;
    col.forEach((v, r) => (out[r * n + c] = v));
  }
  return out;
}
