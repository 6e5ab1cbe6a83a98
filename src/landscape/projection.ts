/**
 * Weight-space projections of a set of checkpoints (flattened weights, one row each), as the book's
 * `analyze_weight_space`: PCA (scikit-learn's convention: centred, components by SVD) and t-SNE.
 */
import { TSNE } from "@keckelt/tsne";
import { symmetricEigen } from "./symmetric-eigen.js";
import { axpy, dot, type Vector } from "./vector.js";
import { createRng, spreadSeed } from "../engine/rng.js";
import { UsageError } from "../errors.js";

export type Pca = {
  mean: Vector;
  /** Unit principal axes, by decreasing variance. */
  components: Vector[];
  /** coordinates[i][k] = (xᵢ − mean)·componentₖ */
  coordinates: number[][];
  /** Fraction of the total variance along each component. */
  explainedVarianceRatio: number[];
  singularValues: number[];
};

/**
 * PCA of n points in P dimensions with n ≪ P: the SVD X_c = U S Vᵀ of the centred data through the
 * n×n Gram matrix X_c X_cᵀ = U S² Uᵀ, so components V = X_cᵀ U S⁻¹ never need a P×P matrix.
 * Signs follow scikit-learn's `svd_flip` (the largest-|u| entry of each column of U is positive).
 */
export function pca(points: Vector[], k = 2, opts: { center?: boolean } = {}): Pca {
  const n = points.length;
  if (n < 2) throw new UsageError(`PCA needs at least 2 points, got ${n}`);
  const dim = points[0].length;
  const mean = new Float64Array(dim);
  if (opts.center ?? true) {
    for (const p of points) axpy(1 / n, p, mean);
  }
  const centred = points.map((p) => Float64Array.from(p, (x, i) => x - mean[i]));
  const gram = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) gram[i * n + j] = gram[j * n + i] = dot(centred[i], centred[j]);
  const { values, vectors } = symmetricEigen(gram, n);
  const total = values.reduce((a, v) => a + Math.max(v, 0), 0);
  const kept = Math.min(k, n);
  const components: Vector[] = [];
  const singularValues: number[] = [];
  for (let c = 0; c < kept; c++) {
    const s = Math.sqrt(Math.max(values[c], 0));
    const u = vectors[c];
    let big = 0;
    for (let i = 1; i < n; i++) if (Math.abs(u[i]) > Math.abs(u[big])) big = i;
    const sign = u[big] < 0 ? -1 : 1;
    const v = new Float64Array(dim);
    if (s > 0) for (let i = 0; i < n; i++) axpy((sign * u[i]) / s, centred[i], v);
    components.push(v);
    singularValues.push(s);
  }
  return {
    mean,
    components,
    coordinates: centred.map((x) => components.map((v) => dot(x, v))),
    explainedVarianceRatio: values.slice(0, kept).map((v) => (total > 0 ? Math.max(v, 0) / total : 0)),
    singularValues,
  };
}

/**
 * t-SNE (van der Maaten & Hinton 2008) of the points to 2-D, with @keckelt/tsne (Karpathy's tsnejs)
 * seeded for reproducibility. Squared distances are computed here in float64 (P can be 10⁵–10⁶).
 * `perplexity` must be below the number of points; the book uses 1 for 15 checkpoints.
 */
export function tsne(
  points: Vector[],
  opts: { perplexity?: number; iterations?: number; seed?: number } = {},
) {
  const n = points.length;
  const {
    perplexity = Math.min(30, Math.max(1, Math.floor((n - 1) / 3))),
    iterations = 1000,
    seed = 0,
  } = opts;
  if (n < 3) throw new UsageError(`t-SNE needs at least 3 points, got ${n}`);
  if (!(perplexity > 0 && perplexity < n))
    throw new UsageError(`t-SNE perplexity must be in (0, ${n}) for ${n} points, got ${perplexity}`);
  // tsnejs's kernel is exp(−β·D) with D the squared distance. Scaling D by its mean changes nothing
  // (β is calibrated per point to the perplexity) but keeps exp(−D) from underflowing at β = 1.
  const squared: number[][] = points.map(() => new Array<number>(n).fill(0));
  let sum = 0;
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let q = 0; q < points[i].length; q++) s += (points[i][q] - points[j][q]) ** 2;
      squared[i][j] = squared[j][i] = s;
      sum += s;
    }
  const meanSquared = sum / ((n * (n - 1)) / 2) || 1;
  const distances = squared.map((row) => row.map((d) => d / meanSquared));
  const model = new TSNE({ dim: 2, perplexity, epsilon: 10 });
  const rng = createRng(spreadSeed(seed));
  model.gaussRandom = () => rng.normal();
  model.initDataDist(distances);
  let cost = 0;
  for (let i = 0; i < iterations; i++) cost = model.step();
  return { coordinates: (model.getSolution() as number[][]).map((p) => [p[0], p[1]]), cost, perplexity };
}
