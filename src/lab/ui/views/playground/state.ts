/**
 * The playground's state — function, its parameters, start point, steps, optimisers and their
 * hyper-parameters — and its round trip through the URL, so a view can be shared or reloaded.
 */
import { FUNCTION_PARAMS, FUNCTIONS, testFunction } from "../../../../landscape/functions.js";
import { DEFAULT_LR, OPTIMIZERS, type OptimizerName } from "../../../../optim/index.js";

/** Learning rates that make a good first picture on these functions (the nets' defaults barely move). */
export const PLAYGROUND_LR: Partial<Record<OptimizerName, number>> = {
  sgd: 1e-3,
  momentum: 1e-3,
  nesterov: 1e-3,
  adagrad: 0.5,
  rmsprop: 0.01,
  adam: 0.05,
  adamw: 0.05,
  amsgrad: 0.05,
  lion: 0.01,
  sophiah: 0.05,
  sophiag: 0.05,
  adafactor: 0.05,
  lamb: 0.05,
  lars: 0.1,
};

/** Slider ranges for hyper-parameters; `log` sliders move in powers of ten. */
export const RANGES: Record<string, { min: number; max: number; log?: boolean; step?: number }> = {
  lr: { min: 1e-5, max: 10, log: true },
  momentum: { min: 0, max: 0.999, step: 0.001 },
  dampening: { min: 0, max: 0.999, step: 0.001 },
  b1: { min: 0, max: 0.999, step: 0.001 },
  b2: { min: 0.5, max: 0.9999, step: 0.0001 },
  alpha: { min: 0.5, max: 0.9999, step: 0.0001 },
  eps: { min: 1e-12, max: 1, log: true },
  eps1: { min: 1e-40, max: 1e-10, log: true },
  eps2: { min: 1e-6, max: 1, log: true },
  weightDecay: { min: 0, max: 0.5, step: 0.001 },
  rho: { min: 1e-3, max: 1, log: true },
  every: { min: 1, max: 50, step: 1 },
  lrDecay: { min: 0, max: 0.1, step: 0.001 },
  initialAccumulator: { min: 0, max: 1, step: 0.01 },
  clipThreshold: { min: 0.1, max: 10, step: 0.1 },
  decayRate: { min: -1, max: -0.1, step: 0.01 },
  trustCoefficient: { min: 1e-4, max: 1, log: true },
  trustMin: { min: 0, max: 1, step: 0.01 },
  trustMax: { min: 1, max: 100, step: 1 },
  clipNorm: { min: 0.01, max: 100, log: true },
  clipValue: { min: 0.01, max: 100, log: true },
};
export const FALLBACK_RANGE = { min: 1e-6, max: 10, log: true };

export type Choice = { name: OptimizerName; params: Record<string, number | boolean> };
export type State = {
  fn: string;
  fnParams: Record<string, number>;
  start: [number, number];
  steps: number;
  optimizers: Choice[];
};

const DEFAULT_CHOICES: OptimizerName[] = ["sgd", "momentum", "adam", "lion"];

export function stateFromQuery(q: URLSearchParams): State {
  const fn = (FUNCTIONS as readonly string[]).includes(q.get("fn") ?? "") ? q.get("fn")! : "rosenbrock";
  const fnParams: Record<string, number> = {};
  for (const key of Object.keys(FUNCTION_PARAMS[fn as keyof typeof FUNCTION_PARAMS])) {
    const v = Number(q.get(`f.${key}`));
    if (q.has(`f.${key}`) && Number.isFinite(v)) fnParams[key] = v;
  }
  const start = (q.get("start") ?? "").split(",").map(Number);
  const steps = Number(q.get("steps"));
  const optimizers: Choice[] = [];
  for (const spec of (q.get("opt") ?? DEFAULT_CHOICES.join(";")).split(";").filter(Boolean)) {
    const [name, ...pairs] = spec.split(",");
    if (!(OPTIMIZERS as readonly string[]).includes(name) || optimizers.some((o) => o.name === name))
      continue;
    const params: Record<string, number | boolean> = {
      lr: PLAYGROUND_LR[name as OptimizerName] ?? DEFAULT_LR[name as OptimizerName],
    };
    for (const pair of pairs) {
      const [k, v] = pair.split("=");
      if (v === "true" || v === "false") params[k] = v === "true";
      else if (Number.isFinite(Number(v))) params[k] = Number(v);
    }
    optimizers.push({ name: name as OptimizerName, params });
  }
  const fnDefault = testFunction(fn, fnParams);
  return {
    fn,
    fnParams,
    start: start.length === 2 && start.every(Number.isFinite) ? [start[0], start[1]] : fnDefault.start,
    steps: Number.isInteger(steps) && steps >= 1 && steps <= 5000 ? steps : 200,
    optimizers,
  };
}

export function stateToQuery(s: State): string {
  const q = new URLSearchParams();
  q.set("fn", s.fn);
  for (const [k, v] of Object.entries(s.fnParams)) q.set(`f.${k}`, String(v));
  q.set("start", s.start.map((v) => +v.toPrecision(6)).join(","));
  q.set("steps", String(s.steps));
  q.set(
    "opt",
    s.optimizers
      .map((o) => [o.name, ...Object.entries(o.params).map(([k, v]) => `${k}=${v}`)].join(","))
      .join(";"),
  );
  return q.toString();
}
