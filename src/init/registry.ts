/**
 * Initialisers by name, as configs and the CLI choose them (`--init kaiming_normal`), plus the bias
 * rules. Names are snake_case like torch.nn.init's; a few common aliases map to them.
 */
import { UsageError } from "../errors.js";
import type { Key } from "../engine/prng.js";
import { numpy as np, random } from "../engine/jax.js";
import type { FanMode } from "./initializers.js";
import { initializers, type Initializer } from "./initializers.js";
import type { Nonlinearity } from "./fans.js";

export const INIT_NAMES = [
  "torch_default",
  "lecun",
  "xavier_normal",
  "xavier_uniform",
  "kaiming_normal",
  "kaiming_uniform",
  "orthogonal",
  "scaled_orthogonal",
  "l_momentum",
] as const;
export type InitName = (typeof INIT_NAMES)[number];

const ALIASES: Record<string, InitName> = {
  lecun_normal: "lecun",
  glorot_normal: "xavier_normal",
  glorot_uniform: "xavier_uniform",
  he_normal: "kaiming_normal",
  he_uniform: "kaiming_uniform",
};

/** The canonical name for `name` or an alias of it; a UsageError listing the choices otherwise. */
export function canonicalInitName(name: string): InitName {
  if ((INIT_NAMES as readonly string[]).includes(name)) return name as InitName;
  const alias = ALIASES[name];
  if (alias) return alias;
  throw new UsageError(`unknown initialiser "${name}" (choose one of: ${INIT_NAMES.join(", ")})`);
}

/** Tuning of the named initialisers; each applies only where it means something. */
export type InitOptions = {
  /** kaiming_*: fan_in (default) or fan_out. */
  mode?: FanMode;
  /** xavier_*, orthogonal: gain (default 1); kaiming_* takes its gain from the nonlinearity. */
  gain?: number;
  /** scaled_orthogonal: the scale (default √(2/fan_in)). */
  scale?: number;
  /** l_momentum: target mean of w² (default 0.81 = 0.9², the momentum squared). */
  alpha?: number;
};

/** Checks option values; a UsageError names the bad one. */
export function validateInitOptions(o: InitOptions): void {
  if (o.mode !== undefined && o.mode !== "fan_in" && o.mode !== "fan_out")
    throw new UsageError(`init mode must be fan_in or fan_out, got "${o.mode}"`);
  for (const k of ["gain", "scale", "alpha"] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && v > 0))
      throw new UsageError(`init ${k} must be a positive number, got ${v}`);
  }
}

/** The initialiser called `name`, for layers followed by `nonlinearity` (slope: leaky_relu's). */
export function initializerByName(
  name: string,
  ctx: { nonlinearity?: Nonlinearity; slope?: number } & InitOptions = {},
): Initializer {
  const kaiming = { mode: ctx.mode, nonlinearity: ctx.nonlinearity ?? "relu", a: ctx.slope };
  switch (canonicalInitName(name)) {
    case "torch_default":
      return initializers.torchDefault();
    case "lecun":
      return initializers.lecunNormal();
    case "xavier_normal":
      return initializers.xavierNormal({ gain: ctx.gain });
    case "xavier_uniform":
      return initializers.xavierUniform({ gain: ctx.gain });
    case "kaiming_normal":
      return initializers.kaimingNormal(kaiming);
    case "kaiming_uniform":
      return initializers.kaimingUniform(kaiming);
    case "orthogonal":
      return initializers.orthogonal({ gain: ctx.gain });
    case "scaled_orthogonal":
      return initializers.scaledOrthogonal({ scale: ctx.scale });
    case "l_momentum":
      return initializers.lMomentum({ alpha: ctx.alpha });
  }
}

/** L-Momentum's α = m², m the optimiser's momentum (SGD's momentum, else Adam's β₁), 0.9 if it has none. */
export function lMomentumAlpha(optimizer: { momentum?: number; b1?: number }): number {
  const m = optimizer.momentum || optimizer.b1 || 0.9;
  return m * m;
}

/** A bias rule: "zeros", "torch_default" (U(±1/√fan_in) of its layer) or a constant. */
export type BiasInit = "zeros" | "torch_default" | number;

export function validateBiasInit(b: unknown): asserts b is BiasInit {
  if (b === "zeros" || b === "torch_default") return;
  if (typeof b === "number" && Number.isFinite(b)) return;
  throw new UsageError(`bias init must be zeros, torch_default or a number, got "${String(b)}"`);
}

/** Draws a bias of `shape` for a layer with `fanIn` inputs. Consumes `key`. */
export function initBias(rule: BiasInit, key: Key, shape: number[], fanIn: number): np.Array {
  if (rule === "torch_default") {
    const bound = 1 / Math.sqrt(fanIn);
    return random.uniform(key, shape, { minval: -bound, maxval: bound });
  }
  key.dispose();
  return rule === "zeros" ? np.zeros(shape) : np.full(shape, rule);
}
