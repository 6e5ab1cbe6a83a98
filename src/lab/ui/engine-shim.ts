/**
 * The browser's stand-in for src/engine/node-shim.ts (Vite swaps it in): Chromium already has Web
 * Workers, navigator and iterator helpers, so jax-js needs no shim there.
 */
import type * as Jax from "@jax-js/jax";

export function importJax(): Promise<typeof Jax> {
  return import("@jax-js/jax");
}

export async function shutdownWorkers(): Promise<void> {}
