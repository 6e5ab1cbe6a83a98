/**
 * Parameters and optimiser state as one flat float32 buffer instead of one array per leaf (what
 * PyTorch's `foreach`/fused optimisers do). Why: jax-js writes one output per kernel, so an update
 * over a tree of L leaves costs L kernels per state slot (Adam: 3L, plus L reductions for the
 * gradient norm); on WebGPU each kernel is a dispatch with a fixed host cost, and the ViT's ~40
 * leaves made its optimiser ~160 of its ~400 kernels per step (bench/NOTES.md). Over one buffer
 * the same update is a handful of kernels.
 *
 * Only optimisers whose update is elementwise give the same result on a flat buffer as per leaf
 * (`FLAT_OPTIMIZERS`): LARS and LAMB scale each leaf by its own trust ratio, Adafactor factors
 * each matrix's second moment, Sophia takes a curvature tree.
 */
import { numpy as np } from "../engine/jax.js";
import { fromNamedLeaves, namedLeaves, type Params } from "../engine/tree.js";
import { ELEMENTWISE_OPTIMIZERS, type OptimizerConfig, type OptimizerName } from "./index.js";

export type FlatEntry = { name: string; shape: number[]; offset: number; size: number };
export type FlatLayout = { entries: FlatEntry[]; size: number };

/** Optimisers whose update is the same on one flat buffer as leaf by leaf. */
export const FLAT_OPTIMIZERS: readonly OptimizerName[] = ELEMENTWISE_OPTIMIZERS;

export function canFlatten(config: OptimizerConfig): boolean {
  return FLAT_OPTIMIZERS.includes(config.name);
}

/** Where each leaf (in `namedLeaves` order) lives in the flat buffer. Borrows `params`. */
export function flatLayoutOf(params: Params): FlatLayout {
  let offset = 0;
  const entries = namedLeaves(params).map(([name, a]) => {
    const size = a.shape.reduce((p, d) => p * d, 1);
    const e = { name, shape: [...a.shape], offset, size };
    offset += size;
    return e;
  });
  return { entries, size: offset };
}

/** One float32 vector of every leaf, in layout order. Consumes `params`. */
export function flattenParams(params: Params): np.Array {
  const leaves = namedLeaves(params).map(([, a]) => a.reshape([-1]));
  return leaves.length === 1 ? leaves[0] : np.concatenate(leaves);
}

/** The tree back, each leaf a slice of `flat` (views inside `jit`). Consumes `flat`. */
export function unflattenParams(flat: np.Array, layout: FlatLayout): Params {
  const leaves = layout.entries.map(
    (e) => [e.name, flat.ref.slice([e.offset, e.offset + e.size]).reshape(e.shape)] as [string, np.Array],
  );
  flat.dispose();
  return fromNamedLeaves(leaves);
}
