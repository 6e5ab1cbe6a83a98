/**
 * The engine's Node worker pool (src/engine/node-shim.ts): jax-js's worker 0 on the main thread,
 * quick shares kept off the threads, relaxed SIMD. Where a share runs must not change a single bit
 * of the result, and the process must exit on its own with the pool idle.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

type Probe = { losses: number[]; sums: Record<string, number>; relaxedSimd: boolean };

function probe(env: Record<string, string>): Probe {
  const out = execFileSync(process.execPath, ["--import", "tsx", "test/engine/worker-pool-probe.ts"], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Probe;
}

describe("wasm worker pool on Node", () => {
  it("gives bit-identical training steps whether shares run on the main thread, the threads, or one thread", () => {
    const threadsOnly = probe({ TILLER_THREADS: "2", TILLER_MAIN_THREAD_WORKER: "0" });
    const mainFirst = probe({ TILLER_THREADS: "2" });
    const allOnMain = probe({ TILLER_THREADS: "2", TILLER_HOP_MS: "1e9" });
    const single = probe({ TILLER_THREADS: "0" });
    expect(threadsOnly.losses.every(Number.isFinite)).toBe(true);
    expect(threadsOnly.losses[3]).toBeLessThan(threadsOnly.losses[0]);
    for (const other of [mainFirst, allOnMain]) {
      expect(other.losses).toEqual(threadsOnly.losses);
      expect(other.sums).toEqual(threadsOnly.sums);
    }
    // One thread splits no work, so only closeness is promised there.
    for (let i = 0; i < 4; i++) expect(single.losses[i]).toBeCloseTo(threadsOnly.losses[i], 5);
  }, 240_000);

  it("turns on relaxed SIMD (fused multiply-add in matmuls) unless TILLER_RELAXED_SIMD=0 where it needs a flag", () => {
    expect(probe({ TILLER_THREADS: "2" }).relaxedSimd).toBe(true);
    // Node 22's V8 ships relaxed SIMD with no flag to turn it off; Node 20 needs the flag.
    const shipped = Number(process.versions.node.split(".")[0]) >= 22;
    expect(probe({ TILLER_THREADS: "2", TILLER_RELAXED_SIMD: "0" }).relaxedSimd).toBe(shipped);
  }, 240_000);
});
