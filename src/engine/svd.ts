/**
 * Thin singular value decomposition A = U diag(σ) Vᵀ of a dense real matrix, on the host in
 * float64. jax-js 0.1.25's `linalg.svd` takes 0.5 s / 5.9 s / 107 s at n = 256 / 512 / 1024 on
 * the 2-core dev box; this takes a few × LAPACK (bench/svd.ts has the numbers).
 *
 * Method, for a tall A (m ≥ n; a wide one is decomposed as Aᵀ):
 *   1. G = AᵀA in float64 (products of float32 entries are exact in float64).
 *   2. Householder reduction G = Q T Qᵀ to a symmetric tridiagonal T (Golub & Van Loan §8.3.1),
 *      using symmetry: n³/2 multiply-adds.
 *   3. T splits where its off-diagonal is negligible; in each block, eigenvalues by the implicit
 *      QL iteration with Wilkinson shifts (no vectors: O(n²)), eigenvectors by inverse iteration
 *      with a pivoted tridiagonal LU (O(n) per vector), re-orthogonalised within clusters of close
 *      eigenvalues, as LAPACK's dstein does.
 *   4. V = Q Z, then U Σ = A V: σ_j = ‖A v_j‖ (accurate to ε‖A‖ even when σ_j ≪ σ₁, unlike
 *      √λ_j), u_j = A v_j / σ_j.
 *   5. Squaring A loses the orthogonality of u_j as ε·σ₁²/σ_j²: the columns with σ_j < 1e-4·σ₁
 *      (and any σ_j = 0) are re-orthogonalised against all earlier ones by two passes of
 *      modified Gram–Schmidt; a null direction gets an orthonormal completion. Reconstruction is
 *      unaffected: such a column's term σ_j u_j v_jᵀ is below 1e-4·σ₁ anyway, and V is
 *      orthogonal to ~1e-14.
 * Accuracy (test/engine/svd.test.ts): ‖A − UΣVᵀ‖/‖A‖, ‖UᵀU − I‖ and ‖VᵀV − I‖ around 1e-13 for
 * well-conditioned matrices and below 1e-9 for rank-deficient and clustered spectra.
 */

import { loadedNativeBlas, type NativeBlas } from "./blas.js";

export type Svd = {
  rows: number;
  cols: number;
  /** k = min(rows, cols). */
  k: number;
  /** rows × k, row-major, orthonormal columns. */
  u: Float64Array;
  /** k singular values, descending, ≥ 0. */
  s: Float64Array;
  /** cols × k, row-major, orthonormal columns (V, not Vᵀ). */
  v: Float64Array;
};

const EPS = 2 ** -52;

/**
 * Thin SVD of the row-major `rows × cols` matrix `a`. Throws on non-finite entries. Runs LAPACK's
 * dgesdd where the engine loaded OpenBLAS (native-blas.ts), else the method above.
 */
export function svd(a: ArrayLike<number>, rows: number, cols: number): Svd {
  const blas = loadedNativeBlas();
  if (blas !== null) return lapackSvd(blas, a, rows, cols);
  const k = Math.min(rows, cols);
  const tall = rows >= cols;
  const [m, n] = tall ? [rows, cols] : [cols, rows];
  const { columns, scale } = columnsOf(a, rows, cols, tall);
  const vecs = tallSvd(columns, m, n);
  for (let j = 0; j < k; j++) vecs.s[j] *= scale;
  // vecs.u: k columns of length m; vecs.v: k columns of length n (for the tall orientation).
  const [uCols, uLen, vCols, vLen] = tall ? [vecs.u, m, vecs.v, n] : [vecs.v, n, vecs.u, m];
  return { rows, cols, k, u: rowMajor(uCols, uLen, k), s: vecs.s, v: rowMajor(vCols, vLen, k) };
}

/** Singular values only (descending): steps 1–3 without eigenvectors. */
export function singularValuesOf(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const blas = loadedNativeBlas();
  if (blas !== null) return blas.dgesdd(cols, rows, lapackInput(a, rows, cols), false).s;
  const tall = rows >= cols;
  const [m, n] = tall ? [rows, cols] : [cols, rows];
  const { columns, scale } = columnsOf(a, rows, cols, tall);
  const { d, e } = tridiagonalize(gram(columns, m, n), n).tri;
  const values = tridiagonalEigenvalues(d, e).sort((x, y) => y - x);
  return Float64Array.from(values, (l) => Math.sqrt(Math.max(l, 0)) * scale);
}

/**
 * The row-major rows×cols `a` read as column-major is Aᵀ (cols×rows): LAPACK gets Aᵀ = U′ΣV′ᵀ, so
 * A = V′ΣU′ᵀ. Row-major U of A (rows×k) is V′ᵀ's column-major storage as it is; V = U′ transposed.
 */
function lapackSvd(blas: NativeBlas, a: ArrayLike<number>, rows: number, cols: number): Svd {
  const k = Math.min(rows, cols);
  const { s, u: uPrime, vt } = blas.dgesdd(cols, rows, lapackInput(a, rows, cols), true);
  const v = new Float64Array(cols * k);
  for (let j = 0; j < k; j++) for (let i = 0; i < cols; i++) v[i * k + j] = uPrime[i + j * cols];
  return { rows, cols, k, u: vt, s, v };
}

/** A float64 copy for LAPACK (which overwrites it); the same errors as the JavaScript path. */
function lapackInput(a: ArrayLike<number>, rows: number, cols: number): Float64Array {
  if (a.length !== rows * cols) throw new Error(`svd: ${a.length} values for ${rows}×${cols}`);
  if (!(rows >= 1 && cols >= 1)) throw new Error(`svd: empty ${rows}×${cols} matrix`);
  const copy = Float64Array.from(a);
  for (let i = 0; i < copy.length; i++)
    if (!Number.isFinite(copy[i])) throw new Error("svd: the matrix has non-finite entries");
  return copy;
}

/**
 * The n columns (length m) of the tall orientation, contiguous, scaled by 1/max|a| so that the
 * Gram matrix can neither overflow nor underflow.
 */
function columnsOf(a: ArrayLike<number>, rows: number, cols: number, tall: boolean) {
  if (a.length !== rows * cols) throw new Error(`svd: ${a.length} values for ${rows}×${cols}`);
  if (!(rows >= 1 && cols >= 1)) throw new Error(`svd: empty ${rows}×${cols} matrix`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i]);
    if (!Number.isFinite(x)) throw new Error("svd: the matrix has non-finite entries");
    if (x > max) max = x;
  }
  const scale = max === 0 ? 1 : max;
  const [m, n] = tall ? [rows, cols] : [cols, rows];
  const columns = new Float64Array(m * n); // column j of the tall matrix at j·m
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const x = a[r * cols + c] / scale;
      if (tall) columns[c * m + r] = x;
      else columns[r * m + c] = x;
    }
  return { columns, scale };
}

/** The row-major m×n matrix whose columns (length m) are `columns`. */
function rowsOf(columns: Float64Array, m: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let c = 0; c < n; c++) for (let t = 0; t < m; t++) out[t * n + c] = columns[c * m + t];
  return out;
}

function rowMajor(columns: Float64Array[], len: number, k: number): Float64Array {
  const out = new Float64Array(len * k);
  for (let j = 0; j < k; j++) {
    const c = columns[j];
    for (let i = 0; i < len; i++) out[i * k + j] = c[i];
  }
  return out;
}

/** G = AᵀA (n × n, row-major, full) from A's columns; four dot products at a time. */
function gram(columns: Float64Array, m: number, n: number): Float64Array {
  const g = new Float64Array(n * n);
  for (let i0 = 0; i0 < n; i0 += 4) {
    const i1 = Math.min(i0 + 1, n - 1);
    const i2 = Math.min(i0 + 2, n - 1);
    const i3 = Math.min(i0 + 3, n - 1);
    const a0 = i0 * m;
    const a1 = i1 * m;
    const a2 = i2 * m;
    const a3 = i3 * m;
    for (let j = 0; j <= i3; j++) {
      const b = j * m;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < m; t++) {
        const y = columns[b + t];
        s0 += columns[a0 + t] * y;
        s1 += columns[a1 + t] * y;
        s2 += columns[a2 + t] * y;
        s3 += columns[a3 + t] * y;
      }
      const sums = [s0, s1, s2, s3];
      for (let q = 0; q < 4 && i0 + q < n; q++) {
        const i = i0 + q;
        if (j > i) continue;
        g[i * n + j] = sums[q];
        g[j * n + i] = sums[q];
      }
    }
  }
  return g;
}

type Reflector = { u: Float64Array; h: number } | null;

/**
 * Householder tridiagonalisation of the symmetric n×n `g` (destroyed): G = Q T Qᵀ with
 * Q = P_{n−1} ⋯ P_1, P_i = I − u uᵀ/h acting on coordinates 0..i−1. Only the lower triangle is
 * read and updated. Returns T's diagonal d and off-diagonal e (e[i] couples i and i+1).
 */
function tridiagonalize(
  g: Float64Array,
  n: number,
): { tri: { d: Float64Array; e: Float64Array }; reflectors: Reflector[] } {
  const d = new Float64Array(n);
  const e = new Float64Array(Math.max(n - 1, 0));
  const reflectors: Reflector[] = new Array<Reflector>(n).fill(null);
  const p = new Float64Array(n);
  for (let i = n - 1; i > 0; i--) {
    const row = i * n;
    let sigma = 0;
    for (let k = 0; k < i; k++) sigma += g[row + k] * g[row + k];
    const x0 = g[row + i - 1];
    if (sigma - x0 * x0 <= 1e-300 + EPS * EPS * sigma) {
      e[i - 1] = x0;
      continue;
    }
    const alpha = x0 > 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    e[i - 1] = alpha;
    const u = g.slice(row, row + i);
    u[i - 1] -= alpha;
    const h = sigma - x0 * alpha; // ‖u‖²/2
    // p = G u / h over the leading i×i block, from its lower triangle.
    p.fill(0, 0, i);
    for (let r = 0; r < i; r++) {
      const rr = r * n;
      const ur = u[r];
      let s = g[rr + r] * ur;
      for (let c = 0; c < r; c++) {
        const x = g[rr + c];
        s += x * u[c];
        p[c] += x * ur;
      }
      p[r] += s;
    }
    let up = 0;
    for (let r = 0; r < i; r++) {
      p[r] /= h;
      up += u[r] * p[r];
    }
    const kk = up / (2 * h);
    for (let r = 0; r < i; r++) p[r] -= kk * u[r];
    // G ← G − u pᵀ − p uᵀ on the lower triangle of the leading block.
    for (let r = 0; r < i; r++) {
      const rr = r * n;
      const ur = u[r];
      const pr = p[r];
      for (let c = 0; c <= r; c++) g[rr + c] -= ur * p[c] + pr * u[c];
    }
    reflectors[i] = { u, h };
  }
  for (let i = 0; i < n; i++) d[i] = g[i * n + i];
  return { tri: { d, e }, reflectors };
}

/** Eigenvalues of the symmetric tridiagonal (d, e) by implicit QL with Wilkinson shifts (unsorted). */
export function tridiagonalEigenvalues(diag: ArrayLike<number>, off: ArrayLike<number>): number[] {
  const n = diag.length;
  const d = Float64Array.from(diag);
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = off[i];
  for (let l = 0; l < n; l++) {
    for (let iter = 0; ; iter++) {
      let mEnd = l;
      for (; mEnd < n - 1; mEnd++) {
        const dd = Math.abs(d[mEnd]) + Math.abs(d[mEnd + 1]);
        if (Math.abs(e[mEnd]) <= EPS * dd) break;
      }
      if (mEnd === l) break;
      if (iter > 60) throw new Error("svd: QL iteration did not converge");
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[mEnd] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let pp = 0;
      let i = mEnd - 1;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= pp;
          e[mEnd] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - pp;
        r = (d[i] - g) * s + 2 * c * b;
        pp = s * r;
        d[i + 1] = g + pp;
        g = c * r - b;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= pp;
      e[l] = g;
      e[mEnd] = 0;
    }
  }
  return Array.from(d);
}

/** A small deterministic generator of start vectors in (−1, 1). */
function startVector(len: number, seed: number): Float64Array {
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x / 2 ** 31 - 1;
  }
  return out;
}

/** Makes `x` orthogonal to each of `basis` (modified Gram–Schmidt); returns the remaining norm. */
function orthogonalize(x: Float64Array, basis: Float64Array[], from = 0, to = x.length): number {
  for (const b of basis) {
    let dot = 0;
    for (let i = from; i < to; i++) dot += b[i] * x[i];
    for (let i = from; i < to; i++) x[i] -= dot * b[i];
  }
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s);
}

/**
 * Eigenvectors of the symmetric tridiagonal block (d, e)[lo..hi] for its eigenvalues `values`
 * (ascending), by inverse iteration (LAPACK dstein): each a full-length vector, zero outside the block.
 */
function blockEigenvectors(
  d: Float64Array,
  e: Float64Array,
  lo: number,
  hi: number,
  values: number[],
  n: number,
): Float64Array[] {
  const p = hi - lo + 1;
  let norm = 0;
  for (let i = lo; i <= hi; i++)
    norm = Math.max(norm, Math.abs(d[i]) + (i > lo ? Math.abs(e[i - 1]) : 0) + (i < hi ? Math.abs(e[i]) : 0));
  const ortol = 1e-5 * norm;
  const pertol = 10 * EPS * norm;
  const tiny = EPS * norm || Number.MIN_VALUE;
  const u0 = new Float64Array(p);
  const u1 = new Float64Array(p);
  const u2 = new Float64Array(p);
  const mult = new Float64Array(p);
  const swap = new Uint8Array(p);
  const out: Float64Array[] = [];
  let cluster: Float64Array[] = []; // block-local vectors of the current cluster
  let prev = -Infinity;
  for (let j = 0; j < values.length; j++) {
    let lambda = values[j];
    if (j > 0 && lambda - prev > ortol) cluster = [];
    if (j > 0 && lambda - prev < pertol) lambda = prev + pertol;
    prev = lambda;
    // LU with partial pivoting of T − λI (rows: sub e[i−1], diag d[i] − λ, super e[i]).
    let b = d[lo] - lambda;
    let c = p > 1 ? e[lo] : 0;
    for (let i = 0; i < p - 1; i++) {
      const a = e[lo + i];
      const bn = d[lo + i + 1] - lambda;
      const cn = i + 1 < p - 1 ? e[lo + i + 1] : 0;
      if (Math.abs(b) >= Math.abs(a)) {
        if (b === 0) b = tiny;
        const l = a / b;
        u0[i] = b;
        u1[i] = c;
        u2[i] = 0;
        mult[i] = l;
        swap[i] = 0;
        b = bn - l * c;
        c = cn;
      } else {
        const l = b / a;
        u0[i] = a;
        u1[i] = bn;
        u2[i] = cn;
        mult[i] = l;
        swap[i] = 1;
        b = c - l * bn;
        c = -l * cn;
      }
    }
    u0[p - 1] = b === 0 ? tiny : b;
    let x = startVector(p, j + 7 * lo);
    for (let iter = 0; iter < 3; iter++) {
      for (let i = 0; i < p - 1; i++) {
        if (swap[i]) {
          const t = x[i];
          x[i] = x[i + 1];
          x[i + 1] = t;
        }
        x[i + 1] -= mult[i] * x[i];
      }
      x[p - 1] /= u0[p - 1];
      if (p > 1) x[p - 2] = (x[p - 2] - u1[p - 2] * x[p - 1]) / u0[p - 2];
      for (let i = p - 3; i >= 0; i--) x[i] = (x[i] - u1[i] * x[i + 1] - u2[i] * x[i + 2]) / u0[i];
      let nrm = orthogonalize(x, cluster);
      if (!(nrm > 0) || !Number.isFinite(nrm)) {
        x = startVector(p, 1000003 + j);
        nrm = orthogonalize(x, cluster);
      }
      for (let i = 0; i < p; i++) x[i] /= nrm;
    }
    cluster.push(x);
    const full = new Float64Array(n);
    full.set(x, lo);
    out.push(full);
  }
  return out;
}

/** Eigenvalues (descending) and orthonormal eigenvectors of the tridiagonal T = (d, e). */
function tridiagonalEigen(d: Float64Array, e: Float64Array): { values: number[]; vectors: Float64Array[] } {
  const n = d.length;
  const values: number[] = [];
  const vectors: Float64Array[] = [];
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const split = i === n - 1 || Math.abs(e[i]) <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1]));
    if (!split) continue;
    const hi = i;
    const blockValues = tridiagonalEigenvalues(d.subarray(lo, hi + 1), e.subarray(lo, hi)).sort(
      (a, b) => a - b,
    );
    const blockVectors = blockEigenvectors(d, e, lo, hi, blockValues, n);
    values.push(...blockValues);
    vectors.push(...blockVectors);
    lo = i + 1;
  }
  const order = values.map((_, i) => i).sort((i, j) => values[j] - values[i]);
  return { values: order.map((i) => values[i]), vectors: order.map((i) => vectors[i]) };
}

/**
 * V = P_{n−1} ⋯ P_1 Z in place (P_1 first), four vectors at a time: four independent dot
 * products per pass over a reflector, then four updates.
 */
function applyReflectors(reflectors: Reflector[], vectors: Float64Array[], n: number): void {
  for (let j0 = 0; j0 < vectors.length; j0 += 4) {
    const z0 = vectors[j0];
    const z1 = vectors[Math.min(j0 + 1, vectors.length - 1)];
    const z2 = vectors[Math.min(j0 + 2, vectors.length - 1)];
    const z3 = vectors[Math.min(j0 + 3, vectors.length - 1)];
    const g = Math.min(4, vectors.length - j0);
    for (let i = 1; i < n; i++) {
      const r = reflectors[i];
      if (!r) continue;
      const u = r.u;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < i; t++) {
        const x = u[t];
        s0 += x * z0[t];
        s1 += x * z1[t];
        s2 += x * z2[t];
        s3 += x * z3[t];
      }
      // Duplicated tail vectors (g < 4) must be updated once only.
      const f0 = s0 / r.h;
      const f1 = g > 1 ? s1 / r.h : 0;
      const f2 = g > 2 ? s2 / r.h : 0;
      const f3 = g > 3 ? s3 / r.h : 0;
      for (let t = 0; t < i; t++) {
        const x = u[t];
        z0[t] -= f0 * x;
        z1[t] -= f1 * x;
        z2[t] -= f2 * x;
        z3[t] -= f3 * x;
      }
    }
  }
}

/**
 * W = A V for the row-major m×n `a` and V given by its columns: w_j[t] = a_t · v_j, four columns
 * at a time (four independent dot products sharing each row of A).
 */
function times(a: Float64Array, m: number, n: number, vectors: Float64Array[]): Float64Array[] {
  const out = vectors.map(() => new Float64Array(m));
  const last = vectors.length - 1;
  for (let j0 = 0; j0 <= last; j0 += 4) {
    const v0 = vectors[j0];
    const v1 = vectors[Math.min(j0 + 1, last)];
    const v2 = vectors[Math.min(j0 + 2, last)];
    const v3 = vectors[Math.min(j0 + 3, last)];
    const w0 = out[j0];
    const w1 = out[Math.min(j0 + 1, last)];
    const w2 = out[Math.min(j0 + 2, last)];
    const w3 = out[Math.min(j0 + 3, last)];
    for (let t = 0; t < m; t++) {
      const base = t * n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let c = 0; c < n; c++) {
        const x = a[base + c];
        s0 += x * v0[c];
        s1 += x * v1[c];
        s2 += x * v2[c];
        s3 += x * v3[c];
      }
      // Written in reverse so that a duplicated tail column ends with its own value.
      w3[t] = s3;
      w2[t] = s2;
      w1[t] = s1;
      w0[t] = s0;
    }
  }
  return out;
}

/** The tall case: `columns` holds A's n columns of length m (m ≥ n), scaled. */
function tallSvd(columns: Float64Array, m: number, n: number) {
  const { tri, reflectors } = tridiagonalize(gram(columns, m, n), n);
  const { vectors } = tridiagonalEigen(tri.d, tri.e);
  applyReflectors(reflectors, vectors, n);
  const w = times(rowsOf(columns, m, n), m, n, vectors);
  const sigma = w.map((col) => Math.sqrt(col.reduce((s, x) => s + x * x, 0)));
  const order = sigma.map((_, i) => i).sort((i, j) => sigma[j] - sigma[i]);
  const s = Float64Array.from(order, (i) => sigma[i]);
  const v = order.map((i) => vectors[i]);
  const u: Float64Array[] = [];
  const smax = s[0];
  for (let j = 0; j < n; j++) {
    let x = w[order[j]];
    const sj = s[j];
    if (sj > 1e-4 * smax) {
      for (let t = 0; t < m; t++) x[t] /= sj;
    } else {
      if (sj > 0) for (let t = 0; t < m; t++) x[t] /= sj;
      else x = startVector(m, 31 + j);
      let nrm = 0;
      for (let seed = 0; seed < 3; seed++) {
        orthogonalize(x, u);
        nrm = orthogonalize(x, u);
        if (nrm > 1e-3) break;
        x = startVector(m, 7919 * (seed + 1) + j);
      }
      for (let t = 0; t < m; t++) x[t] /= nrm;
    }
    u.push(x);
  }
  return { u, s, v };
}
