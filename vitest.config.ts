import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/engine/setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // jax-js keeps one wasm memory per process; forks isolate test files from each other.
    pool: "forks",
  },
});
