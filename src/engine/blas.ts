/**
 * Which BLAS the engine's CPU path uses, as the rest of the engine sees it: null (jax-js's wasm
 * matmul, always the case in a browser) or the OpenBLAS that native-blas.ts (Node only) loaded.
 * This file imports nothing, so the browser bundle can reach it (the SVD asks it).
 */

/** One call of jax-js's external matmul hook (row-major, byte offsets into the wasm memory). */
export type MatmulCall = {
  buffer: ArrayBufferLike;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  a: number;
  lda: number;
  b: number;
  ldb: number;
  c: number;
  ldc: number;
};

export type NativeBlas = {
  /** OpenBLAS's kernel for this CPU (openblas_get_corename), e.g. "SkylakeX". */
  core: string;
  threads: number;
  sgemm(call: MatmulCall): void;
  /**
   * Thin SVD of the column-major m×n `a` (overwritten), LAPACK's dgesdd: s (k, descending), and
   * with `vectors` u (m×k) and vt (k×n), column-major.
   */
  dgesdd(
    m: number,
    n: number,
    a: Float64Array,
    vectors: boolean,
  ): { s: Float64Array; u: Float64Array; vt: Float64Array };
};

let state: { blas: NativeBlas | null; why: string } | undefined;

/** What native-blas.ts decided (undefined: not asked yet). */
export function blasState(): { blas: NativeBlas | null; why: string } | undefined {
  return state;
}

export function setBlasState(next: { blas: NativeBlas | null; why: string }): void {
  state = next;
}

/** Records that the loaded library is not used after all (the engine lacks the hook). */
export function disableNativeBlas(why: string): void {
  state = { blas: null, why };
}

/** Loaded OpenBLAS, or null: for the SVD, which runs wherever the engine does. */
export function loadedNativeBlas(): NativeBlas | null {
  return state?.blas ?? null;
}

/** One line for reports: which matmul the CPU path uses and why. */
export function nativeBlasStatus(): string {
  if (state === undefined) return "wasm matmul (engine not started)";
  return state.blas
    ? `OpenBLAS ${state.blas.core} matmul, ${state.blas.threads} thread(s)`
    : `wasm matmul (${state.why})`;
}
