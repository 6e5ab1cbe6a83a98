/**
 * The native CPU route (src/engine/native-blas.ts, docs/engine-patches.md): jax-js's
 * `setWasmMatmul` hook (patches/@jax-js+jax+0.1.25.patch) and OpenBLAS behind it. The hook's test
 * needs no native code (a JavaScript sgemm stands in); the OpenBLAS tests need the addon built
 * (postinstall) and Debian's libopenblas0-pthread, and are skipped without them unless
 * TILLER_NATIVE_REQUIRED=1 (CI installs both and sets it).
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

function child(script: string, env: Record<string, string>): string {
  const out = execFileSync(process.execPath, ["--import", "tsx", script], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 180_000,
  });
  return out.trim().split("\n").at(-1)!;
}

type Hooked = Record<string, { maxDiff: number; calls: string[] }>;
type Probe = { losses: number[]; sums: Record<string, number>; blas: string };
const probe = (env: Record<string, string>) =>
  JSON.parse(child("test/engine/worker-pool-probe.ts", env)) as Probe;

const available = probe({ TILLER_BLAS: "auto", TILLER_THREADS: "2" }).blas;
const native = available.startsWith("OpenBLAS");
const required = process.env.TILLER_NATIVE_REQUIRED === "1";

describe("jax-js's external matmul hook (patched)", () => {
  it("hands every plain float32 product to the registered sgemm, with the same numbers", () => {
    const got = JSON.parse(
      child("test/engine/wasm-matmul-probe.ts", { TILLER_THREADS: "0", TILLER_BLAS: "wasm" }),
    ) as Hooked;
    for (const [name, r] of Object.entries(got)) {
      expect(r.maxDiff, name).toBeLessThan(1e-5);
      expect(r.calls.length, name).toBe(
        name === "not a product" ? 0 : name === "batched" || name === "broadcast" ? 3 : 1,
      );
    }
    // Transposes become BLAS flags and leading dimensions, not copies.
    expect(got["a@b"].calls).toEqual(["NN 6x7x5 lda=5 ldb=7"]);
    expect(got["aT@b"].calls).toEqual(["TN 5x7x6 lda=5 ldb=7"]);
    expect(got["a@bT"].calls).toEqual(["NT 6x7x5 lda=5 ldb=5"]);
    expect(got["aT@bT"].calls).toEqual(["TT 6x7x5 lda=6 ldb=5"]);
  }, 200_000);
});

describe.skipIf(!native && !required)(`OpenBLAS route (${available})`, () => {
  it("loads where the addon and libopenblas0-pthread are installed", () => {
    expect(available).toMatch(/^OpenBLAS \w+ matmul, 2 thread/);
  });

  for (const model of ["mlp", "cnn", "vit"]) {
    it(`trains the ${model} as the wasm matmul does, to float32 rounding`, () => {
      const wasm = probe({ TILLER_BLAS: "wasm", TILLER_THREADS: "0", PROBE_MODEL: model });
      const blas = probe({ TILLER_BLAS: "openblas", TILLER_THREADS: "2", PROBE_MODEL: model });
      expect(blas.blas).toMatch(/^OpenBLAS/);
      for (let i = 0; i < 4; i++)
        expect(Math.abs(blas.losses[i] - wasm.losses[i])).toBeLessThan(
          1e-4 * Math.abs(wasm.losses[i]) + 1e-6,
        );
      for (const [name, sum] of Object.entries(wasm.sums))
        expect(Math.abs(blas.sums[name] - sum), name).toBeLessThan(1e-3 * (1 + Math.abs(sum)));
    }, 300_000);
  }

  it("gives the same training steps with jax-js's worker pool kept next to it (TILLER_BLAS_POOL=1)", () => {
    for (const model of ["mlp", "cnn"]) {
      const sync = probe({ TILLER_BLAS: "openblas", TILLER_THREADS: "2", PROBE_MODEL: model });
      const pooled = probe({
        TILLER_BLAS: "openblas",
        TILLER_THREADS: "2",
        TILLER_BLAS_POOL: "1",
        PROBE_MODEL: model,
      });
      for (let i = 0; i < 4; i++)
        expect(Math.abs(pooled.losses[i] - sync.losses[i])).toBeLessThan(
          1e-4 * Math.abs(sync.losses[i]) + 1e-6,
        );
    }
  }, 300_000);

  it("fails with the reason when TILLER_BLAS=openblas cannot load the library", () => {
    expect(() =>
      child("test/engine/worker-pool-probe.ts", {
        TILLER_BLAS: "openblas",
        TILLER_BLAS_LIB: "libnothere.so.9",
      }),
    ).toThrow(/TILLER_BLAS=openblas: OpenBLAS could not be loaded \(libnothere\.so\.9/);
  });
});

describe.skipIf(!native && !required)("LAPACK SVD", () => {
  it("passes every SVD accuracy test on dgesdd (test/engine/svd.test.ts run with TILLER_BLAS=openblas)", () => {
    const vitest = ["node_modules/vitest/vitest.mjs", "run", "test/engine/svd.test.ts"];
    const out = execFileSync(process.execPath, vitest, {
      encoding: "utf8",
      env: { ...process.env, TILLER_BLAS: "openblas", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" },
      timeout: 120_000,
    });
    expect(out).toMatch(/Tests\s+\d+ passed/);
  }, 150_000);
});
