/**
 * The cross-entropy method over a box [lo, hi]^d, as Transformer²'s few-shot adaptation uses it
 * to search the mixing coefficients α of the expert vectors:
 *
 *   μ₀ = init, σ₀ = initStd
 *   each generation: draw `population` points x ~ clip(𝒩(μ, σ²), lo, hi); the best point so far
 *   takes the last slot, so it is re-evaluated every generation; rank by fitness (ties by the
 *   secondary score, e.g. the answers' log-likelihood); the top ⌈eliteFrac · population⌉ are the
 *   elites; μ ← mean(elites), σ ← max(std(elites), minStd)
 *   the best of the last generation is the answer.
 *
 * Defaults after the official configuration: population 32, elite fraction 0.2, α ∈ [0, 1].
 * Fitness is asynchronous and sees a whole generation at once, so callers may batch it.
 */
import { createRng, hashSeed } from "../../../engine/rng.js";

export type Fitness = { score: number; tiebreak?: number };

export type CemOptions = {
  dim: number;
  iterations: number;
  population: number;
  eliteFrac: number;
  lo: number;
  hi: number;
  /** Starting mean: one number for every coordinate or one per coordinate. */
  init: number | number[];
  initStd: number;
  minStd: number;
  seed: number;
};

export const CEM_DEFAULTS: Omit<CemOptions, "dim" | "init"> = {
  iterations: 10,
  population: 32,
  eliteFrac: 0.2,
  lo: 0,
  hi: 1,
  initStd: 0.3,
  minStd: 0.02,
  seed: 0,
};

export type CemGeneration = {
  iteration: number;
  best: number;
  bestTiebreak: number;
  eliteMean: number;
  populationMean: number;
  mean: number[];
  std: number[];
};

export type CemResult = { best: number[]; fitness: Fitness; history: CemGeneration[] };

/** Higher score first, then higher tiebreak. */
export function compareFitness(a: Fitness, b: Fitness): number {
  return b.score - a.score || (b.tiebreak ?? 0) - (a.tiebreak ?? 0);
}

export async function cem(
  fitness: (points: number[][], generation: number) => Promise<Fitness[]>,
  opts: Partial<CemOptions> & { dim: number },
  onGeneration?: (g: CemGeneration) => void,
): Promise<CemResult> {
  const o = { ...CEM_DEFAULTS, init: 0.5, ...opts };
  if (o.population < 2) throw new Error("cem: population must be at least 2");
  const rng = createRng(hashSeed(`cem/${o.seed}`));
  const gauss = () => {
    const u = 1 - rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
  };
  const clip = (x: number) => Math.min(o.hi, Math.max(o.lo, x));
  let mean = typeof o.init === "number" ? Array<number>(o.dim).fill(o.init) : [...o.init];
  if (mean.length !== o.dim) throw new Error(`cem: init has ${mean.length} values for ${o.dim} dimensions`);
  let std = Array<number>(o.dim).fill(o.initStd);
  const nElite = Math.max(1, Math.ceil(o.eliteFrac * o.population));
  let best: { x: number[]; f: Fitness } | null = null;
  const history: CemGeneration[] = [];
  for (let it = 1; it <= o.iterations; it++) {
    const points = Array.from({ length: o.population }, () => mean.map((m, j) => clip(m + std[j] * gauss())));
    if (best) points[o.population - 1] = [...best.x];
    const scores = await fitness(points, it);
    if (scores.length !== points.length) throw new Error("cem: fitness must score every point");
    const ranked = points.map((x, i) => ({ x, f: scores[i] })).sort((a, b) => compareFitness(a.f, b.f));
    const elites = ranked.slice(0, nElite);
    mean = mean.map((_, j) => elites.reduce((s, e) => s + e.x[j], 0) / nElite);
    std = mean.map((m, j) =>
      Math.max(o.minStd, Math.sqrt(elites.reduce((s, e) => s + (e.x[j] - m) ** 2, 0) / nElite)),
    );
    best = ranked[0];
    const g: CemGeneration = {
      iteration: it,
      best: best.f.score,
      bestTiebreak: best.f.tiebreak ?? 0,
      eliteMean: elites.reduce((s, e) => s + e.f.score, 0) / nElite,
      populationMean: scores.reduce((s, f) => s + f.score, 0) / scores.length,
      mean: [...mean],
      std: [...std],
    };
    history.push(g);
    onGeneration?.(g);
  }
  if (!best) throw new Error("cem: at least one iteration is needed");
  return { best: best.x, fitness: best.f, history };
}
