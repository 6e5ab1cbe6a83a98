/** Directions, surfaces, interpolation and weight-space projections. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { treeDispose, treeRef, type Params } from "../../src/engine/tree.js";
import { createModel, modelConfig, type Model } from "../../src/nn/models/index.js";
import { evaluate } from "../../src/train/evaluate.js";
import { createObjective, type Objective, type Subspace } from "../../src/landscape/objective.js";
import { filterNormalize, randomDirections, trajectoryDirections } from "../../src/landscape/directions.js";
import { interpolate, linspace, slice1d, surface2d } from "../../src/landscape/surface.js";
import { pca, tsne } from "../../src/landscape/projection.js";
import { layoutOf, randomNormal, vectorOf, type Layout, type Vector } from "../../src/landscape/vector.js";
import { createRng, spreadSeed } from "../../src/engine/rng.js";

let model: Model;
let params: Params;
let layout: Layout;
let w0: Vector;
let objective: Objective;
const data = (() => {
  const rng = createRng(spreadSeed(7));
  const n = 48;
  return {
    n,
    shape: [1, 6, 6] as [number, number, number],
    images: Float32Array.from({ length: n * 36 }, () => rng.normal()),
    labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 10)),
  };
})();

beforeAll(async () => {
  await startEngine();
  model = createModel(modelConfig("mlp", { inputShape: [1, 6, 6], classes: 10 }, { hidden: [20, 12] }));
  params = model.init(keyFromSeed(3));
  layout = layoutOf(params);
  w0 = await vectorOf(treeRef(params));
  objective = createObjective(model, layout, data, 20);
});
afterAll(() => {
  objective?.dispose();
  treeDispose(params);
});

describe("filter-normalised directions", () => {
  it("give every filter of every weight matrix the norm of the weights' filter, and zero biases", () => {
    const { vectors } = randomDirections(w0, layout, { count: 2, seed: 5 });
    for (const d of vectors)
      for (const e of layout.entries) {
        if (e.shape.length === 1) {
          expect(d.subarray(e.offset, e.offset + e.size).every((x) => x === 0)).toBe(true);
          continue;
        }
        const per = e.size / e.shape[0];
        for (let f = 0; f < e.shape[0]; f++) {
          const s = e.offset + f * per;
          const n = (v: Vector) => Math.hypot(...v.subarray(s, s + per));
          expect(Math.abs(n(d) - n(w0)) / n(w0)).toBeLessThan(1e-9);
        }
      }
    expect(vectors[0]).not.toEqual(vectors[1]);
  });

  it("handle conv filters [out, in, kh, kw] filter by filter, and copy 1-D tensors when asked", () => {
    const convLayout: Layout = {
      entries: [
        { name: "conv.weight", shape: [3, 2, 2, 2], offset: 0, size: 24 },
        { name: "conv.bias", shape: [3], offset: 24, size: 3 },
      ],
      size: 27,
    };
    const w = Float64Array.from({ length: 27 }, (_, i) => i + 1);
    const d = filterNormalize(randomNormal(27, createRng(spreadSeed(1))), w, convLayout, false);
    for (let f = 0; f < 3; f++) {
      const slice = (v: Vector) => Math.hypot(...v.subarray(f * 8, f * 8 + 8));
      expect(slice(d)).toBeCloseTo(slice(w), 8);
    }
    expect(Array.from(d.subarray(24))).toEqual([25, 26, 27]);
  });
});

describe("surfaces", () => {
  it("the centre of a surface is the checkpoint's loss, as the training evaluation computes it", async () => {
    const { vectors } = randomDirections(w0, layout, { seed: 1 });
    const plane = objective.subspace(w0, vectors);
    const grid = await surface2d(plane, { steps: 5, xRange: [-0.5, 0.5] });
    plane.dispose();
    const reference = await evaluate(model, params, data, 16);
    expect(grid.loss[2][2]).toBeCloseTo(reference.loss, 5);
    expect(grid.accuracy[2][2]).toBeCloseTo(reference.accuracy, 10);
    expect(grid.loss.flat().some((l) => Math.abs(l - reference.loss) > 1e-3)).toBe(true);
  });

  it("a surface of a known quadratic matches the closed form, rows along λ₂ and columns along λ₁", async () => {
    const f = (a: number, b: number) => 3 * a * a - a * b + 0.5 * b * b + 2 * a - b + 1;
    const at = async ([a, b]: number[]) => ({ loss: f(a, b), accuracy: 0 });
    const quadratic: Subspace = {
      at,
      atMany: (points) => Promise.all(points.map(at)),
      pointsPerCall: 3,
      dispose() {},
    };
    const grid = await surface2d(quadratic, { steps: 7, xRange: [-1, 2], yRange: [-3, 0] });
    expect(grid.x).toEqual(linspace(-1, 2, 7));
    expect(grid.y[0]).toBe(-3);
    grid.y.forEach((b, j) => grid.x.forEach((a, i) => expect(grid.loss[j][i]).toBe(f(a, b))));
  });

  it("a surface evaluated several points per program (vmap) equals the one evaluated point by point", async () => {
    const { vectors } = randomDirections(w0, layout, { seed: 4 });
    const gridWith = async (points: string) => {
      process.env.TILLER_SURFACE_POINTS = points;
      const plane = objective.subspace(w0, vectors);
      delete process.env.TILLER_SURFACE_POINTS;
      expect(plane.pointsPerCall).toBe(Number(points));
      try {
        return await surface2d(plane, { steps: 5, xRange: [-0.5, 0.5] }); // rows in chunks of 3 and 2
      } finally {
        plane.dispose();
      }
    };
    const one = await gridWith("1");
    const many = await gridWith("3");
    many.loss.flat().forEach((l, i) => expect(l).toBeCloseTo(one.loss.flat()[i], 5));
    expect(many.accuracy).toEqual(one.accuracy);
  });

  it("a 1-D slice along a direction equals the points evaluated one by one", async () => {
    const { vectors } = randomDirections(w0, layout, { count: 1, seed: 2 });
    const line = objective.subspace(w0, vectors);
    const s = await slice1d(line, [-1, 0.25]);
    line.dispose();
    const moved = Float64Array.from(w0, (x, i) => x - vectors[0][i]);
    expect(s.loss[0]).toBeCloseTo((await objective.evaluate(moved)).loss, 5);
  });

  it("linear interpolation passes through both endpoints", async () => {
    const w2 = Float64Array.from(w0, (x, i) => x * 0.5 + 0.01 * Math.sin(i));
    const s = await interpolate(objective, w0, w2, [0, 0.5, 1]);
    expect(s.loss[0]).toBeCloseTo((await objective.evaluate(w0)).loss, 5);
    expect(s.loss[2]).toBeCloseTo((await objective.evaluate(w2)).loss, 5);
    const mid = Float64Array.from(w0, (x, i) => 0.5 * x + 0.5 * w2[i]);
    expect(s.loss[1]).toBeCloseTo((await objective.evaluate(mid)).loss, 5);
  });
});

describe("weight-space projections", () => {
  // Points on a known plane through m: xᵢ = m + tᵢ·u + sᵢ·v, with u ⟂ v unit and var(t) > var(s).
  const dim = 500;
  const rng = createRng(spreadSeed(11));
  const m = randomNormal(dim, rng);
  const u = new Float64Array(dim);
  const v = new Float64Array(dim);
  u[3] = 0.6;
  u[10] = 0.8;
  v[7] = 1;
  // Uncorrelated coordinates (Σ(t−t̄)(s−s̄) = 0), so the principal axes are exactly u and v.
  const t = [-3, -1, 1, 3, 0, 0, 0];
  const s = [0, 0, 0, 0, 1, -1, 0];
  const points = t.map((ti, i) => Float64Array.from(m, (x, q) => x + ti * u[q] + s[i] * v[q]));

  it("PCA recovers the plane's axes and the centred coordinates", () => {
    const p = pca(points, 2);
    const tMean = t.reduce((a, b) => a + b) / t.length;
    const sMean = s.reduce((a, b) => a + b) / s.length;
    const sign = Math.sign(p.components[0][10]);
    p.coordinates.forEach((c, i) => {
      expect(c[0] * sign).toBeCloseTo(t[i] - tMean, 9);
      expect(Math.abs(c[1])).toBeCloseTo(Math.abs(s[i] - sMean), 9);
    });
    expect(p.explainedVarianceRatio[0] + p.explainedVarianceRatio[1]).toBeCloseTo(1, 12);
  });

  it("a trajectory in a plane projects onto it exactly, centred on the final point", () => {
    const traj = trajectoryDirections(points.map((w, i) => ({ epoch: i + 1, w })));
    const last = traj.coordinates.at(-1)!;
    expect(last.x).toBeCloseTo(0, 12);
    traj.coordinates.forEach((c, i) => {
      const dx = (t[i] - t[6]) ** 2 + (s[i] - s[6]) ** 2;
      expect(c.x ** 2 + c.y ** 2).toBeCloseTo(dx, 9);
    });
  });

  it("t-SNE keeps two far-apart groups of checkpoints apart", () => {
    const group = (shift: number) =>
      Array.from({ length: 6 }, (_, i) => Float64Array.from(m, (x, q) => x + shift + 0.01 * Math.sin(i * q)));
    const pts = [...group(0), ...group(5)];
    const { coordinates } = tsne(pts, { perplexity: 3, iterations: 400, seed: 1 });
    const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1]);
    const within = Math.max(dist(coordinates[0], coordinates[5]), dist(coordinates[6], coordinates[11]));
    const between = Math.min(
      ...coordinates.slice(0, 6).flatMap((a) => coordinates.slice(6).map((b) => dist(a, b))),
    );
    expect(between).toBeGreaterThan(within);
  });
});
