/**
 * Expert z-vector sets: the trained p vectors of one SVF run, saved as a small safetensors file
 * with the facts needed to use them (base model, targets, max_mult, task). Part 2 (self-adaptation)
 * loads several and turns any of them, or a mixture, into adapted weights with `expertParams`.
 */
import { readFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { numpy as np } from "../../engine/jax.js";
import { decodeSafetensors } from "../../engine/safetensors.js";
import { fromHost, namedLeaves, treeMap, type Params } from "../../engine/tree.js";
import { UsageError } from "../../errors.js";
import { Run } from "../../runs/store.js";
import { svfParams, zFromPolicy } from "./compose.js";
import type { SvdFactors } from "./svd.js";

export const EXPERT_CHECKPOINT = "expert";

export type Expert = {
  /** The trained p vectors, nested by target name; z = max_mult · sigmoid(p). */
  policy: Params;
  meta: Record<string, string>;
  maxMult: number;
  targets: string[];
};

/** An expert from an SVF run (id or directory) or a safetensors file. */
export function loadExpert(source: string, runsRoot?: string): Expert {
  let tensors, metadata: Record<string, string>;
  if (source.endsWith(".safetensors") && existsSync(source)) {
    ({ tensors, metadata } = decodeSafetensors(readFileSync(source)));
  } else {
    const run = Run.open(source, runsRoot);
    if (!(`${EXPERT_CHECKPOINT}.safetensors` in run.checkpointIndex()))
      throw new UsageError(`run ${run.dir} has no expert yet (training not finished?)`);
    ({ tensors, metadata } = run.loadCheckpoint(EXPERT_CHECKPOINT));
  }
  if (metadata.adapter !== "svf")
    throw new UsageError(`${source} is not an SVF expert (adapter=${metadata.adapter})`);
  return {
    policy: fromHost(tensors, source),
    meta: metadata,
    maxMult: Number(metadata.max_mult ?? 1),
    targets: (metadata.targets ?? "").split(",").filter(Boolean),
  };
}

/** z vectors of an expert, nested by target name. Borrows. */
export function expertZ(expert: Expert): Params {
  return treeMap((p) => zFromPolicy(p.ref, expert.maxMult), expert.policy);
}

/**
 * Adapted model params from base params, the SVD factors and an expert's policy. Takes ownership
 * of base and factors; borrows the expert.
 */
export function expertParams(base: Params, factors: SvdFactors, expert: Expert): Params {
  const wanted = new Set(Object.keys(factors));
  const have = namedLeaves(expert.policy).map(([n]) => n);
  const missing = [...wanted].filter((n) => !have.includes(n));
  if (missing.length) throw new UsageError(`expert has no z-vector for ${missing.slice(0, 3).join(", ")}`);
  return svfParams(
    base,
    factors,
    treeMap((p) => p.ref, expert.policy),
    expert.maxMult,
  );
}

/**
 * Σ_k α_k · z_k over experts with the same targets: the paper's linear interpolation of expert
 * vectors (the adaptation step searches the α). Use with svfParamsFromZ. Borrows.
 */
export function mixZ(experts: Expert[], weights: number[]): Params {
  if (experts.length !== weights.length || !experts.length) throw new Error("mixZ: one weight per expert");
  const zs = experts.map(expertZ) as [Params, ...Params[]];
  return treeMap(
    (...leaves: np.Array[]) => leaves.map((l, i) => l.mul(weights[i])).reduce((a, b) => a.add(b)),
    ...zs,
  );
}
