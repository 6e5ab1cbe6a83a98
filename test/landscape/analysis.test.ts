/** Gaussian fit, wavelets and topology of surfaces, against closed forms and synthetic truths. */
import { describe, expect, it } from "vitest";
import {
  describeFit,
  fitGaussian,
  gaussian,
  gridPoints,
  PARAM_NAMES,
} from "../../src/landscape/gaussian-fit.js";
import {
  matrixOf,
  roughness,
  WAVELETS,
  wavedec2,
  waverec2,
  type WaveletName,
} from "../../src/landscape/wavelets.js";
import { bottleneckDistance, persistence, summarize } from "../../src/landscape/topology.js";
import { linspace } from "../../src/landscape/surface.js";
import { createRng, spreadSeed } from "../../src/engine/rng.js";

const grid = (n: number, lo: number, hi: number, f: (x: number, y: number) => number) => {
  const x = linspace(lo, hi, n);
  const y = linspace(lo, hi, n);
  return { x, y, loss: y.map((b) => x.map((a) => f(a, b))) };
};

describe("Gaussian fit (Levenberg–Marquardt)", () => {
  const truth = { A: 2.5, x0: 0.12, y0: -0.15, sigmaX: 0.35, sigmaY: 0.5, offset: 3 };

  it("recovers the parameters of a noisy synthetic Gaussian surface within 2%", () => {
    const rng = createRng(spreadSeed(42));
    const g = grid(40, -1, 1, (x, y) => gaussian(truth, x, y) + 0.02 * rng.normal());
    const fit = fitGaussian(gridPoints(g), { offset: "fit" });
    for (const k of PARAM_NAMES)
      expect(Math.abs(fit.params[k] - truth[k]) / Math.abs(truth[k]), k).toBeLessThan(0.02);
    expect(fit.converged).toBe(true);
    expect(fit.rmse).toBeGreaterThan(0.015);
    expect(fit.rmse).toBeLessThan(0.025);
    for (const k of PARAM_NAMES) expect(fit.stderr[k]).toBeGreaterThan(0);
    expect(describeFit(fit)).toMatch(/^Function parameters = \[2\.\d+ 0\.1\d+ -0\.1\d+ 0\.3\d+ 0\.\d+\]/);
  });

  it("with the book's fixed offset max(z) it fits the other five", () => {
    const wide = { ...truth, sigmaX: 0.2, sigmaY: 0.25 };
    const g = grid(41, -1.5, 1.5, (x, y) => gaussian(wide, x, y));
    const fit = fitGaussian(gridPoints(g), { offset: "max" });
    expect(fit.fixedOffset).toBe(true);
    expect(fit.params.offset).toBe(Math.max(...g.loss.flat()));
    expect(Number.isNaN(fit.stderr.offset)).toBe(true);
    for (const k of ["A", "x0", "y0", "sigmaX", "sigmaY"] as const)
      expect(Math.abs(fit.params[k] - wide[k])).toBeLessThan(1e-6 * Math.max(1, Math.abs(wide[k])));
  });
});

describe("wavelets", () => {
  it("Daubechies filters are orthonormal with the right number of vanishing moments", () => {
    for (const [name, moments] of [
      ["haar", 1],
      ["db2", 2],
      ["db4", 4],
    ] as [WaveletName, number][]) {
      const h = WAVELETS[name];
      const L = h.length;
      expect(h.reduce((a, b) => a + b, 0)).toBeCloseTo(Math.SQRT2, 12);
      for (let shift = 0; 2 * shift < L; shift++) {
        let s = 0;
        for (let k = 0; k + 2 * shift < L; k++) s += h[k] * h[k + 2 * shift];
        expect(s).toBeCloseTo(shift === 0 ? 1 : 0, 12);
      }
      const g = h.map((_, n) => (n % 2 ? -1 : 1) * h[L - 1 - n]);
      for (let p = 0; p < moments; p++) expect(g.reduce((a, v, k) => a + v * k ** p, 0)).toBeCloseTo(0, 9);
    }
  });

  it("reconstructs its input to 1e-6 for every wavelet, level and grid shape (odd sizes too)", () => {
    const rng = createRng(spreadSeed(3));
    for (const [rows, cols] of [
      [40, 40],
      [37, 41],
      [8, 12],
    ])
      for (const w of ["haar", "db2", "db4"] as WaveletName[])
        for (const levels of [1, 2, 3]) {
          const z = Array.from({ length: rows }, (_, i) =>
            Array.from({ length: cols }, (_, j) => Math.sin(i / 3) * Math.cos(j / 5) + 0.1 * rng.normal()),
          );
          const back = waverec2(wavedec2(z, w, levels));
          const flat = z.flat();
          expect(back.rows).toBe(rows);
          expect(back.cols).toBe(cols);
          back.data.forEach((v, i) => expect(Math.abs(v - flat[i])).toBeLessThan(1e-6));
        }
  });

  it("is orthogonal (keeps the energy) and Haar's approximation is the 2×2 block sum / 2", () => {
    const rng = createRng(spreadSeed(5));
    const z = Array.from({ length: 16 }, () => Array.from({ length: 16 }, () => rng.normal()));
    const dec = wavedec2(z, "db4", 1);
    const energy = (d: Float64Array) => d.reduce((a, v) => a + v * v, 0);
    const parts =
      energy(dec.approximation.data) +
      dec.details.reduce((a, d) => a + energy(d.H.data) + energy(d.V.data) + energy(d.D.data), 0);
    expect(parts).toBeCloseTo(energy(matrixOf(z).data), 9);
    const haar = wavedec2(z, "haar", 1);
    expect(haar.approximation.data[0]).toBeCloseTo((z[0][0] + z[0][1] + z[1][0] + z[1][1]) / 2, 12);
    expect(haar.details[0].D.data[0]).toBeCloseTo((z[0][0] - z[0][1] - z[1][0] + z[1][1]) / 2, 12);
  });

  it("puts a smooth surface's energy in the approximation and adds white noise's σ² to every detail level", () => {
    const smooth = grid(40, -1, 1, (x, y) => x * x + y * y).loss;
    const rng = createRng(spreadSeed(9));
    const noisy = smooth.map((r) => r.map((v) => v + 0.05 * rng.normal()));
    const rs = roughness(wavedec2(smooth, "db2", 3));
    const rn = roughness(wavedec2(noisy, "db2", 3));
    expect(rs.map((r) => r.level)).toEqual([1, 2, 3]);
    expect(rs.reduce((a, r) => a + r.energyFraction, 0)).toBeLessThan(0.02); // the periodic wrap at the border
    // An orthogonal transform maps white noise to white noise of the same variance (levels 1–2: level 3
    // has too few coefficients for the cross terms to average out).
    for (let l = 0; l < 2; l++)
      expect(Math.abs(rn[l].rms ** 2 - rs[l].rms ** 2 - 0.05 ** 2)).toBeLessThan(0.35 * 0.05 ** 2);
  });
});

describe("topology", () => {
  const himmelblau = (x: number, y: number) => (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2;

  it("finds exactly Himmelblau's four minima, and its one enclosed peak as a 1-dimensional feature", () => {
    const g = grid(101, -5, 5, himmelblau);
    const p = persistence(g.loss);
    const s = summarize(p, 1);
    expect(s.significantMinima).toHaveLength(4);
    const known = [
      [3, 2],
      [-2.805118, 3.131312],
      [-3.77931, -3.283186],
      [3.584428, -1.848126],
    ];
    for (const [kx, ky] of known) {
      const hit = s.significantMinima.some((m) => Math.hypot(g.x[m.at[1]] - kx, g.y[m.at[0]] - ky) < 0.15);
      expect(hit, `minimum near (${kx}, ${ky})`).toBe(true);
    }
    const rings = p.pairs.filter((q) => q.dimension === 1 && q.death - q.birth > 1);
    expect(rings).toHaveLength(1);
    // The local maximum (−0.2708, −0.9230), f = 181.617, ringed by the saddle at f ≈ 178.34.
    expect(g.x[rings[0].at[1]]).toBeCloseTo(-0.27, 0);
    expect(rings[0].death).toBeCloseTo(181.6, 0);
    expect(rings[0].birth).toBeGreaterThan(177);
    expect(rings[0].birth).toBeLessThan(179);
  });

  it("a crater (r² − 1)² has one basin and one ring that lives from the rim to the peak", () => {
    const g = grid(81, -2, 2, (x, y) => (x * x + y * y - 1) ** 2 + 0.01 * x);
    const p = persistence(g.loss);
    const s = summarize(p, 0.05);
    expect(s.significantMinima).toHaveLength(1);
    expect(s.longestLived[1]!.death).toBeCloseTo(1, 1);
    expect(s.longestLived[1]!.death - s.longestLived[1]!.birth).toBeGreaterThan(0.9);
    expect(p.pairs.filter((q) => q.dimension === 1 && q.death - q.birth > 0.05)).toHaveLength(1);
  });

  it("bottleneck distance: 0 to itself, half the persistence to the empty diagram, the shift otherwise", () => {
    const a = [
      { birth: 0, death: 2 },
      { birth: 1, death: 5 },
      { birth: 0, death: Infinity },
    ];
    expect(bottleneckDistance(a, a)).toBe(0);
    expect(bottleneckDistance([{ birth: 0, death: 2 }], [])).toBe(1);
    const shifted = a.map((p) => ({ birth: p.birth + 0.3, death: p.death + 0.2 }));
    expect(bottleneckDistance(a, shifted)).toBeCloseTo(0.3, 12);
    // (1, 5) is better matched to (1, 4.5) than (0, 2) to it; the spare (0, 2) goes to the diagonal.
    expect(
      bottleneckDistance(
        [
          { birth: 0, death: 2 },
          { birth: 1, death: 5 },
        ],
        [{ birth: 1, death: 4.5 }],
      ),
    ).toBe(1);
    expect(bottleneckDistance([{ birth: 0, death: Infinity }], [])).toBe(Infinity);
  });
});
