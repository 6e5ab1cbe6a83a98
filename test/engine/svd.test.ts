import { describe, expect, it } from "vitest";
import { loadedNativeBlas, nativeBlasStatus } from "../../src/engine/blas.js";
import { singularValuesOf, svd, type Svd } from "../../src/engine/svd.js";

/** A deterministic uniform(−½, ½) stream. */
function stream(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648 - 0.5;
  };
}

/** An n×n orthogonal matrix: a product of three Householder reflectors I − 2vvᵀ/vᵀv (closed form). */
function orthogonal(n: number, seed: number): Float64Array {
  const r = stream(seed);
  let q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  for (let h = 0; h < 3; h++) {
    const v = Float64Array.from({ length: n }, r);
    const vv = v.reduce((s, x) => s + x * x, 0);
    const next = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += ((i === k ? 1 : 0) - (2 * v[i] * v[k]) / vv) * q[k * n + j];
        next[i * n + j] = s;
      }
    q = next;
  }
  return q;
}

/** U₁[:, :k] diag(σ) U₂[:, :k]ᵀ, an m×n matrix with singular values σ (any order). */
function withSpectrum(m: number, n: number, sigma: number[], seed: number): Float64Array {
  const u = orthogonal(m, seed);
  const v = orthogonal(n, seed + 1);
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < sigma.length; k++) s += u[i * m + k] * sigma[k] * v[j * n + k];
      a[i * n + j] = s;
    }
  return a;
}

function errors(a: ArrayLike<number>, r: Svd) {
  const { rows: m, cols: n, k } = r;
  let err = 0;
  let norm = 0;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += r.u[i * k + q] * r.s[q] * r.v[j * k + q];
      err += (s - a[i * n + j]) ** 2;
      norm += a[i * n + j] ** 2;
    }
  const orth = (x: Float64Array, len: number) => {
    let e = 0;
    for (let p = 0; p < k; p++)
      for (let q = 0; q < k; q++) {
        let s = 0;
        for (let i = 0; i < len; i++) s += x[i * k + p] * x[i * k + q];
        e = Math.max(e, Math.abs(s - (p === q ? 1 : 0)));
      }
    return e;
  };
  return {
    reconstruction: norm === 0 ? Math.sqrt(err) : Math.sqrt(err / norm),
    u: orth(r.u, m),
    v: orth(r.v, n),
  };
}

/**
 * `tol` bounds the singular values' error relative to σ₁, the reconstruction and the orthogonality;
 * `orthTol` (default `tol`) the orthogonality alone, which the Gram matrix degrades as ε·(σ₁/σ_j)².
 */
function expectSvd(a: ArrayLike<number>, m: number, n: number, sigma: number[], tol: number, orthTol = tol) {
  const r = svd(a, m, n);
  expect(r.k).toBe(Math.min(m, n));
  const expected = [...sigma, ...new Array<number>(r.k - sigma.length).fill(0)].sort((x, y) => y - x);
  const smax = expected[0] || 1;
  r.s.forEach((s, i) => expect(Math.abs(s - expected[i]) / smax, `σ${i}`).toBeLessThan(tol));
  for (let i = 1; i < r.k; i++) expect(r.s[i]).toBeLessThanOrEqual(r.s[i - 1]);
  const e = errors(a, r);
  expect(e.reconstruction, "‖A − UΣVᵀ‖/‖A‖").toBeLessThan(tol);
  expect(e.u, "‖UᵀU − I‖").toBeLessThan(orthTol);
  expect(e.v, "‖VᵀV − I‖").toBeLessThan(orthTol);
  return r;
}

describe("host SVD", () => {
  it("recovers a known spectrum of a tall matrix", () => {
    const sigma = [5, 3.5, 2, 1, 0.5, 0.25, 0.1, 0.01];
    expectSvd(withSpectrum(40, 8, sigma, 1), 40, 8, sigma, 1e-12);
  });

  it("recovers a known spectrum of a wide matrix (decomposed through its transpose)", () => {
    const sigma = Array.from({ length: 12 }, (_, i) => 2 ** -i); // κ = 2048: ε·κ² ≈ 1e-9
    expectSvd(withSpectrum(12, 30, sigma, 3), 12, 30, sigma, 1e-12, 1e-9);
  });

  it("keeps U orthonormal for a rank-deficient matrix (rank 3 of 25)", () => {
    const r = expectSvd(withSpectrum(30, 25, [4, 2, 1], 5), 30, 25, [4, 2, 1], 1e-10);
    expect(r.s[3]).toBeLessThan(1e-13);
  });

  it("gives an orthonormal basis for a repeated singular value (3 × an orthogonal matrix)", () => {
    const q = orthogonal(20, 9).map((x) => 3 * x);
    expectSvd(q, 20, 20, new Array<number>(20).fill(3), 1e-12);
  });

  it("handles a graded spectrum over ten orders of magnitude", () => {
    // Through the Gram matrix, σ_j ≪ σ₁ is accurate to about √ε·σ₁ (float32 resolves 6e-8·σ₁).
    const sigma = Array.from({ length: 16 }, (_, i) => 10 ** (-i * 0.66));
    expectSvd(withSpectrum(16, 16, sigma, 11), 16, 16, sigma, 1e-8, 1e-6);
  });

  it("handles zero, 1×1, a single row and a single column", () => {
    expectSvd(new Float64Array(12), 4, 3, [], 1e-15);
    expectSvd([-2], 1, 1, [2], 1e-15);
    expectSvd([3, 4], 1, 2, [5], 1e-15);
    expectSvd([3, 4], 2, 1, [5], 1e-15);
  });

  it("is scale-invariant (entries near 1e30 and 1e-30)", () => {
    const base = withSpectrum(10, 6, [3, 2, 1, 0.5, 0.2, 0.1], 13);
    for (const scale of [1e30, 1e-30]) {
      const r = svd(
        base.map((x) => x * scale),
        10,
        6,
      );
      expect(r.s[0] / scale).toBeCloseTo(3, 12);
      expect(r.s[5] / scale).toBeCloseTo(0.1, 12);
    }
  });

  it("meets float32 accuracy on a random float32 matrix", () => {
    const r = stream(17);
    const a = Float32Array.from({ length: 120 * 90 }, r);
    const e = errors(a, svd(a, 120, 90));
    expect(e.reconstruction).toBeLessThan(1e-12);
    expect(e.u).toBeLessThan(1e-10);
    expect(e.v).toBeLessThan(1e-10);
  });

  it("singular values alone agree with the full decomposition (to √ε·σ₁ for the zero ones)", () => {
    const a = withSpectrum(18, 11, [9, 7, 5, 3, 1], 19);
    const full = svd(a, 18, 11).s;
    singularValuesOf(a, 18, 11).forEach((s, i) => expect(Math.abs(s - full[i]) / 9).toBeLessThan(1e-7));
  });

  it("refuses non-finite entries and wrong sizes", () => {
    expect(() => svd([1, NaN, 0, 1], 2, 2)).toThrow(/non-finite/);
    expect(() => svd([1, 2, 3], 2, 2)).toThrow(/3 values for 2×2/);
  });
});

describe("svd's route", () => {
  it("is LAPACK exactly when the engine loaded OpenBLAS (TILLER_BLAS=openblas runs this file on it)", () => {
    const route = process.env.TILLER_BLAS;
    if (route === "openblas") expect(loadedNativeBlas()).not.toBeNull();
    if (route === "wasm") expect(loadedNativeBlas()).toBeNull();
    expect(nativeBlasStatus().startsWith("OpenBLAS")).toBe(loadedNativeBlas() !== null);
  });
});
