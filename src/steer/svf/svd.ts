/**
 * W = U diag(S) Vᵀ for every targeted matrix, computed once and cached in the run (sha256-checked
 * like every checkpoint). Names follow the official code: "<param>.U", "<param>.S", "<param>.V"
 * with V (not Vᵀ) as torch.svd returns it. The decomposition runs on the host in float64
 * (src/engine/svd.ts: ~10–25× faster than jax-js's linalg.svd, bench/svd.ts) and is stored in
 * float32.
 */
import { numpy as np } from "../../engine/jax.js";
import { svd as hostSvd } from "../../engine/svd.js";
import { fromHost, leafAt, toHost, type HostTensors, type Params } from "../../engine/tree.js";
import type { Run } from "../../runs/store.js";

export type SvdFactors = Record<string, { U: np.Array; S: np.Array; V: np.Array }>;

export const SVD_CHECKPOINT = "svd";

/** Thin SVD of one [m, n] matrix: U [m, r], S [r] (descending), V [n, r], r = min(m, n). Consumes w. */
export async function svd(w: np.Array): Promise<{ U: np.Array; S: np.Array; V: np.Array }> {
  if (w.ndim !== 2) throw new Error(`svd: expected a matrix, got shape [${w.shape.join(", ")}]`);
  const [m, n] = w.shape;
  const f = hostSvd(await w.data(), m, n);
  const f32 = (x: Float64Array, shape: number[]) => np.array(Float32Array.from(x), { shape });
  return { U: f32(f.u, [m, f.k]), S: f32(f.s, [f.k]), V: f32(f.v, [n, f.k]) };
}

/** Decomposes each target (borrowed from params) to host tensors, reporting progress per matrix. */
export async function decompose(
  params: Params,
  targets: string[],
  onProgress?: (done: number, total: number, name: string, seconds: number) => void,
): Promise<HostTensors> {
  const out: HostTensors = {};
  for (const [i, name] of targets.entries()) {
    const t0 = performance.now();
    const f = await svd(leafAt(params, name).ref);
    Object.assign(out, await toHost({ [`${name}.U`]: f.U, [`${name}.S`]: f.S, [`${name}.V`]: f.V }));
    onProgress?.(i + 1, targets.length, name, (performance.now() - t0) / 1000);
  }
  return out;
}

/** Groups flat "<name>.U/S/V" tensors into factors per target. */
export function factorsFromHost(tensors: HostTensors, targets: string[]): SvdFactors {
  const out: SvdFactors = {};
  for (const name of targets) {
    const part = (k: "U" | "S" | "V") => {
      const t = tensors[`${name}.${k}`];
      if (!t) throw new Error(`SVD cache: missing "${name}.${k}"`);
      return t;
    };
    const tree = fromHost({ U: part("U"), S: part("S"), V: part("V") }, "SVD cache") as {
      U: np.Array;
      S: np.Array;
      V: np.Array;
    };
    out[name] = tree;
  }
  return out;
}

/**
 * The run's cached decomposition, computed on first use. The cache records which targets it holds;
 * a different target set recomputes.
 */
export async function cachedSvd(
  run: Run,
  params: Params,
  targets: string[],
  onProgress?: (done: number, total: number, name: string, seconds: number) => void,
): Promise<{ factors: SvdFactors; cached: boolean }> {
  const file = `${SVD_CHECKPOINT}.safetensors`;
  if (file in run.checkpointIndex()) {
    const { tensors, metadata } = run.loadCheckpoint(SVD_CHECKPOINT);
    if (metadata.targets === targets.join(","))
      return { factors: factorsFromHost(tensors, targets), cached: true };
  }
  const tensors = await decompose(params, targets, onProgress);
  run.saveCheckpoint(SVD_CHECKPOINT, tensors, { format: "tiller-svd-v1", targets: targets.join(",") });
  return { factors: factorsFromHost(tensors, targets), cached: false };
}
