import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/engine/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // jax-js keeps one wasm memory per process; forks isolate test files from each other.
    pool: "forks",
    // The suite checks the wasm path, identical on every machine; test/engine/native-blas.test.ts
    // checks the OpenBLAS route against it. TILLER_BLAS=auto npm test runs everything natively.
    env: { TILLER_BLAS: process.env.TILLER_BLAS ?? "wasm" },
  },
});
