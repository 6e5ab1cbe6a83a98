/**
 * Several trees in one checkpoint: leaves named "<prefix>.<leaf name>" (params., opt., best.…), so a
 * resumable trainer saves everything it needs in one sha256-checked file.
 */
import { toHost, treeRef, type HostTensors, type Params } from "../engine/tree.js";

/** Host copies of every tree, names prefixed by the tree's key. Borrows the trees. */
export async function packTrees(trees: Record<string, Params>): Promise<HostTensors> {
  const out: HostTensors = {};
  for (const [prefix, tree] of Object.entries(trees))
    for (const [name, t] of Object.entries(await toHost(treeRef(tree)))) out[`${prefix}.${name}`] = t;
  return out;
}

/** The tensors of one tree, prefix removed. */
export function unpackTree(tensors: HostTensors, prefix: string): HostTensors {
  const p = `${prefix}.`;
  return Object.fromEntries(
    Object.entries(tensors)
      .filter(([k]) => k.startsWith(p))
      .map(([k, v]) => [k.slice(p.length), v]),
  );
}
