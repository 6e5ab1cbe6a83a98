/**
 * Which weight matrices an adapter touches, by HF-style dotted name. The official Transformer²
 * code adapts every parameter whose name contains "mlp" (gate, up and down projections); attention
 * projections are an option.
 */
import { namedLeaves, type Params } from "../../engine/tree.js";
import { UsageError } from "../../errors.js";

export const TARGET_SETS = ["mlp", "attn", "all"] as const;
export type TargetSet = (typeof TARGET_SETS)[number];

const MLP = /\.mlp\.(gate|up|down)_proj\.weight$/;
const ATTN = /\.self_attn\.(q|k|v|o)_proj\.weight$/;

/** Names of the 2-D weights selected by `set`, in the params' order. Borrows params. */
export function selectTargets(params: Params, set: TargetSet): string[] {
  const match = (n: string) =>
    set === "mlp" ? MLP.test(n) : set === "attn" ? ATTN.test(n) : MLP.test(n) || ATTN.test(n);
  const names = namedLeaves(params)
    .filter(([n, x]) => x.ndim === 2 && match(n))
    .map(([n]) => n);
  if (!names.length) throw new UsageError(`no weight matrices match the target set "${set}"`);
  return names;
}

/** Reads a leaf by dotted name. Borrows. */
export function leafAt(params: Params, name: string) {
  let node: unknown = params;
  for (const part of name.split(".")) node = (node as Params)?.[part];
  if (node === undefined) throw new Error(`no parameter "${name}"`);
  return node as import("../../engine/jax.js").numpy.Array;
}

/** A copy of the tree (same leaves, new plain objects) with `replacements` put in place by name. */
export function withLeaves(params: Params, replacements: Record<string, unknown>, prefix = ""): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (name in replacements) out[k] = replacements[name] as Params[string];
    else if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype)
      out[k] = withLeaves(v as Params, replacements, name);
    else out[k] = v;
  }
  return out;
}
