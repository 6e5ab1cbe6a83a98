/**
 * Optimisers by name: the registry behind `--optimizer`, `--param key=value` and config files.
 * A config is plain JSON (it is stored in a run's config.json); `createOptimizer` turns it into a
 * gradient transformation.
 */
import { UsageError } from "../errors.js";
import { adafactor } from "./adafactor.js";
import { adagrad } from "./adagrad.js";
import { adam, adamw } from "./adam.js";
import { clipByGlobalNorm, clipByValue } from "./clip.js";
import { lamb } from "./lamb.js";
import { lars } from "./lars.js";
import { lion } from "./lion.js";
import { rmsprop } from "./rmsprop.js";
import { makeSchedule, type ScheduleConfig } from "./schedules.js";
import { sgd } from "./sgd.js";
import { sophiaG, sophiaH } from "./sophia.js";
import { chain, type GradientTransformation, type LearningRate } from "./transform.js";

export * from "./transform.js";
export { clipByGlobalNorm, clipByValue } from "./clip.js";
export { sgd, traceMomentum } from "./sgd.js";
export { adagrad, scaleByAdagrad } from "./adagrad.js";
export { rmsprop, scaleByRmsprop } from "./rmsprop.js";
export { adam, adamw, scaleByAdam } from "./adam.js";
export { lion, scaleByLion } from "./lion.js";
export { sophiaH, sophiaG, scaleBySophia } from "./sophia.js";
export { adafactor } from "./adafactor.js";
export { lamb, scaleByLambTrustRatio } from "./lamb.js";
export { lars, scaleByLars, excludeVectors } from "./lars.js";
export { hutchinson, gaussNewtonBartlett, rademacherLike, sampleLabels } from "./curvature.js";
export * from "./schedules.js";

/** Optimisers whose update is elementwise: the same on one flat buffer as leaf by leaf (optim/flat.ts). */
export const ELEMENTWISE_OPTIMIZERS = [
  "sgd",
  "momentum",
  "nesterov",
  "adagrad",
  "rmsprop",
  "adam",
  "adamw",
  "amsgrad",
  "lion",
] as const;
/** Optimisers whose update reads a leaf's shape or a per-layer statistic (curvature, factored moments, trust ratios). */
const PER_LEAF_OPTIMIZERS = ["sophiah", "sophiag", "adafactor", "lamb", "lars"] as const;
export const OPTIMIZERS = [...ELEMENTWISE_OPTIMIZERS, ...PER_LEAF_OPTIMIZERS] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** Every hyper-parameter any optimiser takes; each optimiser accepts the keys in OPTIMIZER_PARAMS. */
export type OptimizerConfig = {
  name: OptimizerName;
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  maximize?: boolean;
  weightDecay?: number;
  b1?: number;
  b2?: number;
  eps?: number;
  amsgrad?: boolean;
  alpha?: number;
  centered?: boolean;
  lrDecay?: number;
  initialAccumulator?: number;
  rho?: number;
  every?: number;
  eps1?: number;
  eps2?: number;
  clipThreshold?: number;
  decayRate?: number;
  relativeStep?: boolean;
  scaleParameter?: boolean;
  warmupInit?: boolean;
  trustMin?: number;
  trustMax?: number;
  trustCoefficient?: number;
  /** Clip the gradient's global norm (or each entry) before the optimiser sees it. */
  clipNorm?: number;
  clipValue?: number;
  /** Learning-rate schedule; `lr` is its peak / initial value. */
  schedule?: ScheduleConfig;
};

type Kind = "number" | "boolean";
const SGD_KEYS = {
  momentum: "number",
  dampening: "number",
  nesterov: "boolean",
  weightDecay: "number",
  maximize: "boolean",
} as const;
const ADAM_KEYS = {
  b1: "number",
  b2: "number",
  eps: "number",
  weightDecay: "number",
  amsgrad: "boolean",
  maximize: "boolean",
} as const;
const SOPHIA_KEYS = {
  b1: "number",
  b2: "number",
  rho: "number",
  weightDecay: "number",
  every: "number",
  eps: "number",
} as const;

/** The hyper-parameters each optimiser accepts (besides lr, clipNorm, clipValue, schedule). */
export const OPTIMIZER_PARAMS: Record<OptimizerName, Record<string, Kind>> = {
  sgd: SGD_KEYS,
  momentum: SGD_KEYS,
  nesterov: SGD_KEYS,
  adagrad: {
    lrDecay: "number",
    weightDecay: "number",
    initialAccumulator: "number",
    eps: "number",
    maximize: "boolean",
  },
  rmsprop: {
    alpha: "number",
    eps: "number",
    weightDecay: "number",
    momentum: "number",
    centered: "boolean",
    maximize: "boolean",
  },
  adam: ADAM_KEYS,
  adamw: ADAM_KEYS,
  amsgrad: ADAM_KEYS,
  lion: { b1: "number", b2: "number", weightDecay: "number" },
  sophiah: SOPHIA_KEYS,
  sophiag: SOPHIA_KEYS,
  adafactor: {
    eps1: "number",
    eps2: "number",
    clipThreshold: "number",
    decayRate: "number",
    b1: "number",
    weightDecay: "number",
    relativeStep: "boolean",
    scaleParameter: "boolean",
    warmupInit: "boolean",
  },
  lamb: {
    b1: "number",
    b2: "number",
    eps: "number",
    weightDecay: "number",
    trustMin: "number",
    trustMax: "number",
  },
  lars: { momentum: "number", weightDecay: "number", trustCoefficient: "number" },
};

const COMMON_KEYS: Record<string, Kind> = { lr: "number", clipNorm: "number", clipValue: "number" };

/** Default learning rates: PyTorch's defaults where PyTorch has the optimiser, the papers' otherwise. */
export const DEFAULT_LR: Record<OptimizerName, number> = {
  sgd: 0.01,
  momentum: 0.01,
  nesterov: 0.01,
  adagrad: 0.01,
  rmsprop: 0.01,
  adam: 1e-3,
  adamw: 1e-3,
  amsgrad: 1e-3,
  lion: 1e-4,
  sophiah: 1e-4,
  sophiag: 1e-4,
  adafactor: 1e-3,
  lamb: 1e-3,
  lars: 1,
};

/** Short descriptions for help texts and figure legends. */
export const OPTIMIZER_DESCRIPTIONS: Record<OptimizerName, string> = {
  sgd: "SGD (PyTorch semantics: momentum, dampening, nesterov, weightDecay, maximize)",
  momentum: "SGD with momentum 0.9",
  nesterov: "SGD with Nesterov momentum 0.9",
  adagrad: "AdaGrad",
  rmsprop: "RMSProp (alpha, centered, momentum)",
  adam: "Adam (amsgrad option)",
  adamw: "AdamW (decoupled weight decay 0.01)",
  amsgrad: "Adam with AMSGrad",
  lion: "Lion (β1 0.9, β2 0.99)",
  sophiah: "Sophia with Hutchinson Hessian estimates",
  sophiag: "Sophia with Gauss–Newton–Bartlett Hessian estimates",
  adafactor: "AdaFactor (factored second moment)",
  lamb: "LAMB (layer-wise trust ratio)",
  lars: "LARS (layer-wise local learning rate)",
};

export function isOptimizerName(name: string): name is OptimizerName {
  return (OPTIMIZERS as readonly string[]).includes(name);
}

const ALIASES: Record<string, string> = {
  beta1: "b1",
  beta2: "b2",
  wd: "weightDecay",
  k: "every",
  lr_decay: "lrDecay",
};

/** "weight_decay" → "weightDecay", "beta1" → "b1". */
export function canonicalKey(key: string): string {
  const k = ALIASES[key] ?? key;
  return ALIASES[k] ?? k.replace(/[_-]([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The keys `name` accepts, for error messages and help. */
export function acceptedKeys(name: OptimizerName): string[] {
  return [...Object.keys(COMMON_KEYS), ...Object.keys(OPTIMIZER_PARAMS[name])];
}

/**
 * Builds a config from a name and `key=value` strings (or typed values, from a JSON file), with
 * the default learning rate; unknown keys and ill-typed values are usage errors.
 */
export function optimizerConfig(
  name: string,
  params: Record<string, string | number | boolean | ScheduleConfig> = {},
): OptimizerConfig {
  if (!isOptimizerName(name))
    throw new UsageError(`unknown optimizer "${name}" (choose one of: ${OPTIMIZERS.join(", ")})`);
  const config: OptimizerConfig = { name, lr: DEFAULT_LR[name] };
  const kinds = { ...COMMON_KEYS, ...OPTIMIZER_PARAMS[name] };
  for (const [rawKey, raw] of Object.entries(params)) {
    const key = canonicalKey(rawKey);
    if (key === "schedule" && typeof raw === "object") {
      config.schedule = raw;
      continue;
    }
    const kind = kinds[key];
    if (!kind)
      throw new UsageError(
        `${name} has no parameter "${rawKey}" (it takes: ${acceptedKeys(name).join(", ")})`,
      );
    (config as Record<string, unknown>)[key] = coerce(name, rawKey, raw, kind);
  }
  return config;
}

function coerce(name: string, key: string, raw: unknown, kind: Kind): number | boolean {
  if (kind === "boolean") {
    if (typeof raw === "boolean") return raw;
    if (raw === "true" || raw === "1" || raw === "") return true;
    if (raw === "false" || raw === "0") return false;
    throw new UsageError(`${name} ${key} must be true or false, got "${raw}"`);
  }
  const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${name} ${key} must be a number, got "${String(raw)}"`);
  return n;
}

/** Splits repeated `--param key=value` strings into a record (last one wins). */
export function parseParamPairs(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--param expects key=value, got "${pair}"`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return out;
}

/** Checks that a config (e.g. read from JSON) uses only keys its optimiser takes. */
function checkKeys(config: OptimizerConfig) {
  const allowed = new Set([...acceptedKeys(config.name), "name", "schedule"]);
  const unknown = Object.keys(config).filter(
    (k) => !allowed.has(k) && (config as Record<string, unknown>)[k] !== undefined,
  );
  if (unknown.length)
    throw new UsageError(
      `${config.name} has no parameter(s) ${unknown.map((k) => `"${k}"`).join(", ")} (it takes: ${acceptedKeys(config.name).join(", ")})`,
    );
}

/** What an optimiser is built from: its config without name, clipping and schedule, lr possibly scheduled. */
type CoreOptions = Omit<OptimizerConfig, "name" | "lr" | "clipNorm" | "clipValue" | "schedule"> & {
  lr: LearningRate;
};

/** Each name's transformation; the shorthands (momentum, nesterov, amsgrad) set their defaults first. */
const BUILDERS: Record<OptimizerName, (o: CoreOptions) => GradientTransformation> = {
  sgd,
  momentum: (o) => sgd({ momentum: 0.9, ...o }),
  nesterov: (o) => sgd({ momentum: 0.9, nesterov: true, ...o }),
  adagrad,
  rmsprop,
  adam,
  adamw,
  amsgrad: (o) => adam({ amsgrad: true, ...o }),
  lion,
  sophiah: sophiaH,
  sophiag: sophiaG,
  adafactor,
  lamb,
  lars,
};

export function createOptimizer(config: OptimizerConfig): GradientTransformation {
  if (!isOptimizerName(config.name))
    throw new UsageError(
      `unknown optimizer "${(config as { name: string }).name}" (choose one of: ${OPTIMIZERS.join(", ")})`,
    );
  checkKeys(config);
  const { name, clipNorm, clipValue, schedule, ...rest } = config;
  const lr: LearningRate = schedule ? makeSchedule(config.lr, schedule) : config.lr;
  const core = BUILDERS[name]({ ...rest, lr });
  const clips = [
    ...(clipValue !== undefined ? [clipByValue(clipValue)] : []),
    ...(clipNorm !== undefined ? [clipByGlobalNorm(clipNorm)] : []),
  ];
  return clips.length ? chain(...clips, core) : core;
}
