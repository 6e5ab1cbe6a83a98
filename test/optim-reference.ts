/**
 * Replays the optimiser reference trajectories (scripts/reference/optim_reference.py) with Tiller's
 * optimisers: the same MLP, batch, start and Sophia probes, step by step through `makeTrainStep`.
 */
import { readFileSync } from "node:fs";
import { numpy as np } from "../src/engine/jax.js";
import { fromNamedLeaves, namedLeaves, type Params } from "../src/engine/tree.js";
import { createModel, modelConfig } from "../src/nn/models/index.js";
import { createOptimizer, optimizerConfig, type OptimizerConfig } from "../src/optim/index.js";
import { makeTrainStep } from "../src/train/loop.js";

export type Tensor = { shape: number[]; data: number[] };
export type Dtype = "float32" | "float64";
type Trajectory = { loss: number[]; params: Record<string, Record<string, Tensor>> };
export type MlpCase = {
  config: Record<string, unknown>;
  float32: Trajectory;
  float64: Trajectory;
  float32_vs_float64: number;
};
export type MlpFixture = {
  steps: number;
  init: Record<string, Tensor>;
  x: Tensor;
  y: Tensor;
  probes: { hutchinson: Record<string, Tensor>[]; labels: Tensor[] };
  cases: Record<string, MlpCase>;
};
export type PathCase = {
  config: Record<string, unknown>;
  float32: { points: number[][]; values: number[] };
  float64: { points: number[][]; values: number[] };
  float32_vs_float64: number;
};
export type PathFixture = {
  start: [number, number];
  steps: number;
  probes: Tensor[];
  cases: Record<string, PathCase>;
};

export function loadOptimFixture<T>(file: string): T {
  return JSON.parse(
    readFileSync(new URL(`./fixtures/reference/optim/${file}`, import.meta.url), "utf8"),
  ) as T;
}

/** The fixture's config ({name, ...hyper-parameters}) as an OptimizerConfig. */
export function fixtureConfig(config: Record<string, unknown>): OptimizerConfig {
  const { name, ...rest } = config;
  return { ...optimizerConfig(String(name)), ...(rest as Partial<OptimizerConfig>) };
}

/** max |a − b| / max |b|. */
export function relError(actual: ArrayLike<number>, expected: number[]): number {
  let diff = 0;
  let scale = 0;
  expected.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(actual[i] - v));
    scale = Math.max(scale, Math.abs(v));
  });
  return scale === 0 ? diff : diff / scale;
}

const tensor = (t: Tensor, dtype: np.DType) => np.array(t.data, { dtype }).reshape(t.shape);

/**
 * Runs one case for the fixture's number of steps. Returns the largest relative error of the loss
 * (against max(|loss|, 1)) and of each params snapshot (max over tensors).
 */
export async function replayMlp(fixture: MlpFixture, c: MlpCase, dtypeName: Dtype) {
  const dtype = dtypeName === "float32" ? np.float32 : np.float64;
  const model = createModel(
    modelConfig("mlp", { inputShape: [1, 1, 10], classes: 4 }, { hidden: [16], activation: "tanh" }),
  );
  const optimizer = createOptimizer(fixtureConfig(c.config));
  let params: Params = fromNamedLeaves(Object.entries(fixture.init).map(([k, t]) => [k, tensor(t, dtype)]));
  let state = optimizer.init(params);
  const x = tensor(fixture.x, dtype);
  const y = np.array(fixture.y.data, { dtype: np.int32 });
  const step = makeTrainStep(model, optimizer);
  const expected = c[dtypeName];
  let lossError = 0;
  const snapshots: Record<string, number> = {};
  try {
    for (let t = 0; t < fixture.steps; t++) {
      let probe: Params | np.Array | undefined;
      const curvature = optimizer.curvature;
      if (curvature && t % curvature.every === 0) {
        const i = t / curvature.every;
        probe =
          curvature.estimator === "hutchinson"
            ? fromNamedLeaves(
                Object.entries(fixture.probes.hutchinson[i]).map(([k, u]) => [k, tensor(u, dtype)]),
              )
            : np.array(fixture.probes.labels[i].data, { dtype: np.int32 });
      }
      const [p, s, loss, correct, gradNorm] = step(params, state, x.ref, y.ref, { step: t, probe });
      params = p;
      state = s;
      correct.dispose();
      gradNorm.dispose();
      const l = (await loss.data())[0];
      lossError = Math.max(
        lossError,
        Math.abs(l - expected.loss[t]) / Math.max(Math.abs(expected.loss[t]), 1),
      );
      const snap = expected.params[String(t + 1)];
      if (snap) {
        let worst = 0;
        for (const [name, a] of namedLeaves(params))
          worst = Math.max(worst, relError(await a.ref.data(), snap[name].data));
        snapshots[String(t + 1)] = worst;
      }
    }
  } finally {
    step.dispose();
    x.dispose();
    y.dispose();
  }
  return { lossError, snapshots };
}
