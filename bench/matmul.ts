/**
 * Matrix-product throughput on the engine's CPU route: 1024³ and the MLP step's shapes (256×784 by
 * 784×512, 256×512 by 512×784), timed to `blockUntilReady` (as torch.mm is), median of 11. Prints
 * one line of GFLOP/s. `TILLER_BLAS=wasm|openblas TILLER_THREADS=n node --import tsx bench/matmul.ts`.
 */
import { jit, numpy as np, random } from "../src/engine/jax.js";
import { startEngine } from "../src/engine/device.js";
import { keyFromSeed, splitKey } from "../src/engine/prng.js";
await startEngine();
const shapes: [number, number, number][] = [
  [1024, 1024, 1024],
  [256, 784, 512],
  [256, 512, 784],
];
const out: string[] = [];
for (const [m, k, n] of shapes) {
  const [ka, kb] = splitKey(keyFromSeed(2), 2);
  const a = random.normal(ka, [m, k]);
  const b = random.normal(kb, [k, n]);
  const f = jit((p: np.Array, q: np.Array) => np.matmul(p, q));
  for (let i = 0; i < 3; i++) (await f(a.ref, b.ref).blockUntilReady()).dispose();
  const t: number[] = [];
  for (let i = 0; i < 11; i++) {
    const t0 = performance.now();
    (await f(a.ref, b.ref).blockUntilReady()).dispose();
    t.push(performance.now() - t0);
  }
  t.sort((x, y) => x - y);
  out.push(`${m}x${k}x${n} ${((2 * m * n * k) / t[5] / 1e6).toFixed(1)}`);
}
console.log(out.join("  "));
