/**
 * The data-order rule, shared bit for bit with the PyTorch twin (scripts/reference/data_order.py):
 * epoch e of a run with seed s visits examples in `epochPermutation(n, s, e)` order. Plain 32-bit
 * integer arithmetic, so any language can reproduce it.
 */
import { mulberry32 } from "../engine/rng.js";

/** Fisher–Yates shuffle of 0..n-1 driven by mulberry32(seed·φ + epoch). */
export function epochPermutation(n: number, seed: number, epoch: number): Uint32Array {
  const rng = mulberry32((Math.imul(seed, 0x9e3779b1) + epoch) >>> 0);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const tmp = perm[i];
    perm[i] = perm[j];
    perm[j] = tmp;
  }
  return perm;
}
