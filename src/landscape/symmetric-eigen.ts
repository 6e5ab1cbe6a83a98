/**
 * Eigen-decomposition of small dense symmetric matrices on the host, in float64: the Lanczos
 * tridiagonal matrices (≤ a few hundred rows) and the Gram matrices of checkpoint trajectories.
 * Cyclic Jacobi rotations (Golub & Van Loan §8.5): slow for large n, but simple and accurate to
 * machine precision for the sizes used here.
 */
import { tridiagonalEigenvalues } from "../engine/svd.js";

export type SymmetricEigen = {
  /** Descending. */
  values: number[];
  /** vectors[i] is the unit eigenvector of values[i]. */
  vectors: Float64Array[];
};

/** `a` is n×n row-major and symmetric; it is not modified. */
export function symmetricEigen(a: ArrayLike<number>, n: number, maxSweeps = 100): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n * n} entries, got ${a.length}`);
  const m = Float64Array.from(a);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  const offNorm = () => {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += m[i * n + j] ** 2;
    return s;
  };
  let total = 0;
  for (let i = 0; i < n * n; i++) total += m[i] ** 2;
  for (let sweep = 0; sweep < maxSweeps && offNorm() > 1e-30 * total; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i]);
  return {
    values: order.map((i) => m[i * n + i]),
    vectors: order.map((i) => {
      const col = new Float64Array(n);
      for (let k = 0; k < n; k++) col[k] = v[k * n + i];
      return col;
    }),
  };
}

/** The symmetric tridiagonal matrix with diagonal `alpha` and off-diagonal `beta`, row-major. */
export function tridiagonal(alpha: number[], beta: number[]): Float64Array {
  const n = alpha.length;
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    t[i * n + i] = alpha[i];
    if (i < n - 1) {
      t[i * n + i + 1] = beta[i];
      t[(i + 1) * n + i] = beta[i];
    }
  }
  return t;
}

/**
 * All eigenvalues (descending) of a dense symmetric n×n matrix: Householder reduction to
 * tridiagonal form, then the implicit QL iteration with Wilkinson shifts (Golub & Van Loan §8.3).
 * O(n³) without eigenvectors: fine for explicit Hessians of networks with a few thousand weights.
 */
export function symmetricEigenvalues(a: ArrayLike<number>, n: number): number[] {
  if (a.length !== n * n) throw new Error(`symmetricEigenvalues: expected ${n * n} entries, got ${a.length}`);
  const m = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  // Householder: zero row i left of the subdiagonal, for i = n-1 … 1, on the leading (i+1)×(i+1) block.
  const u = new Float64Array(n);
  const p = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    let sigma = 0;
    for (let k = 0; k < i; k++) sigma += m[i * n + k] ** 2;
    const x0 = m[i * n + i - 1];
    if (sigma - x0 * x0 < 1e-300 * (1 + sigma)) {
      e[i] = x0;
      continue;
    }
    const alpha = x0 > 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    e[i] = alpha;
    for (let k = 0; k < i; k++) u[k] = m[i * n + k];
    u[i - 1] -= alpha;
    const h = sigma - x0 * alpha; // ‖u‖²/2
    // p = A u / h, K = uᵀp / 2h, q = p − K u; A ← A − u qᵀ − q uᵀ on the leading i×i block.
    let upSum = 0;
    for (let r = 0; r < i; r++) {
      let s = 0;
      for (let c = 0; c < i; c++) s += m[r * n + c] * u[c];
      p[r] = s / h;
      upSum += u[r] * p[r];
    }
    const K = upSum / (2 * h);
    for (let r = 0; r < i; r++) p[r] -= K * u[r];
    for (let r = 0; r < i; r++) for (let c = 0; c < i; c++) m[r * n + c] -= u[r] * p[c] + p[r] * u[c];
  }
  for (let i = 0; i < n; i++) d[i] = m[i * n + i];
  // e[i] couples rows i-1 and i; shift so that e[i] couples i and i+1 as the QL loop expects.
  for (let i = 0; i < n - 1; i++) e[i] = e[i + 1];
  e[n - 1] = 0;
  return tridiagonalEigenvalues(d, e).sort((x, y) => y - x);
}
