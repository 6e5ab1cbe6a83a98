/**
 * Child process for native-blas.test.ts: jax-js's `setWasmMatmul` hook (patches/) with a plain
 * JavaScript sgemm in place of OpenBLAS, on the synchronous wasm path (TILLER_THREADS=0,
 * TILLER_BLAS=wasm). Each case runs with the hook off and on; prints, per case, the largest
 * difference and the calls the hook received, as JSON.
 */
import type { WasmMatmulCall } from "@jax-js/jax";
import { loadEngine } from "../../src/engine/jax.js";

const jax = await loadEngine();
const np = jax.numpy;
const calls: string[] = [];

/** C = op(A) op(B), row-major, straight from the definition. */
function fakeSgemm(c: WasmMatmulCall): void {
  calls.push(`${c.transA ? "T" : "N"}${c.transB ? "T" : "N"} ${c.m}x${c.n}x${c.k} lda=${c.lda} ldb=${c.ldb}`);
  const f = new Float32Array(c.buffer);
  const [a, b, out] = [c.a / 4, c.b / 4, c.c / 4];
  for (let i = 0; i < c.m; i++)
    for (let j = 0; j < c.n; j++) {
      let s = 0;
      for (let p = 0; p < c.k; p++)
        s +=
          f[a + (c.transA ? p * c.lda + i : i * c.lda + p)] *
          f[b + (c.transB ? j * c.ldb + p : p * c.ldb + j)];
      f[out + i * c.ldc + j] = s;
    }
}

type Arr = ReturnType<typeof np.ones>;
const filled = (shape: number[], k: number): Arr =>
  np
    .array(Array.from({ length: shape.reduce((p, q) => p * q, 1) }, (_, i) => Math.sin(i * k + 1)))
    .reshape(shape);

const cases: [string, (a: Arr, b: Arr) => Arr, number[], number[]][] = [
  ["a@b", (a, b) => np.matmul(a, b), [6, 5], [5, 7]],
  ["aT@b", (a, b) => np.matmul(a.transpose(), b), [6, 5], [6, 7]],
  ["a@bT", (a, b) => np.matmul(a, b.transpose()), [6, 5], [7, 5]],
  ["aT@bT", (a, b) => np.matmul(a.transpose(), b.transpose()), [5, 6], [7, 5]],
  ["batched", (a, b) => np.matmul(a, b), [3, 6, 5], [3, 5, 7]],
  ["broadcast", (a, b) => np.matmul(a, b), [3, 6, 5], [5, 7]],
  ["row", (a, b) => np.matmul(a, b), [1, 5], [5, 7]],
  ["epilogue", (a, b) => np.maximum(np.matmul(a, b).add(0.5), 0), [6, 5], [5, 7]],
  ["slice", (a, b) => np.matmul(a.slice([1, 5]), b), [6, 5], [5, 7]],
  ["not a product", (a, b) => np.sum(a.reshape([-1]).add(b.reshape([-1]).slice([0, 30]))), [6, 5], [5, 7]],
];

const out: Record<string, { maxDiff: number; calls: string[] }> = {};
for (const [name, fn, sa, sb] of cases) {
  jax.setWasmMatmul(null);
  const want = await jax.jit(fn)(filled(sa, 0.3), filled(sb, 0.7)).data();
  calls.length = 0;
  jax.setWasmMatmul(fakeSgemm);
  const got = await jax.jit(fn)(filled(sa, 0.3), filled(sb, 0.7)).data();
  let maxDiff = 0;
  for (let i = 0; i < want.length; i++) maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
  out[name] = { maxDiff, calls: [...calls] };
}
console.log(JSON.stringify(out));
