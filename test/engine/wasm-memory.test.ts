/**
 * jax-js patches 2 and 3 (docs/engine-patches.md): on the wasm backend a jitted call runs its
 * kernels as they come, so its buffers are reused within the call, and the allocator reuses free
 * memory of other sizes before it grows. Each case runs in a fresh process
 * (test/engine/wasm-memory-probe.ts), without the worker pool (whose asynchronous kernels hold
 * their buffers until they finish, patched or not).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function probe(kind: "chain" | "sizes") {
  const out = execFileSync(process.execPath, ["--import", "tsx", "test/engine/wasm-memory-probe.ts"], {
    encoding: "utf8",
    env: { ...process.env, PROBE_CASE: kind, TILLER_BLAS: "wasm", TILLER_THREADS: "0" },
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

describe("wasm memory (jax-js patches 2 and 3)", () => {
  it("a jitted chain of 16 × 32 MiB intermediates adds about its live set, not their sum (512 MiB)", () => {
    const r = probe("chain");
    expect(r.total).toBe(8 * 2 ** 20); // each step leaves x − mean(x) + 1 = 1 everywhere
    expect(r.addedMiB).toBeLessThan(300); // 521 MiB unpatched, ~100 patched
  }, 120_000);

  it("24 arrays of new sizes (5 GiB in all, one alive at a time) fit in the 4 GiB memory", () => {
    const r = probe("sizes");
    expect(r.error).toBe(""); // unpatched: "Allocation exceeds the 4 GiB memory32 limit" at the 10th
    expect(r.done).toBe(24);
  }, 120_000);
});
