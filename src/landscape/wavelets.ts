/**
 * Multi-scale analysis of a surface: the 2-D discrete wavelet transform (as the book's
 * `pywt.wavedec2`) with orthogonal Daubechies wavelets in periodization mode, so each level halves
 * the grid and the transform is orthogonal (perfect reconstruction, energy preserved). Odd sizes
 * are extended by repeating the last sample, as pywt does, and cropped back on reconstruction.
 *
 * Wavelet names follow pywt: "haar" (= db1, 2 taps), "db2" (Daubechies' D4, 4 taps), "db4" (8 taps).
 */
import { UsageError } from "../errors.js";

const S3 = Math.sqrt(3);
const R2 = Math.SQRT2;

/** Reconstruction low-pass filters (pywt's `rec_lo`), normalised to Σh = √2, Σh² = 1. */
export const WAVELETS = {
  haar: [1 / R2, 1 / R2],
  db2: [(1 + S3) / (4 * R2), (3 + S3) / (4 * R2), (3 - S3) / (4 * R2), (1 - S3) / (4 * R2)],
  db4: [
    0.2303778133088965, 0.7148465705529157, 0.6308807679298589, -0.027983769416859854, -0.18703481171909309,
    0.030841381835560764, 0.0328830116668852, -0.010597401785069032,
  ],
} as const;
export type WaveletName = keyof typeof WAVELETS;

export function isWavelet(name: string): name is WaveletName {
  return name in WAVELETS;
}

type Filters = { lo: readonly number[]; hi: number[] };

function filters(name: WaveletName): Filters {
  const lo = WAVELETS[name];
  const L = lo.length;
  // Quadrature mirror: g[n] = (−1)ⁿ h[L−1−n].
  return { lo, hi: lo.map((_, n) => (n % 2 ? -1 : 1) * lo[L - 1 - n]) };
}

/** One level of the periodized 1-D transform of an even-length signal: [approximation, detail]. */
function analyze(x: Float64Array, f: Filters): [Float64Array, Float64Array] {
  const N = x.length;
  const half = N / 2;
  const a = new Float64Array(half);
  const d = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    let sa = 0;
    let sd = 0;
    for (let n = 0; n < f.lo.length; n++) {
      const v = x[(((2 * k + n) % N) + N) % N];
      sa += f.lo[n] * v;
      sd += f.hi[n] * v;
    }
    a[k] = sa;
    d[k] = sd;
  }
  return [a, d];
}

/** The transpose (= inverse, the transform being orthogonal) of `analyze`. */
function synthesize(a: Float64Array, d: Float64Array, f: Filters): Float64Array {
  const half = a.length;
  const N = 2 * half;
  const x = new Float64Array(N);
  for (let k = 0; k < half; k++)
    for (let n = 0; n < f.lo.length; n++) x[(2 * k + n) % N] += f.lo[n] * a[k] + f.hi[n] * d[k];
  return x;
}

/** A matrix as rows × cols, row-major. */
export type Matrix = { rows: number; cols: number; data: Float64Array };

export function matrixOf(rows: number[][]): Matrix {
  const r = rows.length;
  const c = rows[0]?.length ?? 0;
  const data = new Float64Array(r * c);
  rows.forEach((row, i) => {
    if (row.length !== c) throw new UsageError("a surface grid must be rectangular");
    data.set(row, i * c);
  });
  return { rows: r, cols: c, data };
}

export function toRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
}

function padEven(m: Matrix): Matrix {
  const rows = m.rows + (m.rows % 2);
  const cols = m.cols + (m.cols % 2);
  if (rows === m.rows && cols === m.cols) return m;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      data[i * cols + j] = m.data[Math.min(i, m.rows - 1) * m.cols + Math.min(j, m.cols - 1)];
  return { rows, cols, data };
}

/** Level details as pywt names them: H (horizontal), V (vertical), D (diagonal). */
export type Detail = { H: Matrix; V: Matrix; D: Matrix };
export type Decomposition = {
  wavelet: WaveletName;
  /** Coarsest approximation. */
  approximation: Matrix;
  /** details[0] is the coarsest level, as in pywt's list (cA_n, (cH_n, cV_n, cD_n), …, (cH_1, …)). */
  details: Detail[];
  /** Input shape before padding at each level, finest first, to crop on reconstruction. */
  shapes: [number, number][];
};

function dwt2(m: Matrix, f: Filters): { a: Matrix; detail: Detail } {
  const p = padEven(m);
  const hr = p.rows / 2;
  const hc = p.cols / 2;
  // Along columns (x) within each row, then along rows (y).
  const lo = new Float64Array(p.rows * hc);
  const hi = new Float64Array(p.rows * hc);
  for (let i = 0; i < p.rows; i++) {
    const [a, d] = analyze(p.data.slice(i * p.cols, (i + 1) * p.cols), f);
    lo.set(a, i * hc);
    hi.set(d, i * hc);
  }
  const out = (src: Float64Array) => {
    const low = new Float64Array(hr * hc);
    const high = new Float64Array(hr * hc);
    for (let j = 0; j < hc; j++) {
      const col = Float64Array.from({ length: p.rows }, (_, i) => src[i * hc + j]);
      const [a, d] = analyze(col, f);
      for (let i = 0; i < hr; i++) {
        low[i * hc + j] = a[i];
        high[i * hc + j] = d[i];
      }
    }
    return [low, high];
  };
  const [ll, lh] = out(lo); // lo along x; lo / hi along y
  const [hl, hh] = out(hi); // hi along x
  const mk = (data: Float64Array): Matrix => ({ rows: hr, cols: hc, data });
  return { a: mk(ll), detail: { H: mk(lh), V: mk(hl), D: mk(hh) } };
}

function idwt2(a: Matrix, detail: Detail, f: Filters, shape: [number, number]): Matrix {
  const hr = a.rows;
  const hc = a.cols;
  const rows = 2 * hr;
  const cols = 2 * hc;
  const alongY = (low: Float64Array, high: Float64Array) => {
    const out = new Float64Array(rows * hc);
    for (let j = 0; j < hc; j++) {
      const l = Float64Array.from({ length: hr }, (_, i) => low[i * hc + j]);
      const h = Float64Array.from({ length: hr }, (_, i) => high[i * hc + j]);
      const x = synthesize(l, h, f);
      for (let i = 0; i < rows; i++) out[i * hc + j] = x[i];
    }
    return out;
  };
  const lo = alongY(a.data, detail.H.data);
  const hi = alongY(detail.V.data, detail.D.data);
  const full = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++)
    full.set(synthesize(lo.subarray(i * hc, (i + 1) * hc), hi.subarray(i * hc, (i + 1) * hc), f), i * cols);
  const [r, c] = shape;
  const data = new Float64Array(r * c);
  for (let i = 0; i < r; i++) data.set(full.subarray(i * cols, i * cols + c), i * c);
  return { rows: r, cols: c, data };
}

/** pywt's `dwt_max_level`: the deepest level at which the filter still fits the signal. */
export function maxLevel(size: number, wavelet: WaveletName): number {
  const L = WAVELETS[wavelet].length;
  return L <= 1 ? 0 : Math.max(0, Math.floor(Math.log2(size / (L - 1))));
}

/** Multi-level 2-D decomposition (default levels: pywt's maximum for the smaller side, at least 1). */
export function wavedec2(
  grid: number[][] | Matrix,
  wavelet: WaveletName = "haar",
  levels?: number,
): Decomposition {
  if (!isWavelet(wavelet))
    throw new UsageError(`unknown wavelet "${wavelet}" (choose one of: ${Object.keys(WAVELETS).join(", ")})`);
  let m = Array.isArray(grid) ? matrixOf(grid) : grid;
  const n = levels ?? Math.max(1, maxLevel(Math.min(m.rows, m.cols), wavelet));
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`levels must be a positive integer, got ${levels}`);
  const f = filters(wavelet);
  const details: Detail[] = [];
  const shapes: [number, number][] = [];
  for (let l = 0; l < n; l++) {
    if (m.rows < 2 || m.cols < 2)
      throw new UsageError(
        `${n} levels are too many for this grid: level ${l + 1} would act on ${m.rows}×${m.cols}`,
      );
    shapes.push([m.rows, m.cols]);
    const { a, detail } = dwt2(m, f);
    details.unshift(detail);
    m = a;
  }
  return { wavelet, approximation: m, details, shapes };
}

/** Inverse of `wavedec2`. */
export function waverec2(dec: Decomposition): Matrix {
  const f = filters(dec.wavelet);
  let a = dec.approximation;
  dec.details.forEach((detail, i) => {
    a = idwt2(a, detail, f, dec.shapes[dec.shapes.length - 1 - i]);
  });
  return a;
}

export type ScaleRoughness = {
  /** 1 = finest. */
  level: number;
  /** Grid spacing this level resolves, in λ units (2^level × the grid step). */
  scale: number;
  /** RMS of the detail coefficients √(mean(H² + V² + D²)). */
  rms: number;
  /** Share of the total (detail + approximation) energy. */
  energyFraction: number;
};

/** Roughness per scale: how much of the surface's variation lives at each level. */
export function roughness(dec: Decomposition, gridStep = 1): ScaleRoughness[] {
  const energy = (m: Matrix) => m.data.reduce((a, v) => a + v * v, 0);
  const total =
    energy(dec.approximation) + dec.details.reduce((a, d) => a + energy(d.H) + energy(d.V) + energy(d.D), 0);
  const levels = dec.details.length;
  return dec.details
    .map((d, i) => {
      const e = energy(d.H) + energy(d.V) + energy(d.D);
      const count = 3 * d.H.data.length;
      const level = levels - i;
      return {
        level,
        scale: gridStep * 2 ** level,
        rms: Math.sqrt(e / count),
        energyFraction: total > 0 ? e / total : 0,
      };
    })
    .reverse();
}

/** |detail| per position: √(H² + V² + D²) (the book's per-level panels). */
export function detailMagnitude(d: Detail): Matrix {
  return {
    rows: d.H.rows,
    cols: d.H.cols,
    data: d.H.data.map((h, i) => Math.hypot(h, d.V.data[i], d.D.data[i])),
  };
}
