/**
 * Minimal reproduction of a jax-js 0.1.25 limit (src/engine/NOTES.md, "The wasm allocator"): its
 * WasmAllocator reuses a freed buffer only for a request of the same size class (64 kB multiples
 * above 64 kB) and never merges neighbours, so arrays of ever new sizes exhaust the 4 GiB wasm
 * memory although at most one of them (≤ 64 MB) is alive at any time.
 *
 *   node --import tsx scripts/repro/wasm-allocator.ts
 *   → "freed and re-allocated 64 arrays of growing size … RangeError: Allocation exceeds the 4 GiB memory32 limit"
 */
import { numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";

await startEngine("wasm");
let live = 0;
try {
  for (let i = 1; i <= 1000; i++) {
    const n = (i * 65536) / 4 + 16; // i × 64 kB of float32 (+ a little): a new size class each time
    const a = np.zeros([n]);
    await a.data(); // materialise it, then free it
    live = i;
  }
  console.log(`1000 arrays of growing size (largest ${((1000 * 65536) / 2 ** 20).toFixed(0)} MB) fit`);
} catch (e) {
  const mb = ((live * 65536) / 2 ** 20).toFixed(1);
  console.log(
    `freed and re-allocated ${live} arrays of growing size (largest ${mb} MB, one alive at a time):`,
    String(e),
  );
}
