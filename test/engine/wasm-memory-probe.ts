/**
 * Child process for wasm-memory.test.ts (a fresh process, so the wasm memory starts small). Two
 * cases, chosen by PROBE_CASE, each printing one JSON line:
 *
 * - "chain": one jitted call whose 16 steps each write a new 32 MiB buffer (x − mean(x): a
 *   reduction ends every fusion), so 512 MiB of intermediates of which two or three are live at
 *   once; prints the resident memory it added. Lazily (every kernel queued until the result is
 *   read) all 16 are allocated together; eagerly (patch 2) they reuse each other's memory.
 * - "sizes": 24 arrays of 160–250 MiB, a new size each, each freed before the next (5 GiB in all,
 *   never more than one alive); prints whether all were allocated. Without patch 3 every new
 *   size class takes fresh memory and the 4 GiB limit is hit.
 */
import { startEngine } from "../../src/engine/device.js";
import { jit, numpy as np } from "../../src/engine/jax.js";

await startEngine();
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
if (process.env.PROBE_CASE === "chain") {
  const n = 8 * 2 ** 20; // 32 MiB of float32
  const x = np.ones([n / 1024, 1024]);
  await x.blockUntilReady();
  const before = process.memoryUsage().rss;
  const chain = jit((v: np.Array) => {
    for (let i = 0; i < 16; i++) v = v.ref.sub(v.mean(0, { keepdims: true })).add(1);
    return v.sum();
  });
  const total = (await chain(x).data())[0];
  console.log(JSON.stringify({ total, addedMiB: mib(process.memoryUsage().rss - before) }));
} else {
  let done = 0;
  let error = "";
  try {
    for (let i = 0; i < 24; i++) {
      const mb = i % 2 === 0 ? 160 + 3 * i : 250 - 3 * i; // sizes up and down, never the same twice
      // A jitted call's output is a real buffer (a constant outside jit stays a lazy expression).
      const fill = jit((s: np.Array) => np.ones([(mb * 2 ** 20) / 4]).mul(s));
      const a = fill(np.array(2));
      await a.blockUntilReady();
      fill.dispose();
      a.dispose();
      done++;
    }
  } catch (e) {
    error = String(e);
  }
  console.log(JSON.stringify({ done, error, rssMiB: mib(process.memoryUsage().rss) }));
}
