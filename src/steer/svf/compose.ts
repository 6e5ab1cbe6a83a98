/**
 * Singular Value Fine-tuning (Sun, Cetin & Tang 2025, "Transformer²"), parameterised exactly as the
 * official code (policy/base.py, utils.compose_new_params):
 *
 *   z  = max_mult · sigmoid(p),   p₀ = init_val + 𝒩(0, 0.01²)   (init_val 0.1, max_mult 1)
 *   W′ = U diag(S ⊙ z) Vᵀ · (Σ S / Σ (S ⊙ z))
 *
 * The last factor keeps the sum of singular values, so any constant z gives W back. Everything
 * here is a pure function of arrays, usable inside jit and grad.
 */
import { nn, numpy as np, random } from "../../engine/jax.js";
import { splitKey, type Key } from "../../engine/prng.js";
import { fromNamedLeaves, leafAt, treeMap, withLeaves, type Params } from "../../engine/tree.js";
import type { SvdFactors } from "./svd.js";

export type SvfOptions = { initVal: number; maxMult: number; noise: number };
export const SVF_DEFAULTS: SvfOptions = { initVal: 0.1, maxMult: 1, noise: 0.01 };

/** The trainable vectors p, one of length r = min(m, n) per target, flat by target name. */
export function initPolicy(key: Key, factors: SvdFactors, opts: SvfOptions = SVF_DEFAULTS): Params {
  const names = Object.keys(factors);
  const keys = splitKey(key, names.length);
  return fromNamedLeaves(
    names.map((name, i) => {
      const r = factors[name].S.shape[0];
      return [name, random.normal(keys[i], [r]).mul(opts.noise).add(opts.initVal)];
    }),
  );
}

/** z = max_mult · sigmoid(p). Consumes p. */
export function zFromPolicy(p: np.Array, maxMult: number): np.Array {
  return nn.sigmoid(p).mul(maxMult);
}

/** W′ = U diag(S ⊙ z) Vᵀ · ΣS / Σ(S ⊙ z). Consumes everything. */
export function composeWeight(U: np.Array, S: np.Array, V: np.Array, z: np.Array): np.Array {
  const scaled = S.ref.mul(z);
  const factor = S.sum().div(scaled.ref.sum());
  return np.matmul(U.mul(scaled.reshape([1, -1])), V.transpose()).mul(factor);
}

/**
 * The base params with every targeted matrix replaced by U diag(S ⊙ z) Vᵀ · ΣS/Σ(S ⊙ z), `z` holding
 * one vector per target, nested by dotted name. Consumes base, factors and z.
 */
export function svfParamsFromZ(base: Params, factors: SvdFactors, z: Params): Params {
  const replaced: Record<string, np.Array> = {};
  for (const [name, f] of Object.entries(factors))
    replaced[name] = composeWeight(f.U, f.S, f.V, leafAt(z, name));
  const out = withLeaves(base, replaced);
  // The replaced base matrices are no longer referenced by the output: release them.
  for (const name of Object.keys(factors)) leafAt(base, name).dispose();
  return out;
}

/** svfParamsFromZ with z = max_mult · sigmoid(p) (p as initPolicy makes it). Consumes base, factors and p. */
export function svfParams(base: Params, factors: SvdFactors, p: Params, maxMult: number): Params {
  return svfParamsFromZ(
    base,
    factors,
    treeMap((x) => zFromPolicy(x, maxMult), p),
  );
}
