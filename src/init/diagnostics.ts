/**
 * What an initialisation (or a trained net) looks like through its weight matrices' spectra.
 * For a weight viewed as an m×n matrix W ([out, in·kh·kw] for a conv kernel) with singular values
 * σ₁ ≥ … ≥ σ_k, k = min(m, n):
 *
 *   spectral norm        σ₁
 *   condition number     σ₁ / σ_k                      (∞ when σ_k is 0 at float32 resolution)
 *   effective rank       exp(H(p)), p_i = σ_i / Σσ_j,  H(p) = −Σ p_i ln p_i   (Roy & Vetterli 2007)
 *   effective rank ratio effective rank / k           (1 for an orthogonal matrix)
 *   mean, std            of the entries (std with divisor mn)
 *
 * Singular values come from the eigenvalues of the smaller Gram matrix (WᵀW or WWᵀ) in float64 on
 * the host (`singularValuesOf` in src/engine/svd.ts: Householder tridiagonalisation + implicit QL):
 * ~0.5 s at 784×512 on the dev box (1.6 s with the earlier naive Gram + full-matrix reduction,
 * bench/svd.ts) against 5.9 s for a 512² SVD in jax-js (DESIGN.md); squaring costs accuracy only
 * below σ ≈ 1e-8·σ₁, far under float32's own resolution of the weights.
 */
import type { numpy as np } from "../engine/jax.js";
import { namedLeaves, type Params } from "../engine/tree.js";
import { singularValuesOf } from "../engine/svd.js";

export type MatrixDiagnostics = {
  rows: number;
  cols: number;
  spectralNorm: number;
  conditionNumber: number;
  effectiveRank: number;
  effectiveRankRatio: number;
  mean: number;
  std: number;
  /** σ₁ ≥ … ≥ σ_k. */
  singularValues: number[];
};

/** Singular values of the row-major `rows × cols` matrix `data`, descending, in float64. */
export function singularValues(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (data.length !== rows * cols)
    throw new Error(`singularValues: ${data.length} values for ${rows}×${cols}`);
  const k = Math.min(rows, cols);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return new Float64Array(k).fill(NaN);
  return singularValuesOf(data, rows, cols);
}

/** Effective rank exp(H(p)), p_i = σ_i/Σσ_j (zero σ contribute nothing). */
export function effectiveRank(sigma: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < sigma.length; i++) total += sigma[i];
  if (!(total > 0)) return total === 0 ? 0 : NaN;
  let h = 0;
  for (let i = 0; i < sigma.length; i++) {
    const p = sigma[i] / total;
    if (p > 0) h -= p * Math.log(p);
  }
  return Math.exp(h);
}

/** Every diagnostic of one row-major `rows × cols` matrix. */
export function matrixDiagnostics(data: ArrayLike<number>, rows: number, cols: number): MatrixDiagnostics {
  const sigma = singularValues(data, rows, cols);
  const k = sigma.length;
  const smax = sigma[0];
  const smin = sigma[k - 1];
  // σ_k below float32's resolution of W counts as 0 (numpy.linalg.matrix_rank's tolerance).
  const tol = smax * Math.max(rows, cols) * 2 ** -23;
  const conditionNumber = Number.isNaN(smax) ? NaN : smin > tol ? smax / smin : Infinity;
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i];
  const mean = sum / data.length;
  let sq = 0;
  for (let i = 0; i < data.length; i++) sq += (data[i] - mean) ** 2;
  const erank = effectiveRank(sigma);
  return {
    rows,
    cols,
    spectralNorm: smax,
    conditionNumber,
    effectiveRank: erank,
    effectiveRankRatio: erank / k,
    mean,
    std: Math.sqrt(sq / data.length),
    singularValues: Array.from(sigma),
  };
}

export type LayerDiagnostics = MatrixDiagnostics & { name: string; shape: number[] };

export type ModelDiagnostics = {
  layers: LayerDiagnostics[];
  /**
   * Arithmetic means over the weight matrices that are not all zero (NaN if any is NaN, ∞ if any
   * condition number is).
   */
  average: { conditionNumber: number; spectralNorm: number; effectiveRankRatio: number };
};

/** The weight matrices of a param tree: leaves named `…weight` with at least 2 dimensions. */
export function weightMatrices(params: Params): [string, np.Array][] {
  return namedLeaves(params).filter(([name, x]) => /(^|\.)weight$/.test(name) && x.ndim >= 2);
}

/** Diagnostics of every weight matrix of `params` and their averages. Borrows `params`. */
export async function modelDiagnostics(params: Params): Promise<ModelDiagnostics> {
  const layers: LayerDiagnostics[] = [];
  for (const [name, x] of weightMatrices(params)) {
    const shape = x.shape;
    const data = await x.ref.data();
    layers.push({ name, shape, ...matrixDiagnostics(data, shape[0], data.length / shape[0]) });
  }
  // An all-zero matrix (a zero-initialised last projection) has no condition number or spectrum to
  // speak of; averaging its ∞ in would hide every other matrix.
  const counted = layers.filter((l) => l.spectralNorm !== 0);
  const avg = (f: (l: LayerDiagnostics) => number) =>
    counted.length ? counted.reduce((s, l) => s + f(l), 0) / counted.length : NaN;
  return {
    layers,
    average: {
      conditionNumber: avg((l) => l.conditionNumber),
      spectralNorm: avg((l) => l.spectralNorm),
      effectiveRankRatio: avg((l) => l.effectiveRankRatio),
    },
  };
}
