import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import {
  effectiveRank,
  matrixDiagnostics,
  modelDiagnostics,
  singularValues,
} from "../../src/init/diagnostics.js";
import { initializers } from "../../src/init/initializers.js";

type NumpyCase = {
  shape: [number, number];
  data: number[];
  singularValues: number[];
  conditionNumber: number;
  effectiveRank: number;
  mean: number;
  std: number;
};
const numpyCases: Record<string, NumpyCase> = JSON.parse(
  readFileSync(new URL("../fixtures/reference/init/diagnostics.json", import.meta.url), "utf8"),
);

beforeAll(async () => {
  await startEngine();
});

describe("weight diagnostics", () => {
  it("singular values, condition number, effective rank, mean and std match numpy's SVD", () => {
    for (const [name, c] of Object.entries(numpyCases)) {
      const d = matrixDiagnostics(c.data, c.shape[0], c.shape[1]);
      const smax = c.singularValues[0];
      expect(d.singularValues).toHaveLength(c.singularValues.length);
      c.singularValues.forEach((s, i) =>
        expect(Math.abs(d.singularValues[i] - s) / smax, `${name} σ${i}`).toBeLessThan(1e-10),
      );
      expect(d.spectralNorm / smax - 1, name).toBeCloseTo(0, 12);
      // σ_min from the Gram's eigenvalue: relative error ~ ε·κ², 1e-8 at κ = 1e4
      expect(Math.abs(d.conditionNumber / c.conditionNumber - 1), name).toBeLessThan(1e-6);
      expect(d.effectiveRank / c.effectiveRank - 1, name).toBeCloseTo(0, 10);
      expect(d.effectiveRankRatio, name).toBeCloseTo(c.effectiveRank / Math.min(...c.shape), 10);
      expect(d.mean - c.mean, name).toBeCloseTo(0, 12);
      expect(d.std / c.std - 1, name).toBeCloseTo(0, 12);
    }
  });

  it("closed forms: diagonal spectrum, rank one (κ = ∞, effective rank 1), equal σ (ratio 1)", () => {
    // diag(4, 3, 1) padded to 3×5
    const a = [4, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, -1, 0, 0];
    expect(Array.from(singularValues(a, 3, 5))).toEqual([4, 3, 1].map((s) => expect.closeTo(s, 14)));
    const d = matrixDiagnostics(a, 3, 5);
    expect(d.conditionNumber).toBeCloseTo(4, 12);
    const p = [4 / 8, 3 / 8, 1 / 8];
    expect(d.effectiveRank).toBeCloseTo(Math.exp(-p.reduce((h, q) => h + q * Math.log(q), 0)), 12);

    const u = [1, 2, 3, 4];
    const v = [1, -1, 0.5];
    const rank1 = u.flatMap((x) => v.map((y) => x * y));
    const r = matrixDiagnostics(rank1, 4, 3);
    expect(r.conditionNumber).toBe(Infinity);
    expect(r.effectiveRank).toBeCloseTo(1, 6);
    expect(r.spectralNorm).toBeCloseTo(Math.hypot(...u) * Math.hypot(...v), 12);

    expect(effectiveRank([2, 2, 2, 2])).toBeCloseTo(4, 12);
    expect(effectiveRank([0, 0])).toBe(0);
  });

  it("a matrix holding NaN (a diverged run) gives NaN diagnostics, not an exception", () => {
    const d = matrixDiagnostics([1, NaN, 0, 1], 2, 2);
    expect(d.spectralNorm).toBeNaN();
    expect(d.conditionNumber).toBeNaN();
    expect(d.effectiveRankRatio).toBeNaN();
  });

  it("an orthogonal init has κ = 1, effective rank ratio 1 and spectral norm = gain", async () => {
    const w = initializers.orthogonal({ gain: 2 })(keyFromSeed(3), [200, 120]);
    const d = matrixDiagnostics(await w.data(), 200, 120);
    expect(d.conditionNumber).toBeCloseTo(1, 4);
    expect(d.effectiveRankRatio).toBeCloseTo(1, 6);
    expect(d.spectralNorm).toBeCloseTo(2, 4);
  });

  it("model diagnostics cover the weight matrices only (conv kernels as [out, in·kh·kw]) and average them", async () => {
    const params = {
      conv0: { weight: initializers.kaimingNormal()(keyFromSeed(1), [8, 2, 3, 3]), bias: np.zeros([8]) },
      fc0: { weight: initializers.orthogonal()(keyFromSeed(2), [10, 72]), bias: np.zeros([10]) },
      act0: { slope: np.full([], 0.25) },
      pos: np.ones([4, 4]),
    };
    const d = await modelDiagnostics(params);
    expect(d.layers.map((l) => [l.name, l.rows, l.cols])).toEqual([
      ["conv0.weight", 8, 18],
      ["fc0.weight", 10, 72],
    ]);
    expect(d.layers[1].conditionNumber).toBeCloseTo(1, 4);
    expect(d.average.spectralNorm).toBeCloseTo((d.layers[0].spectralNorm + d.layers[1].spectralNorm) / 2, 12);
    expect(d.average.conditionNumber).toBeCloseTo(
      (d.layers[0].conditionNumber + d.layers[1].conditionNumber) / 2,
      12,
    );
    // an all-zero matrix (zero-initialised head) is listed but left out of the averages
    const withZero = await modelDiagnostics({ ...params, head: { weight: np.zeros([3, 10]) } });
    expect(withZero.layers.at(-1)?.conditionNumber).toBe(Infinity);
    expect(withZero.average).toEqual(d.average);
    // borrowed, not consumed
    expect((await params.fc0.weight.data()).length).toBe(720);
  });
});
