/**
 * Seeded host randomness, reproducible in any language: mulberry32 (a small, well-mixed 32-bit
 * PRNG) and the stream built on it (uniforms, integers, choices, shuffles, normals, signs). Device
 * randomness uses JAX keys instead (`prng.ts`); this is for what runs on the host — data order,
 * generated tasks, landscape directions and probe vectors, sampling.
 */

/** mulberry32: returns floats in [0, 1). */
export function mulberry32(state: number): () => number {
  let a = state | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Rng = {
  /** Float in [0, 1). */
  next(): number;
  /** Integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  shuffle<T>(items: readonly T[]): T[];
  /** Standard normal (Marsaglia's polar method, the spare kept for the next call). */
  normal(): number;
  /** ±1 with equal probability. */
  rademacher(): number;
};

export function createRng(seed: number): Rng {
  const next = mulberry32(seed >>> 0);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  let spare: number | null = null;
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)],
    shuffle(items) {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
    normal() {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let a = 0;
      let b = 0;
      let r = 0;
      do {
        a = 2 * next() - 1;
        b = 2 * next() - 1;
        r = a * a + b * b;
      } while (r === 0 || r >= 1);
      const c = Math.sqrt((-2 * Math.log(r)) / r);
      spare = b * c;
      return a * c;
    },
    rademacher: () => (next() < 0.5 ? -1 : 1),
  };
}

/** A small user seed (0, 1, 2…) spread over 32 bits (golden-ratio multiply), so nearby seeds start far apart. */
export function spreadSeed(seed: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ 0x5bd1e995) >>> 0;
}

/** FNV-1a of a string, the seed of a named stream ("cem/3", "family/split/seed"). */
export function hashSeed(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
