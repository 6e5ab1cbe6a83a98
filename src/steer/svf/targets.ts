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
