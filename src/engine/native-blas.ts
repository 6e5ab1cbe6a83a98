/**
 * The native CPU route: OpenBLAS (Debian `libopenblas0-pthread`) through the small N-API addon in
 * native/ (built at install by native/build.mjs; optional). With it, jax-js's wasm backend
 * hands every plain float32 matrix-product kernel to `cblas_sgemm` on the wasm memory itself
 * (the `setWasmMatmul` hook of patches/@jax-js+jax+0.1.25.patch), and the SVD runs LAPACK's
 * dgesdd. OpenBLAS brings its own threads, so jax-js's worker pool stays off while it is in use:
 * the elementwise kernels run on the main thread. TILLER_BLAS_POOL=1 keeps the pool for them (the
 * products then run on the main thread between the workers' kernels): faster for conv nets, whose
 * large elementwise kernels dominate, slower for small MLPs (bench/NOTES.md).
 *
 * Node only; what the rest of the engine (and the browser) sees is in blas.ts.
 *
 * TILLER_BLAS chooses: `auto` (default: native when it loads, else wasm, silently), `openblas`
 * (native or fail with the reason), `wasm` (never native). TILLER_BLAS_LIB names another library
 * (default libopenblas.so.0). TILLER_THREADS sets OpenBLAS's thread count as it sets the pool's.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { blasState, setBlasState, type NativeBlas } from "./blas.js";

type Addon = {
  load(path: string): string;
  threads(n: number): void;
  sgemm(buf: ArrayBufferLike | Uint8Array, ...ints: number[]): void;
  dgesdd(
    m: number,
    n: number,
    a: Float64Array,
    s: Float64Array,
    u: Float64Array,
    vt: Float64Array,
    vectors: boolean,
  ): number;
};

export type BlasChoice = "auto" | "openblas" | "wasm";

export function blasChoice(): BlasChoice {
  const v = process.env.TILLER_BLAS || "auto";
  if (v !== "auto" && v !== "openblas" && v !== "wasm")
    throw new Error(`TILLER_BLAS="${v}" is not one of auto, openblas, wasm`);
  return v;
}

/** The addon's path: native/build/Release from the package root (src/engine or dist/src/engine). */
function addonPath(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const p = join(dir, "native", "build", "Release", "tiller_blas.node");
    if (existsSync(p)) return p;
  }
  return null;
}

function wrap(addon: Addon, core: string, threads: number): NativeBlas {
  return {
    core,
    threads,
    // N-API reaches a SharedArrayBuffer (the pool's wasm memory) only through a view.
    sgemm: (c) =>
      addon.sgemm(
        c.buffer instanceof ArrayBuffer ? c.buffer : new Uint8Array(c.buffer),
        +c.transA,
        +c.transB,
        c.m,
        c.n,
        c.k,
        c.a,
        c.lda,
        c.b,
        c.ldb,
        c.c,
        c.ldc,
      ),
    dgesdd(m, n, a, vectors) {
      const k = Math.min(m, n);
      const [u, vt] = vectors ? [m * k, k * n] : [1, 1];
      const out = { s: new Float64Array(k), u: new Float64Array(u), vt: new Float64Array(vt) };
      const info = addon.dgesdd(m, n, a, out.s, out.u, out.vt, vectors);
      if (info !== 0) throw new Error(`LAPACK dgesdd did not converge (info ${info})`);
      return out;
    },
  };
}

/** Whether jax-js's worker pool runs next to OpenBLAS (TILLER_BLAS_POOL=1). */
export function blasWithPool(): boolean {
  return process.env.TILLER_BLAS_POOL === "1";
}

function tryLoad(threads: number): { blas: NativeBlas | null; why: string } {
  const path = addonPath();
  // Next to the pool, OpenBLAS's idle threads must not spin for long (read when it loads).
  if (blasWithPool()) process.env.OPENBLAS_THREAD_TIMEOUT ??= "4";
  if (path === null) return { blas: null, why: "the addon is not built (npm run build:native)" };
  try {
    const addon = createRequire(import.meta.url)(path) as Addon;
    const core = addon.load(process.env.TILLER_BLAS_LIB || "libopenblas.so.0");
    addon.threads(threads);
    return { blas: wrap(addon, core, threads), why: "" };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return { blas: null, why: `OpenBLAS could not be loaded (${msg}); apt install libopenblas0-pthread` };
  }
}

/**
 * OpenBLAS if TILLER_BLAS allows and it loads, else null (with `nativeBlasStatus()` saying why).
 * Throws when TILLER_BLAS=openblas and it cannot load.
 */
export function nativeBlas(threads: number): NativeBlas | null {
  const known = blasState();
  if (known !== undefined) return known.blas;
  const choice = blasChoice();
  const state = choice === "wasm" ? { blas: null, why: "TILLER_BLAS=wasm" } : tryLoad(threads);
  if (state.blas === null && choice === "openblas") throw new Error(`TILLER_BLAS=openblas: ${state.why}`);
  setBlasState(state);
  return state.blas;
}
