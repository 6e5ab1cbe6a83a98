/**
 * Weight space as the landscape tools see it: one flat float64 vector per point (all parameters,
 * in the param tree's order), with a `Layout` that maps it back to named tensors. Directions,
 * eigenvectors and trajectories live on the host in this form; only loss and Hessian-vector
 * evaluations go to the engine.
 */
import { numpy as np } from "../engine/jax.js";
import { fromNamedLeaves, namedLeaves, type Params } from "../engine/tree.js";
import type { Rng } from "../engine/rng.js";

export type Vector = Float64Array;

export type LayoutEntry = { name: string; shape: number[]; offset: number; size: number };
export type Layout = { entries: LayoutEntry[]; size: number };

/** Names and shapes of a param tree (borrowed), in its leaf order. */
export function layoutOf(params: Params): Layout {
  const entries: LayoutEntry[] = [];
  let offset = 0;
  for (const [name, x] of namedLeaves(params)) {
    entries.push({ name, shape: x.shape, offset, size: x.size });
    offset += x.size;
  }
  return { entries, size: offset };
}

/** Copies a param tree to one host vector. Consumes the tree. */
export async function vectorOf(params: Params): Promise<Vector> {
  const leaves = namedLeaves(params);
  const out = new Float64Array(leaves.reduce((n, [, x]) => n + x.size, 0));
  let offset = 0;
  for (const [, x] of leaves) {
    const data = await x.data();
    out.set(data, offset);
    offset += data.length;
  }
  return out;
}

/**
 * A param tree from a flat engine array (inside jit too): slices in `layout`'s order. Consumes `flat`.
 */
export function unflatten(flat: np.Array, layout: Layout): Params {
  const leaves = layout.entries.map(
    (e) => [e.name, flat.ref.slice([e.offset, e.offset + e.size]).reshape(e.shape)] as [string, np.Array],
  );
  flat.dispose();
  return fromNamedLeaves(leaves);
}

export function dot(a: Vector, b: Vector): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: Vector): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + alpha·x, in place; returns y. */
export function axpy(alpha: number, x: Vector, y: Vector): Vector {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
  return y;
}

export function scale(a: Vector, s: number): Vector {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] * s;
  return out;
}

export function sub(a: Vector, b: Vector): Vector {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/** a / ‖a‖ (a copy); a zero vector stays zero. */
export function normalize(a: Vector): Vector {
  const n = norm(a);
  return scale(a, n > 0 ? 1 / n : 0);
}

/**
 * Removes from `v` its components along the orthonormal `basis` (twice: classical Gram–Schmidt
 * repeated is as stable as modified Gram–Schmidt) and normalises it. Returns a new vector.
 */
export function orthonormalize(v: Vector, basis: readonly Vector[]): Vector {
  const out = Float64Array.from(v);
  for (let pass = 0; pass < 2; pass++) for (const b of basis) axpy(-dot(out, b), b, out);
  return normalize(out);
}

export function randomNormal(n: number, rng: Rng): Vector {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal();
  return out;
}

export function randomRademacher(n: number, rng: Rng): Vector {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.rademacher();
  return out;
}
