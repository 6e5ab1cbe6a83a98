/**
 * Few-shot adaptation's search space: z′ = Σ_k α_k z_k over the expert library, with one α per
 * expert or one per expert and layer (targets of the same transformer block share a layer), and
 * optionally the α of each layer normalised to sum 1. With a one-hot α, z′ is exactly that
 * expert's z (zero-weight terms are left out, and z · 1 is z).
 */
import { numpy as np } from "../../../engine/jax.js";
import { fromNamedLeaves, leafAt, type Params } from "../../../engine/tree.js";

export type MixOptions = { perLayer: boolean; normalise: boolean };

/** The block index in an HF-style name ("model.layers.3.mlp.up_proj.weight" → 3); 0 for others. */
export function layerOf(name: string): number {
  const m = /(?:^|\.)layers\.(\d+)\./.exec(name);
  return m ? Number(m[1]) : 0;
}

/** Number of α values: K, or K · (number of layers) expert-major. */
export function alphaDim(experts: number, targets: readonly string[], perLayer: boolean): number {
  return perLayer ? experts * layerSlots(targets).length : experts;
}

function layerSlots(targets: readonly string[]): number[] {
  return [...new Set(targets.map(layerOf))].sort((a, b) => a - b);
}

/**
 * The coefficient of expert k for each target: α[k] or α[k · L + slot(layer)], normalised per
 * target over k when asked. A target whose coefficients are all zero would give W′ = 0/0: such a
 * target gets the uniform mixture 1/K instead.
 */
export function coefficients(
  alpha: readonly number[],
  experts: number,
  targets: readonly string[],
  opts: MixOptions,
): number[][] {
  const slots = layerSlots(targets);
  const want = alphaDim(experts, targets, opts.perLayer);
  if (alpha.length !== want) throw new Error(`mix: expected ${want} coefficients, got ${alpha.length}`);
  return targets.map((name) => {
    const slot = slots.indexOf(layerOf(name));
    let c = Array.from({ length: experts }, (_, k) =>
      opts.perLayer ? alpha[k * slots.length + slot] : alpha[k],
    );
    const total = c.reduce((a, b) => a + b, 0);
    if (!(total > 1e-12)) c = c.map(() => 1 / experts);
    else if (opts.normalise) c = c.map((x) => x / total);
    return c;
  });
}

/** z′ per target, nested by name, from the experts' z trees (borrowed). */
export function mixExperts(
  zs: readonly Params[],
  targets: readonly string[],
  alpha: readonly number[],
  opts: MixOptions,
): Params {
  const coef = coefficients(alpha, zs.length, targets, opts);
  return fromNamedLeaves(
    targets.map((name, t) => {
      let sum: np.Array | null = null;
      coef[t].forEach((a, k) => {
        if (a === 0) return;
        const term = leafAt(zs[k], name).ref.mul(a);
        sum = sum ? sum.add(term) : term;
      });
      return [name, sum as unknown as np.Array];
    }),
  );
}
