/**
 * Directions in weight space to slice the loss along: random filter-normalised (Li, Xu, Taylor,
 * Studer & Goldstein 2018, "Visualizing the Loss Landscape of Neural Nets"), the top Hessian
 * eigenvectors (as the book draws with PyHessian), or the principal axes of a training trajectory.
 * Every direction carries its provenance so a stored surface says how it was made.
 */
import {
  lanczosTopK,
  powerIteration,
  type EigenResult,
  type IterationProgress,
  type SymmetricOperator,
} from "./hessian.js";
import { pca } from "./projection.js";
import { randomNormal, sub, type Layout, type Vector } from "./vector.js";
import { createRng, spreadSeed } from "../engine/rng.js";

export type DirectionProvenance =
  | { kind: "random"; seed: number; filterNormalized: boolean; ignoreBiasAndNorm: boolean }
  | { kind: "hessian"; method: "power" | "lanczos"; eigenvalues: number[]; indices: number[]; seed: number }
  | { kind: "pca"; checkpoints: number[]; explainedVarianceRatio: number[] };

export type Directions = { vectors: Vector[]; provenance: DirectionProvenance };

/**
 * Rescales `d` filter by filter to the norms of `w`'s filters: for every tensor with ≥ 2 dims, each
 * slice along the first (output) axis — a conv filter, a linear layer's neuron — gets
 * ‖d_f‖ = ‖w_f‖. Tensors with ≤ 1 dim (biases, norm scales) are zeroed when `ignoreBiasAndNorm`
 * (Li et al.'s `--xignore biasbn`), otherwise copied from w.
 */
export function filterNormalize(d: Vector, w: Vector, layout: Layout, ignoreBiasAndNorm = true): Vector {
  const out = Float64Array.from(d);
  for (const e of layout.entries) {
    if (e.shape.length <= 1) {
      for (let i = e.offset; i < e.offset + e.size; i++) out[i] = ignoreBiasAndNorm ? 0 : w[i];
      continue;
    }
    const filters = e.shape[0];
    const per = e.size / filters;
    for (let f = 0; f < filters; f++) {
      const start = e.offset + f * per;
      let dn = 0;
      let wn = 0;
      for (let i = start; i < start + per; i++) {
        dn += out[i] ** 2;
        wn += w[i] ** 2;
      }
      const factor = Math.sqrt(wn) / (Math.sqrt(dn) + 1e-10);
      for (let i = start; i < start + per; i++) out[i] *= factor;
    }
  }
  return out;
}

/** `count` random Gaussian directions, filter-normalised to `w` (or left raw). */
export function randomDirections(
  w: Vector,
  layout: Layout,
  opts: { count?: number; seed?: number; filterNormalized?: boolean; ignoreBiasAndNorm?: boolean } = {},
): Directions {
  const { count = 2, seed = 0, filterNormalized = true, ignoreBiasAndNorm = true } = opts;
  const rng = createRng(spreadSeed(seed));
  const vectors = Array.from({ length: count }, () => {
    const d = randomNormal(layout.size, rng);
    return filterNormalized ? filterNormalize(d, w, layout, ignoreBiasAndNorm) : d;
  });
  return { vectors, provenance: { kind: "random", seed, filterNormalized, ignoreBiasAndNorm } };
}

/**
 * The plane of a training trajectory (Li et al. §7): principal axes of θᵢ − θ_final over the checkpoints
 * before the final one; returns the top-2 unit axes and each checkpoint's coordinates in that
 * plane, centred on the final weights.
 */
export function trajectoryDirections(
  checkpoints: { epoch: number; w: Vector }[],
): Directions & { coordinates: { epoch: number; x: number; y: number }[] } {
  if (checkpoints.length < 3)
    throw new Error(`a trajectory plane needs at least 3 checkpoints, got ${checkpoints.length}`);
  const final = checkpoints[checkpoints.length - 1].w;
  const diffs = checkpoints.slice(0, -1).map((c) => sub(c.w, final));
  // Uncentred: the plane through θ_final that fits the trajectory best in least squares (the origin,
  // θ_final, is meaningful here; centring would also lose a dimension when there are few epochs).
  const p = pca(diffs, 2, { center: false });
  const [d1, d2] = p.components;
  const project = (w: Vector) => {
    let x = 0;
    let y = 0;
    for (let i = 0; i < w.length; i++) {
      const delta = w[i] - final[i];
      x += delta * d1[i];
      y += delta * d2[i];
    }
    return { x, y };
  };
  return {
    vectors: [d1, d2],
    provenance: {
      kind: "pca",
      checkpoints: checkpoints.map((c) => c.epoch),
      explainedVarianceRatio: p.explainedVarianceRatio,
    },
    coordinates: checkpoints.map((c) => ({ epoch: c.epoch, ...project(c.w) })),
  };
}

/**
 * The top `count` Hessian eigenvectors at the operator's point, by Lanczos (default) or by
 * PyHessian's power iteration; eigenvalues are kept in the provenance.
 */
export async function hessianDirections(
  op: SymmetricOperator,
  opts: {
    count?: number;
    method?: "power" | "lanczos";
    maxIter?: number;
    tol?: number;
    seed?: number;
    onProgress?: IterationProgress;
  } = {},
): Promise<Directions & { eigen: EigenResult }> {
  const { count = 2, method = "lanczos", seed = 0 } = opts;
  const run = method === "power" ? powerIteration : lanczosTopK;
  const eigen = await run(op, { ...opts, k: count, seed });
  return {
    vectors: eigen.eigenvectors,
    provenance: {
      kind: "hessian",
      method,
      eigenvalues: eigen.eigenvalues,
      indices: eigen.eigenvalues.map((_, i) => i),
      seed,
    },
    eigen,
  };
}
