/**
 * What an orthogonal initialisation costs here, by construction (issue 10: jax-js has no QR).
 * For each shape: wall time (the second of two runs, so compilation is excluded) and max |QᵀQ − I|.
 *
 *   wy          src/init/orthogonal.ts: Householder reflectors from Gaussian vectors, compact WY, float32
 *   cholqr2-f32 Cholesky-QR twice in float32 (breaks down when the draw has κ ≳ 1e4)
 *   cholqr2-f64 the same in float64 (wasm only)
 *   polar-eigh  A (AᵀA)^(-1/2) through linalg.eigh, float32
 *   host-hh     Householder QR on the host in float64 (needs an async read of the draw)
 *
 * Run: node --import tsx docs/recipes/init-orthogonal-cost.ts [--skip-slow]
 */
import { lax, numpy as np, random } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { haarColumns } from "../../src/init/orthogonal.js";

const skipSlow = process.argv.includes("--skip-slow");

function cholQr(a: np.Array): np.Array {
  const l = lax.linalg.cholesky(np.matmul(a.ref.transpose(), a.ref));
  return lax.linalg.triangularSolve(l, a, { leftSide: false, lower: true, transposeA: true });
}

function polar(a: np.Array): np.Array {
  const [w, v] = np.linalg.eigh(np.matmul(a.ref.transpose(), a.ref));
  const inv = v.ref.mul(np.reciprocal(np.sqrt(w)).reshape([1, -1]));
  return np.matmul(a, np.matmul(inv, v.transpose()));
}

/** Thin Q (m×n, column-major) of the row-major m×n `a` with diag(R) > 0, in float64. */
function hostHouseholder(rowMajor: Float32Array, m: number, n: number): Float64Array {
  const a = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) a[j * m + i] = rowMajor[i * n + j];
  const vs: Float64Array[] = [];
  const signs: number[] = [];
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[k * m + i] ** 2;
    norm = Math.sqrt(norm);
    const alpha = a[k * m + k] >= 0 ? -norm : norm;
    const v = a.slice(k * m + k, k * m + m);
    v[0] -= alpha;
    const vn = Math.hypot(...v);
    for (let i = 0; i < v.length; i++) v[i] /= vn;
    vs.push(v);
    signs.push(Math.sign(alpha) || 1);
    for (let j = k + 1; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i - k] * a[j * m + i];
      for (let i = k; i < m; i++) a[j * m + i] -= 2 * s * v[i - k];
    }
  }
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--)
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += vs[k][i - k] * q[j * m + i];
      for (let i = k; i < m; i++) q[j * m + i] -= 2 * s * vs[k][i - k];
    }
  for (let j = 0; j < n; j++) if (signs[j] < 0) for (let i = 0; i < m; i++) q[j * m + i] *= -1;
  return q;
}

/** max |QᵀQ − I| of a row-major m×n Q. */
function orthogonalityError(q: ArrayLike<number>, m: number, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += q[k * n + i] * q[k * n + j];
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
  return worst;
}

await startEngine();
const methods: Record<string, (m: number, n: number, seed: number) => Promise<ArrayLike<number>>> = {
  wy: (m, n, seed) => haarColumns(random.key(seed), m, n).data(),
  "cholqr2-f32": (m, n, seed) => cholQr(cholQr(random.normal(random.key(seed), [m, n]))).data(),
  "cholqr2-f64": (m, n, seed) =>
    cholQr(cholQr(random.normal(random.key(seed), [m, n]).astype(np.float64))).data(),
  "polar-eigh": (m, n, seed) => polar(random.normal(random.key(seed), [m, n])).data(),
  "host-hh": async (m, n, seed) => {
    const a = (await random.normal(random.key(seed), [m, n]).data()) as Float32Array;
    const q = hostHouseholder(a, m, n);
    const out = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[i * n + j] = q[j * m + i];
    return out;
  },
};
for (const [m, n] of [
  [512, 512],
  [784, 512],
]) {
  for (const [name, run] of Object.entries(methods)) {
    if (skipSlow && (name === "polar-eigh" || name === "cholqr2-f64")) continue;
    await run(m, n, 1); // compile
    const t0 = performance.now();
    const q = await run(m, n, 2);
    const ms = performance.now() - t0;
    const err = orthogonalityError(q, m, n);
    console.log(
      `${m}×${n}  ${name.padEnd(12)} ${ms.toFixed(0).padStart(6)} ms   max|QᵀQ−I| ${err.toExponential(1)}`,
    );
  }
}
