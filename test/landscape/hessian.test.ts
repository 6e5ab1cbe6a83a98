/**
 * Hessian tools against PyTorch's explicit Hessian of a 2242-parameter MLP
 * (scripts/reference/landscape_hessian.py → test/fixtures/reference/landscape/hessian-mlp.json),
 * and against closed forms on explicit matrices.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { createModel, modelConfig } from "../../src/nn/models/index.js";
import { createObjective, type Objective } from "../../src/landscape/objective.js";
import {
  densityCurve,
  hutchinsonTrace,
  lanczosTopK,
  powerIteration,
  spectralDensity,
  type SymmetricOperator,
} from "../../src/landscape/hessian.js";
import { symmetricEigen, symmetricEigenvalues } from "../../src/landscape/symmetric-eigen.js";
import { dot, norm, type Layout, type Vector } from "../../src/landscape/vector.js";

type Fixture = {
  config: { inputShape: [number, number, number]; hidden: number[]; classes: number; activation: string };
  params: Record<string, { shape: number[]; data: number[] }>;
  x: { shape: number[]; data: number[] };
  y: number[];
  loss: number;
  dim: number;
  top_eigenvalues: number[];
  bottom_eigenvalues: number[];
  trace: number;
  frobenius: number;
  probe: { v: number[]; hv: number[] };
};
const ref: Fixture = JSON.parse(
  readFileSync(new URL("../fixtures/reference/landscape/hessian-mlp.json", import.meta.url), "utf8"),
);

let objective: Objective;
let w0: Vector;
let op: SymmetricOperator & { dispose(): void };

beforeAll(async () => {
  await startEngine();
  const config = modelConfig(
    "mlp",
    { inputShape: ref.config.inputShape, classes: 10 },
    { hidden: ref.config.hidden },
  );
  const model = createModel(config);
  let offset = 0;
  const layout: Layout = { entries: [], size: 0 };
  for (const [name, t] of Object.entries(ref.params)) {
    layout.entries.push({ name, shape: t.shape, offset, size: t.data.length });
    offset += t.data.length;
  }
  layout.size = offset;
  w0 = new Float64Array(offset);
  for (const e of layout.entries) w0.set(ref.params[e.name].data, e.offset);
  const data = {
    n: ref.y.length,
    shape: ref.config.inputShape,
    images: Float32Array.from(ref.x.data),
    labels: Int32Array.from(ref.y),
  };
  objective = createObjective(model, layout, data, 32); // two batches: the data-loader path
  op = objective.hessianAt(w0);
});
afterAll(() => {
  op?.dispose();
  objective?.dispose();
});

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("Hessian-vector products", () => {
  it("the loss at the fixture's weights is PyTorch's", async () => {
    expect(rel((await objective.evaluate(w0)).loss, ref.loss)).toBeLessThan(1e-5);
  });

  it("H·v matches PyTorch's explicit Hessian times v", async () => {
    const hv = await op.apply(Float64Array.from(ref.probe.v));
    const diff = Float64Array.from(hv, (x, i) => x - ref.probe.hv[i]);
    expect(norm(diff) / norm(Float64Array.from(ref.probe.hv))).toBeLessThan(1e-4);
  });
});

describe("top eigenvalues", () => {
  it("power iteration with deflation finds PyTorch's top-4 eigenvalues to 1e-3", async () => {
    const r = await powerIteration(op, { k: 4, maxIter: 800, tol: 1e-5, seed: 1 });
    r.eigenvalues.forEach((l, i) => expect(rel(l, ref.top_eigenvalues[i]), `λ${i + 1}`).toBeLessThan(1e-3));
    // eigenvectors are orthonormal and satisfy H v ≈ λ v
    expect(Math.abs(dot(r.eigenvectors[0], r.eigenvectors[1]))).toBeLessThan(1e-6);
    const hv = await op.apply(r.eigenvectors[0]);
    const resid = Float64Array.from(hv, (x, j) => x - r.eigenvalues[0] * r.eigenvectors[0][j]);
    expect(norm(resid) / r.eigenvalues[0]).toBeLessThan(1e-2);
  });

  it("Lanczos finds PyTorch's top-4 eigenvalues to 1e-3 in far fewer products", async () => {
    const r = await lanczosTopK(op, { k: 4, maxIter: 200, tol: 1e-6, seed: 2 });
    r.eigenvalues.forEach((l, i) => expect(rel(l, ref.top_eigenvalues[i]), `λ${i + 1}`).toBeLessThan(1e-3));
    expect(r.converged.every(Boolean)).toBe(true);
    const hv = await op.apply(r.eigenvectors[3]);
    const resid = Float64Array.from(hv, (x, j) => x - r.eigenvalues[3] * r.eigenvectors[3][j]);
    expect(norm(resid) / r.eigenvalues[3]).toBeLessThan(1e-2);
  });
});

describe("trace and density", () => {
  it("Hutchinson's trace with 200 samples is within 5% of PyTorch's", async () => {
    const r = await hutchinsonTrace(op, { maxIter: 200, minIter: 200, seed: 3 });
    expect(r.samples).toHaveLength(200);
    expect(rel(r.trace, ref.trace)).toBeLessThan(0.05);
    expect(Math.abs(r.trace - ref.trace)).toBeLessThan(4 * r.stderr);
  });

  it("the spectral density's weights sum to 1, it integrates to 1, and its support spans the spectrum", async () => {
    const d = await spectralDensity(op, { iterations: 60, runs: 2, seed: 4 });
    for (const w of d.weights) expect(Math.abs(w.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
    const { integral } = densityCurve(d);
    expect(Math.abs(integral - 1)).toBeLessThan(1e-3);
    const top = Math.max(...d.nodes.flat());
    const bottom = Math.min(...d.nodes.flat());
    expect(rel(top, ref.top_eigenvalues[0])).toBeLessThan(1e-3);
    expect(rel(bottom, ref.bottom_eigenvalues[0])).toBeLessThan(1e-2);
  });
});

describe("explicit Hessian from basis-vector products", () => {
  it(
    "is symmetric and matches PyTorch's trace and Frobenius norm",
    async () => {
      const n = ref.dim;
      const h = new Float64Array(n * n);
      const e = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        e.fill(0);
        e[j] = 1;
        h.set(await op.apply(e), j * n);
      }
      let asym = 0;
      let fro = 0;
      let trace = 0;
      for (let i = 0; i < n; i++) {
        trace += h[i * n + i];
        for (let j = 0; j < n; j++) {
          asym = Math.max(asym, Math.abs(h[i * n + j] - h[j * n + i]));
          fro += h[i * n + j] ** 2;
        }
      }
      expect(asym).toBeLessThan(1e-5);
      expect(rel(trace, ref.trace)).toBeLessThan(1e-4);
      expect(rel(Math.sqrt(fro), ref.frobenius)).toBeLessThan(1e-4);
      if (process.env.TILLER_LONG) {
        // A dense O(n³) eigensolver on the explicit matrix: ~1 minute, so only in the long suite.
        const values = symmetricEigenvalues(h, n);
        values.slice(0, 4).forEach((l, i) => expect(rel(l, ref.top_eigenvalues[i])).toBeLessThan(1e-4));
      }
    },
    process.env.TILLER_LONG ? 900_000 : 120_000,
  );
});

describe("on explicit matrices (closed forms)", () => {
  const diagonal = (d: number[]): SymmetricOperator => ({
    dim: d.length,
    apply: async (v) => Float64Array.from(v, (x, i) => x * d[i]),
  });
  const spectrum = Array.from({ length: 50 }, (_, i) => (i % 2 ? -1 : 1) * (1 + i * 0.37));

  it("power iteration and Lanczos find the largest-magnitude / largest eigenvalues", async () => {
    const sorted = [...spectrum].sort((a, b) => Math.abs(b) - Math.abs(a));
    const p = await powerIteration(diagonal(spectrum), { k: 2, maxIter: 2000, tol: 1e-12 });
    p.eigenvalues.forEach((l, i) => expect(rel(l, sorted[i])).toBeLessThan(1e-6));
    const l = await lanczosTopK(diagonal(spectrum), { k: 3, maxIter: 50, tol: 1e-10 });
    const top = [...spectrum].sort((a, b) => b - a).slice(0, 3);
    l.eigenvalues.forEach((x, i) => expect(rel(x, top[i])).toBeLessThan(1e-9));
  });

  it("the dense eigenvalue solver (Householder + QL) agrees with Jacobi rotations", () => {
    const n = 40;
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rand();
    const ql = symmetricEigenvalues(a, n);
    const jacobi = symmetricEigen(a, n).values;
    ql.forEach((l, i) => expect(Math.abs(l - jacobi[i])).toBeLessThan(1e-10));
  });

  it("Hutchinson is exact on a diagonal matrix and SLQ recovers its spectrum with weights 1/n", async () => {
    const t = await hutchinsonTrace(diagonal(spectrum), { maxIter: 3 });
    expect(
      rel(
        t.trace,
        spectrum.reduce((a, b) => a + b, 0),
      ),
    ).toBeLessThan(1e-12);
    const d = await spectralDensity(diagonal(spectrum), { iterations: 50 });
    const nodes = [...d.nodes[0]].sort((a, b) => a - b);
    const exact = [...spectrum].sort((a, b) => a - b);
    nodes.forEach((x, i) => expect(Math.abs(x - exact[i])).toBeLessThan(1e-8));
    d.weights[0].forEach((w) => expect(Math.abs(w - 1 / 50)).toBeLessThan(1e-8));
  });
});
