/**
 * The browser's stand-in for src/engine/node-shim.ts (Vite swaps it in): Chromium already has Web
 * Workers, navigator and iterator helpers, so jax-js needs no shim there.
 */
export async function shutdownWorkers(): Promise<void> {}
