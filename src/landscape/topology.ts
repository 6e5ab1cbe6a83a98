/**
 * Topology of a surface grid through persistent homology of its sublevel sets {f ≤ t}, with the
 * grid's cells as pixels (the cubical complex of the book's `gudhi.CubicalComplex(
 * top_dimensional_cells=Z)`):
 *
 * - dimension 0 (basins): pixels touching at an edge or a corner are connected (8-neighbours); a
 *   component is born at a local minimum and dies when it merges into an older (deeper) one —
 *   the elder rule, by union–find over the pixels in increasing order.
 * - dimension 1 (rings around peaks): by Alexander duality a hole of {f ≤ t} is a 4-connected
 *   component of {f > t} that does not reach the border; it is born at the saddle where it is cut
 *   off and dies at its peak. Computed as 0-dimensional persistence of the superlevel sets with
 *   4-neighbours and the outside as one eternal component.
 *
 * Ties are broken by position, so plateaus count once.
 */
import { UsageError } from "../errors.js";

export type PersistencePair = { birth: number; death: number; dimension: 0 | 1; at: [number, number] };

export type Persistence = {
  pairs: PersistencePair[];
  /** min over the grid: the essential 0-dimensional class (death = ∞). */
  essential: PersistencePair;
};

function find(parent: Int32Array, i: number): number {
  while (parent[i] !== i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

function checkGrid(z: number[][]): { rows: number; cols: number } {
  const rows = z.length;
  const cols = z[0]?.length ?? 0;
  if (rows === 0 || cols === 0) throw new UsageError("topology needs a non-empty grid");
  if (z.some((r) => r.length !== cols)) throw new UsageError("topology needs a rectangular grid");
  if (z.some((r) => r.some((v) => !Number.isFinite(v))))
    throw new UsageError("the grid holds NaN or infinite values");
  return { rows, cols };
}

/**
 * Union–find persistence of one filtration: pixels enter in `order`; `neighbours` lists the
 * pixels adjacent to one; `outside` (if given) is an extra vertex, born first, adjacent to border
 * pixels. Returns (birth value, death value, birth pixel) for every component that dies.
 */
function componentPersistence(
  values: Float64Array,
  order: Int32Array,
  neighbours: (i: number) => number[],
  border: ((i: number) => boolean) | null,
): { birth: number; death: number; pixel: number }[] {
  const n = values.length;
  const OUT = n; // the outside vertex, when used
  const parent = new Int32Array(n + 1).fill(-1);
  const rank = new Int32Array(n + 1); // position in the filtration of the component's root birth
  const born = new Int32Array(n + 1); // pixel where the component was born
  if (border) {
    parent[OUT] = OUT;
    rank[OUT] = -1;
    born[OUT] = OUT;
  }
  const pairs: { birth: number; death: number; pixel: number }[] = [];
  order.forEach((p, position) => {
    parent[p] = p;
    rank[p] = position;
    born[p] = p;
    const roots = new Set<number>();
    for (const q of neighbours(p)) if (parent[q] !== -1) roots.add(find(parent, q));
    if (border?.(p)) roots.add(find(parent, OUT));
    if (roots.size === 0) return; // a new component (a local extremum)
    // The eldest neighbouring component survives; the others, and p's own, merge into it.
    const sorted = [...roots].sort((a, b) => rank[a] - rank[b]);
    const eldest = sorted[0];
    for (const r of sorted.slice(1)) {
      const b = born[r];
      if (values[b] !== values[p]) pairs.push({ birth: values[b], death: values[p], pixel: b });
      parent[r] = eldest;
    }
    parent[p] = eldest;
  });
  return pairs;
}

/** 0- and 1-dimensional sublevel-set persistence of z[row][col]. */
export function persistence(z: number[][]): Persistence {
  const { rows, cols } = checkGrid(z);
  const n = rows * cols;
  const values = Float64Array.from(z.flat());
  const increasing = Int32Array.from({ length: n }, (_, i) => i).sort(
    (a, b) => values[a] - values[b] || a - b,
  );
  const around = (diagonal: boolean) => (i: number) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const out: number[] = [];
    for (let dr = -1; dr <= 1; dr++)
      for (let dc = -1; dc <= 1; dc++) {
        if ((dr === 0 && dc === 0) || (!diagonal && dr !== 0 && dc !== 0)) continue;
        const rr = r + dr;
        const cc = c + dc;
        if (rr >= 0 && rr < rows && cc >= 0 && cc < cols) out.push(rr * cols + cc);
      }
    return out;
  };
  const position = (i: number): [number, number] => [Math.floor(i / cols), i % cols];
  const h0 = componentPersistence(values, increasing, around(true), null).map((p): PersistencePair => ({
    birth: p.birth,
    death: p.death,
    dimension: 0,
    at: position(p.pixel),
  }));
  const decreasing = Int32Array.from(increasing).reverse();
  const isBorder = (i: number) => {
    const [r, c] = position(i);
    return r === 0 || c === 0 || r === rows - 1 || c === cols - 1;
  };
  // In the superlevel filtration a component born at peak m dying at saddle s is the hole (s, m).
  const h1 = componentPersistence(values, decreasing, around(false), isBorder).map((p): PersistencePair => ({
    birth: p.death,
    death: p.birth,
    dimension: 1,
    at: position(p.pixel),
  }));
  const min = increasing[0];
  return {
    pairs: [...h0, ...h1],
    essential: { birth: values[min], death: Infinity, dimension: 0, at: position(min) },
  };
}

export type TopologySummary = {
  threshold: number;
  /** Minima whose basins persist longer than the threshold (the global minimum included). */
  significantMinima: { value: number; at: [number, number]; persistence: number }[];
  /** The longest-lived finite feature of each dimension. */
  longestLived: { 0?: PersistencePair; 1?: PersistencePair };
  counts: { h0: number; h1: number };
  totalPersistence: { 0: number; 1: number };
};

/** Minima above a persistence threshold and the longest-lived features. */
export function summarize(p: Persistence, threshold: number): TopologySummary {
  const life = (q: PersistencePair) => q.death - q.birth;
  const h0 = p.pairs.filter((q) => q.dimension === 0);
  const h1 = p.pairs.filter((q) => q.dimension === 1);
  const longest = (qs: PersistencePair[]) =>
    qs.reduce<PersistencePair | undefined>((a, q) => (!a || life(q) > life(a) ? q : a), undefined);
  const significant = [
    { value: p.essential.birth, at: p.essential.at, persistence: Infinity },
    ...h0.filter((q) => life(q) > threshold).map((q) => ({ value: q.birth, at: q.at, persistence: life(q) })),
  ].sort((a, b) => a.value - b.value);
  return {
    threshold,
    significantMinima: significant,
    longestLived: { 0: longest(h0), 1: longest(h1) },
    counts: { h0: h0.length + 1, h1: h1.length },
    totalPersistence: { 0: h0.reduce((a, q) => a + life(q), 0), 1: h1.reduce((a, q) => a + life(q), 0) },
  };
}

type Point = { birth: number; death: number };

/**
 * Bottleneck distance between two persistence diagrams (L∞ ground metric, points may be matched
 * to the diagonal): the smallest ε with a perfect matching of cost ≤ ε, found by binary search over
 * the candidate costs and augmenting paths. Infinite points must pair with infinite points.
 */
export function bottleneckDistance(a: Point[], b: Point[]): number {
  const finiteA = a.filter((p) => Number.isFinite(p.death));
  const finiteB = b.filter((p) => Number.isFinite(p.death));
  const infA = a
    .filter((p) => !Number.isFinite(p.death))
    .map((p) => p.birth)
    .sort((x, y) => x - y);
  const infB = b
    .filter((p) => !Number.isFinite(p.death))
    .map((p) => p.birth)
    .sort((x, y) => x - y);
  if (infA.length !== infB.length) return Infinity;
  const essential = infA.reduce((m, x, i) => Math.max(m, Math.abs(x - infB[i])), 0);
  const n = finiteA.length;
  const m = finiteB.length;
  const toDiagonal = (p: Point) => (p.death - p.birth) / 2;
  const dist = (p: Point, q: Point) => Math.max(Math.abs(p.birth - q.birth), Math.abs(p.death - q.death));
  // Left: A's points then B's diagonal projections; right: B's points then A's diagonal projections.
  const cost = (i: number, j: number): number => {
    if (i < n && j < m) return dist(finiteA[i], finiteB[j]);
    if (i < n) return j - m === i ? toDiagonal(finiteA[i]) : Infinity;
    if (j < m) return i - n === j ? toDiagonal(finiteB[j]) : Infinity;
    return 0;
  };
  const size = n + m;
  const candidates = new Set<number>([0]);
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) if (Number.isFinite(cost(i, j))) candidates.add(cost(i, j));
  const sorted = [...candidates].sort((x, y) => x - y);
  const matches = (eps: number) => {
    const matchRight = new Int32Array(size).fill(-1);
    const tryAugment = (i: number, seen: Uint8Array): boolean => {
      for (let j = 0; j < size; j++) {
        if (seen[j] || cost(i, j) > eps) continue;
        seen[j] = 1;
        if (matchRight[j] === -1 || tryAugment(matchRight[j], seen)) {
          matchRight[j] = i;
          return true;
        }
      }
      return false;
    };
    for (let i = 0; i < size; i++) if (!tryAugment(i, new Uint8Array(size))) return false;
    return true;
  };
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (matches(sorted[mid])) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(sorted[lo] ?? 0, essential);
}
