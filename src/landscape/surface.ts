/**
 * Loss surfaces: L(w₀ + λ₁·d₁ + λ₂·d₂) on a grid (default 40×40, λ ∈ [−0.2, 0.2], the book's
 * setting), 1-D slices L(w₀ + λ·d), and linear interpolation between two weight vectors. Every
 * point is evaluated by a jitted program whose base and directions stay on the device; the grid
 * is evaluated row by row with progress, `plane.pointsPerCall` points per call (on WebGPU a whole
 * row in one vmapped program and one read-back, instead of one read-back per point).
 */
import type { Evaluation, Objective, Subspace } from "./objective.js";
import { sub, type Vector } from "./vector.js";

export type Grid2D = {
  /** λ₁ values (columns). */
  x: number[];
  /** λ₂ values (rows). */
  y: number[];
  /** loss[j][i] at (x[i], y[j]). */
  loss: number[][];
  accuracy: number[][];
};

export type Slice1D = { alpha: number[]; loss: number[]; accuracy: number[] };

/** n evenly spaced values from a to b inclusive (numpy's linspace). */
export function linspace(a: number, b: number, n: number): number[] {
  if (n === 1) return [a];
  return Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
}

export type GridOptions = {
  xRange?: [number, number];
  yRange?: [number, number];
  steps?: number;
  onProgress?: (done: number, total: number, last: Evaluation) => void;
};

/** Evaluates a 2-D subspace (two directions) on a grid. */
export async function surface2d(plane: Subspace, opts: GridOptions = {}): Promise<Grid2D> {
  const { xRange = [-0.2, 0.2], steps = 40 } = opts;
  const yRange = opts.yRange ?? xRange;
  const x = linspace(xRange[0], xRange[1], steps);
  const y = linspace(yRange[0], yRange[1], steps);
  const loss: number[][] = [];
  const accuracy: number[][] = [];
  let done = 0;
  const chunk = Math.max(1, plane.pointsPerCall);
  for (const b of y) {
    const rowLoss: number[] = [];
    const rowAcc: number[] = [];
    for (let i = 0; i < x.length; i += chunk) {
      const points = x.slice(i, i + chunk).map((a) => [a, b]);
      const evaluations = chunk === 1 ? [await plane.at(points[0])] : await plane.atMany(points);
      for (const e of evaluations) {
        rowLoss.push(e.loss);
        rowAcc.push(e.accuracy);
        opts.onProgress?.(++done, x.length * y.length, e);
      }
    }
    loss.push(rowLoss);
    accuracy.push(rowAcc);
  }
  return { x, y, loss, accuracy };
}

/** Evaluates a line (one direction) at `alphas`. */
export async function slice1d(
  line: Subspace,
  alphas: number[],
  onProgress?: (done: number, total: number, last: Evaluation) => void,
): Promise<Slice1D> {
  const loss: number[] = [];
  const accuracy: number[] = [];
  for (const a of alphas) {
    const e = await line.at([a]);
    loss.push(e.loss);
    accuracy.push(e.accuracy);
    onProgress?.(loss.length, alphas.length, e);
  }
  return { alpha: alphas, loss, accuracy };
}

/**
 * Loss and accuracy along w(α) = (1−α)·w₁ + α·w₂ (the book's `linear_interpolation`; α outside
 * [0, 1] extrapolates).
 */
export async function interpolate(
  objective: Objective,
  w1: Vector,
  w2: Vector,
  alphas: number[],
  onProgress?: (done: number, total: number, last: Evaluation) => void,
): Promise<Slice1D> {
  const line = objective.subspace(w1, [sub(w2, w1)]);
  try {
    return await slice1d(line, alphas, onProgress);
  } finally {
    line.dispose();
  }
}
