/**
 * Learning-rate schedules: functions of the number of updates already applied (t = 0 at the first
 * update) to the learning rate, written with array ops so they run inside a jitted step.
 *   constant:       lr
 *   step:           lr·γ^⌊t / every⌋                       (PyTorch StepLR)
 *   exponential:    lr·γ^t                                 (PyTorch ExponentialLR)
 *   cosine:         lr·(α + (1−α)·½(1 + cos(π·min(t, T)/T)))  (optax cosine_decay_schedule)
 *   warmup-cosine:  lr·t/W for t < W, then cosine from lr to α·lr over the remaining T − W steps
 */
import { numpy as np } from "../engine/jax.js";
import { UsageError } from "../errors.js";
import { addc, checkHyper, mulc, powerOf, scalar, type Schedule } from "./transform.js";

export type ScheduleConfig =
  | { kind: "constant" }
  | { kind: "step"; every: number; gamma: number }
  | { kind: "exponential"; gamma: number }
  | { kind: "cosine"; steps: number; alpha?: number }
  | { kind: "warmup-cosine"; warmup: number; steps: number; alpha?: number };

export const SCHEDULES = ["constant", "step", "exponential", "cosine", "warmup-cosine"] as const;

export function constantSchedule(lr: number): Schedule {
  return (count, dtype = np.float32) => {
    count.dispose();
    return scalar(lr, dtype);
  };
}

export function stepSchedule(lr: number, every: number, gamma: number): Schedule {
  return (count, dtype = np.float32) => mulc(powerOf(gamma, np.floor(count.astype(dtype).div(every))), lr);
}

export function exponentialSchedule(lr: number, gamma: number): Schedule {
  return (count, dtype = np.float32) => mulc(powerOf(gamma, count.astype(dtype)), lr);
}

export function cosineSchedule(lr: number, steps: number, alpha = 0): Schedule {
  return (count, dtype = np.float32) => {
    const progress = np.minimum(count.astype(dtype), steps).div(steps);
    const cosine = mulc(addc(np.cos(mulc(progress, Math.PI)), 1), 0.5);
    return mulc(addc(mulc(cosine, 1 - alpha), alpha), lr);
  };
}

export function warmupCosineSchedule(lr: number, warmup: number, steps: number, alpha = 0): Schedule {
  const decay = cosineSchedule(lr, Math.max(1, steps - warmup), alpha);
  return (count, dtype = np.float32) => {
    const rising = mulc(count.ref.astype(dtype).div(Math.max(1, warmup)), lr);
    const falling = decay(np.maximum(count.ref.sub(warmup), 0), dtype);
    return np.where(count.less(warmup), rising, falling);
  };
}

export function makeSchedule(lr: number, config: ScheduleConfig): Schedule {
  switch (config.kind) {
    case "constant":
      return constantSchedule(lr);
    case "step":
      checkHyper("schedule every", config.every, { min: 1, integer: true });
      checkHyper("schedule gamma", config.gamma, { minExclusive: 0 });
      return stepSchedule(lr, config.every, config.gamma);
    case "exponential":
      checkHyper("schedule gamma", config.gamma, { minExclusive: 0 });
      return exponentialSchedule(lr, config.gamma);
    case "cosine":
      checkHyper("schedule steps", config.steps, { min: 1, integer: true });
      checkHyper("schedule alpha", config.alpha ?? 0, { min: 0, max: 1 });
      return cosineSchedule(lr, config.steps, config.alpha);
    case "warmup-cosine":
      checkHyper("schedule warmup", config.warmup, { min: 0, integer: true });
      checkHyper("schedule steps", config.steps, { min: 1, integer: true });
      checkHyper("schedule alpha", config.alpha ?? 0, { min: 0, max: 1 });
      if (config.warmup >= config.steps)
        throw new UsageError(
          `schedule warmup (${config.warmup}) must be shorter than steps (${config.steps})`,
        );
      return warmupCosineSchedule(lr, config.warmup, config.steps, config.alpha);
    default:
      throw new UsageError(
        `unknown schedule "${(config as { kind: string }).kind}" (choose one of: ${SCHEDULES.join(", ")})`,
      );
  }
}

/**
 * Parses "cosine:steps=1000,alpha=0.1" / "warmup-cosine:warmup=100,steps=1000" / "step:every=500,gamma=0.5".
 */
export function parseSchedule(spec: string): ScheduleConfig {
  const [kind, rest = ""] = spec.split(":", 2);
  const fields: Record<string, number> = {};
  for (const part of rest.split(",").filter((p) => p.trim())) {
    const [k, v] = part.split("=", 2).map((s) => s.trim());
    const n = Number(v);
    if (!k || v === undefined || v === "" || !Number.isFinite(n))
      throw new UsageError(`schedule "${spec}": expected key=number pairs like steps=1000, got "${part}"`);
    fields[k] = n;
  }
  const need = (...keys: string[]) => {
    for (const k of keys)
      if (fields[k] === undefined)
        throw new UsageError(`schedule "${spec}": ${kind} needs ${keys.join(", ")}`);
  };
  const known: Record<string, string[]> = {
    constant: [],
    step: ["every", "gamma"],
    exponential: ["gamma"],
    cosine: ["steps", "alpha"],
    "warmup-cosine": ["warmup", "steps", "alpha"],
  };
  if (!(kind in known))
    throw new UsageError(`unknown schedule "${kind}" (choose one of: ${SCHEDULES.join(", ")})`);
  const extra = Object.keys(fields).filter((k) => !known[kind].includes(k));
  if (extra.length)
    throw new UsageError(
      `schedule "${spec}": unknown key(s) ${extra.join(", ")} (${kind} takes ${known[kind].join(", ") || "none"})`,
    );
  switch (kind) {
    case "step":
      need("every", "gamma");
      return { kind, every: fields.every, gamma: fields.gamma };
    case "exponential":
      need("gamma");
      return { kind, gamma: fields.gamma };
    case "cosine":
      need("steps");
      return { kind, steps: fields.steps, alpha: fields.alpha };
    case "warmup-cosine":
      need("warmup", "steps");
      return { kind, warmup: fields.warmup, steps: fields.steps, alpha: fields.alpha };
    default:
      return { kind: "constant" };
  }
}
