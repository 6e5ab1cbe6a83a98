/**
 * The picture of Curvature Tuning, after the paper's Figure 1, on synthetic data: the CTU for
 * several β, and what replacing the ReLUs of a trained MLP by CTU(β) does to a 1-D regression fit
 * (sin 2x from 30 noisy points) and to a 2-D decision boundary (two interleaved spirals with 5 %
 * flipped labels): both get smoother as β decreases, with no retraining.
 */
import { jit, nn, numpy as np, valueAndGrad } from "../../engine/jax.js";
import { keyFromSeed } from "../../engine/prng.js";
import { treeDispose, treeRef, type Params } from "../../engine/tree.js";
import { mulberry32 } from "../../engine/rng.js";
import { ctu, logSoftmax } from "../../nn/activations.js";
import { createModel, modelConfig, type ModelConfig } from "../../nn/models/index.js";
import { applyUpdates, createOptimizer, type OptState } from "../../optim/index.js";
import { renderSvg, type VegaLiteSpec } from "../../report/index.js";
import { replaceActivations } from "./replace.js";

export const FIGURE_BETAS = [1, 0.9, 0.7, 0.5];

const label = (beta: number) => (beta === 1 ? "ReLU (β = 1)" : `β = ${beta}`);

/** CTU(x) on a grid for each β (c = 0.5). */
export async function ctuCurves(betas: number[], c = 0.5): Promise<{ x: number; y: number; beta: string }[]> {
  const xs = Array.from({ length: 241 }, (_, i) => -3 + (6 * i) / 240);
  const out: { x: number; y: number; beta: string }[] = [];
  for (const beta of betas) {
    const ys = await ctu(np.array(xs), beta, c).data();
    xs.forEach((x, i) => out.push({ x, y: ys[i], beta: label(beta) }));
  }
  return out;
}

function gaussian(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Full-batch Adam on a loss of the params; returns the trained params. */
async function fit(
  config: ModelConfig,
  loss: (logits: np.Array, y: np.Array) => np.Array,
  x: Float32Array,
  y: Float32Array | Int32Array,
  steps: number,
  seed: number,
): Promise<Params> {
  const model = createModel(config);
  let params = model.init(keyFromSeed(seed));
  const opt = createOptimizer({ name: "adam", lr: 3e-3 });
  let state = opt.init(params);
  const n = y.length;
  const xs = np.array(x).reshape([n, ...config.inputShape]);
  const ys = y instanceof Int32Array ? np.array(y, { dtype: np.int32 }) : np.array(y).reshape([n, 1]);
  const step = jit((p: Params, s: OptState, xb: np.Array, yb: np.Array) => {
    const [l, g] = valueAndGrad((q: Params) => loss(model.apply(q, xb), yb))(treeRef(p));
    const { updates, state: next } = opt.update(g, s, p);
    return [applyUpdates(p, updates), next, l] as [Params, OptState, np.Array];
  });
  for (let i = 0; i < steps; i++) {
    const [p, s, l] = step(params, state, xs.ref, ys.ref);
    params = p;
    state = s;
    if (i % 100 === 99) await l.data();
    else l.dispose();
  }
  step.dispose();
  xs.dispose();
  ys.dispose();
  treeDispose(state);
  return params;
}

/** Predictions of the trained ReLU model with every ReLU replaced by CTU(β). Borrows params. */
async function predict(config: ModelConfig, params: Params, beta: number, x: Float32Array, n: number) {
  const ct = replaceActivations(config, treeRef(params), { beta });
  const out = await createModel(ct.config)
    .apply(ct.params, np.array(x).reshape([n, ...config.inputShape]))
    .data();
  return Float32Array.from(out as Float32Array);
}

export async function regressionPanel(betas: number[], seed = 0, steps = 1500) {
  const rng = mulberry32(seed + 11);
  const n = 30;
  const xs = Float32Array.from({ length: n }, (_, i) => -Math.PI / 2 + (2 * Math.PI * i) / (n - 1));
  const ys = Float32Array.from(xs, (x) => 1.2 * Math.sin(2 * x) + 0.1 * gaussian(rng));
  const config = modelConfig("mlp", { inputShape: [1, 1, 1], classes: 1 }, { hidden: [64, 64, 64] });
  const mse = (pred: np.Array, y: np.Array) => np.square(pred.sub(y)).mean();
  const params = await fit(config, mse, xs, ys, steps, seed);
  const grid = Float32Array.from({ length: 200 }, (_, i) => -Math.PI / 2 + (2 * Math.PI * i) / 199);
  const curves: object[] = [];
  for (const beta of betas) {
    const pred = await predict(config, params, beta, grid, grid.length);
    grid.forEach((x, i) => curves.push({ x, y: pred[i], beta: label(beta), kind: "CT fit" }));
  }
  treeDispose(params);
  const points = betas.flatMap((beta) => Array.from(xs, (x, i) => ({ x, y: ys[i], beta: label(beta) })));
  return { curves, points };
}

export function spiral(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  const rng = mulberry32(seed + 23);
  const half = n / 2;
  const x = new Float32Array(2 * n);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i < half ? 0 : 1;
    const t = Math.PI / 2 + ((3 * Math.PI - Math.PI / 2) * (i % half)) / (half - 1);
    const phase = cls === 0 ? 0 : Math.PI;
    x[2 * i] = (t * Math.cos(t + phase) + 0.5 * gaussian(rng)) / 5;
    x[2 * i + 1] = (t * Math.sin(t + phase) + 0.5 * gaussian(rng)) / 5;
    y[i] = rng() < 0.05 ? 1 - cls : cls;
  }
  return { x, y };
}

/** The classification panel covers [−LIM, LIM]² (the spirals reach about ±1.9). */
const LIM = 2.2;

export async function classificationPanel(betas: number[], seed = 0, steps = 1500) {
  const n = 512;
  const data = spiral(n, seed);
  const config = modelConfig("mlp", { inputShape: [1, 1, 2], classes: 2 }, { hidden: [64, 64, 64] });
  const ce = (logits: np.Array, y: np.Array) =>
    logSoftmax(logits, -1).mul(nn.oneHot(y, 2)).sum(-1).mean().neg();
  const params = await fit(config, ce, data.x, data.y, steps, seed);
  const side = 60;
  const grid = new Float32Array(side * side * 2);
  for (let i = 0; i < side; i++)
    for (let j = 0; j < side; j++) {
      grid[2 * (i * side + j)] = -LIM + (2 * LIM * j) / (side - 1);
      grid[2 * (i * side + j) + 1] = -LIM + (2 * LIM * i) / (side - 1);
    }
  const cells: object[] = [];
  for (const beta of betas) {
    const logits = await predict(config, params, beta, grid, side * side);
    for (let k = 0; k < side * side; k++) {
      const p1 = 1 / (1 + Math.exp(logits[2 * k] - logits[2 * k + 1]));
      cells.push({ x: grid[2 * k], y: grid[2 * k + 1], p: p1, beta: label(beta) });
    }
  }
  treeDispose(params);
  const points = betas.flatMap((beta) =>
    Array.from(data.y, (cls, i) => ({
      x: data.x[2 * i],
      y: data.x[2 * i + 1],
      cls: `class ${cls + 1}`,
      beta: label(beta),
    })),
  );
  return { cells, points, step: (2 * LIM) / (side - 1) };
}

/** The whole figure as one Vega-Lite spec (three rows, β across the columns). */
export async function ctuFigureSpec(betas = FIGURE_BETAS, seed = 0, steps = 1500): Promise<VegaLiteSpec> {
  const order = betas.map(label);
  const curves = await ctuCurves(betas);
  const reg = await regressionPanel(betas, seed, steps);
  const cls = await classificationPanel(betas, seed, steps);
  const col = { field: "beta", type: "nominal", sort: order, title: null, header: { labelFontSize: 13 } };
  const size = { width: 170, height: 170 };
  const cellAxis = (field: string) => ({
    field,
    type: "quantitative",
    title: null,
    scale: { domain: [-LIM, LIM], nice: false },
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "Curvature Tuning: every ReLU of a trained network → CTU(β, c = 0.5), no retraining",
    vconcat: [
      {
        title: "The activation",
        width: 4 * 170 + 60,
        height: 170,
        data: { values: curves },
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x: { field: "x", type: "quantitative", title: "x" },
          y: { field: "y", type: "quantitative", title: "CTU(x)" },
          color: { field: "beta", type: "nominal", sort: order, title: null },
        },
      },
      {
        title: "1-D regression (MLP 3×64 trained with ReLU on 30 noisy points of 1.2·sin 2x)",
        data: { values: [...reg.points.map((p) => ({ ...p, kind: "data" })), ...reg.curves] },
        facet: { column: col },
        spec: {
          ...size,
          layer: [
            {
              transform: [{ filter: "datum.kind === 'CT fit'" }],
              mark: { type: "line", strokeWidth: 2.5, color: "#dc2626" },
              encoding: {
                x: { field: "x", type: "quantitative", title: null },
                y: { field: "y", type: "quantitative", title: null },
              },
            },
            {
              transform: [{ filter: "datum.kind === 'data'" }],
              mark: { type: "point", filled: true, size: 20, color: "#2563eb" },
              encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
            },
          ],
        },
      },
      {
        title: "2-D classification (MLP 3×64 trained with ReLU on two noisy spirals): decision boundary",
        data: {
          values: [
            ...cls.cells.map((c) => ({ ...c, kind: "cell" })),
            ...cls.points.map((p) => ({ ...p, kind: "point" })),
          ],
        },
        facet: { column: col },
        spec: {
          ...size,
          layer: [
            {
              transform: [
                { filter: "datum.kind === 'cell'" },
                { calculate: `datum.x - ${cls.step / 2}`, as: "x0" },
                { calculate: `datum.x + ${cls.step / 2}`, as: "x1" },
                { calculate: `datum.y - ${cls.step / 2}`, as: "y0" },
                { calculate: `datum.y + ${cls.step / 2}`, as: "y1" },
              ],
              mark: { type: "rect" },
              encoding: {
                x: cellAxis("x0"),
                x2: { field: "x1" },
                y: cellAxis("y0"),
                y2: { field: "y1" },
                color: {
                  field: "p",
                  type: "quantitative",
                  title: "P(class 2)",
                  scale: { domain: [0, 1], range: ["#e7ecd0", "#f6d5df"] },
                  legend: null,
                },
              },
            },
            {
              transform: [{ filter: "datum.kind === 'point'" }],
              mark: { type: "circle", size: 9, opacity: 0.8 },
              encoding: {
                x: { field: "x", type: "quantitative" },
                y: { field: "y", type: "quantitative" },
                fill: {
                  field: "cls",
                  type: "nominal",
                  title: null,
                  scale: { range: ["#6b8e23", "#c2185b"] },
                },
              },
            },
          ],
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  } as unknown as VegaLiteSpec;
}

export async function ctuFigureSvg(betas = FIGURE_BETAS, seed = 0, steps = 1500): Promise<string> {
  return renderSvg(await ctuFigureSpec(betas, seed, steps));
}
