/**
 * Param trees: nested plain objects whose leaves are arrays. Names are dotted paths
 * ("layers.0.weight"), the form used in checkpoints, error messages and optimiser state.
 *
 * Ownership: functions that only read (`namedLeaves`, `countParams`, `treeShapes`) never consume;
 * `treeMap` passes ownership of each leaf to the callback; `treeRef` adds one reference to every
 * leaf; `treeDispose` drops one.
 */
import { numpy as np, tree as jtree } from "./jax.js";

export type Params = { [name: string]: np.Array | Params };

/**
 * A leaf is anything that is not a plain object: concrete arrays and, inside jit/grad, tracers
 * (which are not `np.Array` instances).
 */
export function isLeaf(value: unknown): value is np.Array {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) !== Object.prototype;
}

/** Leaves with their dotted names, in a stable (insertion) order. Does not consume. */
export function namedLeaves(tree: Params, prefix = ""): [string, np.Array][] {
  const out: [string, np.Array][] = [];
  for (const [key, value] of Object.entries(tree)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isLeaf(value)) out.push([name, value]);
    else out.push(...namedLeaves(value as Params, name));
  }
  return out;
}

/** Rebuilds a tree from dotted names (the inverse of `namedLeaves`). */
export function fromNamedLeaves(entries: Iterable<[string, np.Array]>): Params {
  const root: Params = {};
  for (const [name, value] of entries) {
    const parts = name.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const child = node[part];
      if (isLeaf(child)) throw new Error(`param name clash at "${name}"`);
      node = (node[part] ??= {}) as Params;
    }
    const leaf = parts[parts.length - 1];
    if (leaf in node) throw new Error(`duplicate param name "${name}"`);
    node[leaf] = value;
  }
  return root;
}

/** The node or leaf at a dotted path ("layers.0.weight"). Borrows; throws when the path is absent. */
export function getPath(tree: Params, path: string): Params | np.Array {
  let node: Params | np.Array | undefined = tree;
  for (const part of path.split(".")) node = node && !isLeaf(node) ? node[part] : undefined;
  if (node === undefined) throw new Error(`no parameter "${path}"`);
  return node;
}

/** The leaf at a dotted path. Borrows; throws when the path is absent or names a subtree. */
export function leafAt(tree: Params, path: string): np.Array {
  const node = getPath(tree, path);
  if (!isLeaf(node)) throw new Error(`"${path}" is a subtree, not a tensor`);
  return node;
}

/** Sets `value` at a dotted path ("block1.act"), copying the plain nodes on the way (never the leaves). */
export function setPath(tree: Params, path: string, value: Params | np.Array): void {
  const parts = path.split(".");
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (child !== undefined && isLeaf(child)) throw new Error(`param path "${path}" runs through a tensor`);
    node = (node[part] = child ? { ...child } : {}) as Params;
  }
  node[parts[parts.length - 1]] = value;
}

/** A copy of the tree (same leaves, new plain objects) with `replacements` put in place by dotted name. */
export function withLeaves(
  tree: Params,
  replacements: Record<string, Params | np.Array>,
  prefix = "",
): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(tree)) {
    const name = prefix ? `${prefix}.${k}` : k;
    if (name in replacements) out[k] = replacements[name];
    else out[k] = isLeaf(v) ? v : withLeaves(v, replacements, name);
  }
  return out;
}

/** Applies `fn` leaf-wise over one or more trees of the same structure; consumes what `fn` consumes. */
export function treeMap<T extends Params>(fn: (...leaves: np.Array[]) => np.Array, tree: T, ...rest: T[]): T {
  return jtree.map(fn, tree, ...rest) as T;
}

/**
 * Uploads host tensors into the structure of `template` (borrowed), keeping its empty nodes (an
 * optimiser's stateless links), after checking names, shapes and finiteness: the one place a
 * checkpoint meets a model.
 */
export function fillLike(template: Params, tensors: HostTensors, what: string): Params {
  const expected = new Map(namedLeaves(template).map(([n, x]) => [n, x] as const));
  const extra = Object.keys(tensors).filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`${what}: unexpected tensor(s) ${extra.map((n) => `"${n}"`).join(", ")}`);
  for (const [name, x] of expected) {
    const t = tensors[name];
    if (!t) throw new Error(`${what}: missing tensor "${name}"`);
    if (t.shape.join(",") !== x.shape.join(","))
      throw new Error(`${what}: "${name}" has shape [${t.shape}] but the model expects [${x.shape}]`);
    if (t.dtype !== x.dtype)
      throw new Error(`${what}: "${name}" is ${t.dtype} but the model expects ${x.dtype}`);
  }
  assertFinite(tensors, what);
  const build = (node: Params, prefix: string): Params =>
    Object.fromEntries(
      Object.entries(node).map(([k, v]) => {
        const name = prefix ? `${prefix}.${k}` : k;
        if (isLeaf(v)) {
          const t = tensors[name];
          return [k, np.array(t.data, { dtype: t.dtype }).reshape(t.shape)];
        }
        return [k, build(v, name)];
      }),
    );
  return build(template, "");
}

/** Same structure, same shapes, names in the same order: the check behind every "shape mismatch" error. */
export function assertSameStructure(expected: Params, actual: Params, what: string): void {
  const a = namedLeaves(expected);
  const b = new Map(namedLeaves(actual).map(([n, x]) => [n, x.shape] as const));
  for (const [name, x] of a) {
    const shape = b.get(name);
    if (!shape) throw new Error(`${what}: missing tensor "${name}"`);
    if (shape.join(",") !== x.shape.join(","))
      throw new Error(`${what}: "${name}" has shape [${shape}] but the model expects [${x.shape}]`);
    b.delete(name);
  }
  const extra = [...b.keys()];
  if (extra.length) throw new Error(`${what}: unexpected tensor(s) ${extra.map((n) => `"${n}"`).join(", ")}`);
}

export function treeRef<T extends Params>(tree: T): T {
  return jtree.ref(tree);
}

export function treeDispose(tree: Params | null | undefined): void {
  jtree.dispose(tree);
}

export function countParams(tree: Params): number {
  return namedLeaves(tree).reduce((n, [, x]) => n + x.size, 0);
}

export function treeShapes(tree: Params): Record<string, number[]> {
  return Object.fromEntries(namedLeaves(tree).map(([n, x]) => [n, x.shape]));
}

/** √(Σ‖leaf‖²) as a scalar array. Consumes the tree. */
export function globalNorm(tree: Params): np.Array {
  const squares = namedLeaves(tree).map(([, x]) => np.square(x).sum());
  if (squares.length === 0) return np.array(0);
  return np.sqrt(squares.reduce((acc, s) => acc.add(s)));
}

/** Copies every leaf to the host (float32 or whatever dtype it holds). Consumes the tree. */
export async function toHost(tree: Params): Promise<HostTensors> {
  const out: HostTensors = {};
  for (const [name, x] of namedLeaves(tree)) {
    const shape = x.shape;
    const dtype = x.dtype;
    out[name] = { dtype, shape, data: (await x.data()) as HostTensor["data"] };
  }
  return out;
}

/** Refuses NaN or Inf in any tensor, naming the first one: weights are checked before any model sees them. */
export function assertFinite(tensors: HostTensors, where: string): void {
  for (const [name, t] of Object.entries(tensors))
    if (!t.data.every(Number.isFinite)) throw new Error(`${where}: "${name}" contains NaN or Inf`);
}

/** Uploads host tensors as a param tree, after refusing NaN/Inf by name (`where` names the source). */
export function fromHost(tensors: HostTensors, where = "weights"): Params {
  assertFinite(tensors, where);
  return fromNamedLeaves(
    Object.entries(tensors).map(([name, t]) => [name, np.array(t.data, { dtype: t.dtype }).reshape(t.shape)]),
  );
}

export type HostTensor = {
  dtype: np.DType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | Uint32Array;
};
export type HostTensors = Record<string, HostTensor>;
