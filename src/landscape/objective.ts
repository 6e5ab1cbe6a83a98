/**
 * The loss a landscape is made of: mean cross-entropy of a model over a fixed evaluation set (the
 * book uses the first 256 test images), as a function of the flat weight vector. It evaluates
 * points, lines and planes through weight space, and Hessian-vector products H·v (forward-over-
 * reverse, `jvp(grad(loss))`), batch by batch like a data loader, weighting batches by their size.
 */
import { defaultDevice, grad, jit, jvp, numpy as np, vmap } from "../engine/jax.js";
import type { ImageSplit } from "../data/dataset.js";
import type { Model } from "../nn/models/index.js";
import { batchLossAndCorrect } from "../train/evaluate.js";
export { evaluationSubset } from "../data/subsets.js";
import { unflatten, type Layout, type Vector } from "./vector.js";

export type Evaluation = { loss: number; accuracy: number };

type DeviceBatch = { x: np.Array; y: np.Array; n: number };

export type Objective = {
  layout: Layout;
  /** Examples the loss averages over. */
  n: number;
  /** Loss and accuracy at `w`. */
  evaluate(w: Vector): Promise<Evaluation>;
  /**
   * Points w = base + Σ cᵢ·dᵢ of an affine subspace, with base and directions uploaded once: the
   * inner loop of interpolations, slices and surfaces.
   */
  subspace(base: Vector, directions: Vector[]): Subspace;
  /** H·v at w, the Hessian of the mean loss; `w` is uploaded once per operator. */
  hessianAt(w: Vector): HessianOperator;
  dispose(): void;
};

export type Subspace = {
  at(coefficients: number[]): Promise<Evaluation>;
  /** Many points in one program per batch and one read-back of all their losses (vmap). */
  atMany(points: number[][]): Promise<Evaluation[]>;
  /**
   * How many points a caller should pass to `atMany` at once: 1 on the CPU backends (a read-back
   * is cheap there and a batch of points multiplies the memory), SURFACE_POINTS_GPU on WebGPU
   * (each read-back costs a round trip to the GPU; TILLER_SURFACE_POINTS overrides).
   */
  pointsPerCall: number;
  dispose(): void;
};

/** Points per call on WebGPU: a 40×40 grid in 40 calls per batch instead of 1600 (bench/NOTES.md). */
const SURFACE_POINTS_GPU = 40;

function pointsPerCall(): number {
  const env = Number(typeof process === "undefined" ? undefined : process.env.TILLER_SURFACE_POINTS);
  if (Number.isInteger(env) && env >= 1) return env;
  return defaultDevice() === "webgpu" ? SURFACE_POINTS_GPU : 1;
}
export type HessianOperator = { dim: number; apply(v: Vector): Promise<Vector>; dispose(): void };

const upload = (v: Vector) => np.array(Float32Array.from(v));

/** The evaluation set on the device, in batches uploaded once. */
function deviceBatches(data: ImageSplit, batchSize: number): DeviceBatch[] {
  const dim = data.shape[0] * data.shape[1] * data.shape[2];
  const batches: DeviceBatch[] = [];
  for (let start = 0; start < data.n; start += batchSize) {
    const n = Math.min(batchSize, data.n - start);
    batches.push({
      x: np.array(data.images.slice(start * dim, (start + n) * dim)).reshape([n, ...data.shape]),
      y: np.array(data.labels.slice(start, start + n), { dtype: np.int32 }),
      n,
    });
  }
  return batches;
}

/** The jitted programs of an objective: loss at w, at points of a subspace, and H·v per batch. */
function objectivePrograms(model: Model, layout: Layout) {
  const objective = batchLossAndCorrect(model);
  const sumLoss = (w: np.Array, x: np.Array, y: np.Array) => {
    const [loss, correct] = objective(unflatten(w, layout), x, y);
    correct.dispose();
    return loss;
  };
  // w = base + cᵀD with D [k, P]: one jitted program for every point of a subspace.
  const atPoint = jit((base: np.Array, dirs: np.Array, c: np.Array, x: np.Array, y: np.Array) => {
    const k = dirs.shape[0];
    const w = base.add(np.matmul(c.reshape([1, k]), dirs).reshape([-1]));
    return objective(unflatten(w, layout), x, y);
  });
  // The same for P points at once: C [P, k] → W [P, size], the model vmapped over W → [P, 2].
  const atPoints = jit((base: np.Array, dirs: np.Array, c: np.Array, x: np.Array, y: np.Array) => {
    const w = base.reshape([1, -1]).add(np.matmul(c, dirs));
    const one = (wp: np.Array, xb: np.Array, yb: np.Array) =>
      np.stack(objective(unflatten(wp, layout), xb, yb));
    return vmap(one, [0, null, null])(w, x, y);
  });
  const atBase = jit((w: np.Array, x: np.Array, y: np.Array) => objective(unflatten(w, layout), x, y));
  // The data enters as a primal with a zero tangent: closing over it makes jax-js 0.1.25 several
  // times slower (measured 445 vs 112 ms per H·v for the 784-512-64-10 MLP on 256 images).
  const hvpBatch = jit((w: np.Array, v: np.Array, x: np.Array, y: np.Array) => {
    const gradient = (q: np.Array, xq: np.Array) =>
      grad((p: np.Array, xp: np.Array) => sumLoss(p, xp, y.ref))(q, xq);
    const [g, hv] = jvp(gradient, [w, x.ref], [v, np.zerosLike(x)]);
    g.dispose();
    y.dispose();
    return hv;
  });
  return { atPoint, atPoints, atBase, hvpBatch };
}

export function createObjective(model: Model, layout: Layout, data: ImageSplit, batchSize = 256): Objective {
  const batches = deviceBatches(data, batchSize);
  const { atPoint, atPoints, atBase, hvpBatch } = objectivePrograms(model, layout);

  const reduce = async (parts: [np.Array, np.Array][]): Promise<Evaluation> => {
    let loss = 0;
    let correct = 0;
    for (const [l, c] of parts) {
      loss += (await l.data())[0];
      correct += (await c.data())[0];
    }
    return { loss: loss / data.n, accuracy: correct / data.n };
  };

  return {
    layout,
    n: data.n,
    evaluate(w) {
      const wd = upload(w);
      const parts = batches.map((b) => atBase(wd.ref, b.x.ref, b.y.ref));
      wd.dispose();
      return reduce(parts);
    },
    subspace(base, directions) {
      const baseD = upload(base);
      if (directions.length === 0) {
        const at = () => reduce(batches.map((b) => atBase(baseD.ref, b.x.ref, b.y.ref)));
        return {
          at,
          atMany: (points) => Promise.all(points.map(() => at())),
          pointsPerCall: 1,
          dispose: () => baseD.dispose(),
        };
      }
      const flat = new Float32Array(directions.length * layout.size);
      directions.forEach((d, i) => flat.set(d, i * layout.size));
      const dirs = np.array(flat).reshape([directions.length, layout.size]);
      return {
        at(coefficients) {
          if (coefficients.length !== directions.length)
            throw new Error(`expected ${directions.length} coefficients, got ${coefficients.length}`);
          const c = np.array(coefficients);
          const parts = batches.map((b) => atPoint(baseD.ref, dirs.ref, c.ref, b.x.ref, b.y.ref));
          c.dispose();
          return reduce(parts);
        },
        async atMany(points) {
          const k = directions.length;
          if (points.some((p) => p.length !== k))
            throw new Error(`expected ${k} coefficients for every point`);
          const c = np.array(Float32Array.from(points.flat())).reshape([points.length, k]);
          const parts = batches.map((b) => atPoints(baseD.ref, dirs.ref, c.ref, b.x.ref, b.y.ref));
          c.dispose();
          const sums = new Float64Array(points.length * 2);
          for (const part of parts) {
            const values = await part.data();
            for (let i = 0; i < sums.length; i++) sums[i] += values[i];
          }
          return points.map((_, i) => ({ loss: sums[2 * i] / data.n, accuracy: sums[2 * i + 1] / data.n }));
        },
        pointsPerCall: pointsPerCall(),
        dispose() {
          baseD.dispose();
          dirs.dispose();
        },
      };
    },
    hessianAt(w) {
      const wd = upload(w);
      return {
        dim: layout.size,
        async apply(v) {
          const vd = upload(v);
          const out = new Float64Array(layout.size);
          for (const b of batches) {
            const hv = await hvpBatch(wd.ref, vd.ref, b.x.ref, b.y.ref).data();
            for (let i = 0; i < out.length; i++) out[i] += hv[i];
          }
          vd.dispose();
          for (let i = 0; i < out.length; i++) out[i] /= data.n;
          return out;
        },
        dispose: () => wd.dispose(),
      };
    },
    dispose() {
      for (const b of batches) {
        b.x.dispose();
        b.y.dispose();
      }
      atPoint.dispose();
      atPoints.dispose();
      atBase.dispose();
      hvpBatch.dispose();
    },
  };
}
