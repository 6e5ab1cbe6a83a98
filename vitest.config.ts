import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/engine/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // jax-js keeps one wasm memory per process; forks isolate test files from each other.
    pool: "forks",
    // The suite runs on the wasm route, whose bits do not depend on the thread count (the sweep and
    // worker-pool tests compare runs across thread counts bit for bit); native-blas.test.ts checks
    // the OpenBLAS route against it (docs/reliability.md, "Bits and threads").
    env: { TILLER_BLAS: process.env.TILLER_BLAS ?? "wasm" },
  },
});
