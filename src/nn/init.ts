/**
 * How layers get their initial values. `TORCH_DEFAULT_INIT` is PyTorch's default (and Tiller's
 * default, which the PyTorch twin relies on); `layerInits` turns a model config's `init` name
 * (src/init/registry.ts) into the rules for its hidden layers and its last projection.
 */
import { random, numpy as np } from "../engine/jax.js";
import type { Key } from "../engine/prng.js";
import { computeFans, type Nonlinearity } from "../init/fans.js";
import { initializers } from "../init/initializers.js";
import {
  canonicalInitName,
  initBias,
  initializerByName,
  validateBiasInit,
  validateInitOptions,
  type BiasInit,
  type InitName,
  type InitOptions,
} from "../init/registry.js";
import { UsageError } from "../errors.js";
import { LEAKY_RELU_SLOPE, PRELU_INIT } from "./activations.js";

/**
 * PyTorch's default for Linear and Conv2d: weight and bias ~ U(−1/√fan_in, 1/√fan_in)
 * (kaiming_uniform with a = √5 reduces to this bound). Matching it keeps the PyTorch twin honest.
 */
export function torchDefaultUniform(key: Key, shape: number[], fanIn: number): np.Array {
  const bound = 1 / Math.sqrt(fanIn);
  return random.uniform(key, shape, { minval: -bound, maxval: bound });
}

/** A layer's rules: the weight from its key and shape, the bias from its key, shape and fan_in. */
export type LayerInit = {
  weight(key: Key, shape: number[]): np.Array;
  bias(key: Key, shape: number[], fanIn: number): np.Array;
};

export const TORCH_DEFAULT_INIT: LayerInit = {
  weight: (key, shape) => torchDefaultUniform(key, shape, computeFans(shape).fanIn),
  bias: torchDefaultUniform,
};

/** The init part of every model config (all optional: stored configs from before it still load). */
export type InitConfig = {
  /** Weight initialiser by name (`tiller init list`); default "torch_default". */
  init?: InitName;
  /** Bias rule; default torch_default with init torch_default, zeros with any other init. */
  biasInit?: BiasInit;
  /** Zero the last projection (the classifier head): weight and bias start at 0. */
  zeroInitLast?: boolean;
  /** Options of the named initialiser (kaiming's mode, a gain, a scale, l_momentum's alpha). */
  initOptions?: InitOptions;
};

/**
 * The nonlinearity whose gain a layer feeding `activation` needs: PReLU starts as leaky_relu with
 * its initial slope; GELU, SiLU, softplus and other ReLU-like units take ReLU's gain.
 */
export function nonlinearityFor(activation: string): { nonlinearity: Nonlinearity; slope?: number } {
  switch (activation) {
    case "tanh":
      return { nonlinearity: "tanh" };
    case "sigmoid":
      return { nonlinearity: "sigmoid" };
    case "leaky_relu":
      return { nonlinearity: "leaky_relu", slope: LEAKY_RELU_SLOPE };
    case "prelu":
      return { nonlinearity: "leaky_relu", slope: PRELU_INIT };
    default:
      return { nonlinearity: "relu" };
  }
}

/** Validates the init part of a model config and replaces an alias by its canonical name. */
export function checkInitConfig<T extends InitConfig>(config: T): T {
  const out = { ...config };
  if (config.init !== undefined) out.init = canonicalInitName(config.init);
  if (config.biasInit !== undefined) validateBiasInit(config.biasInit);
  if (config.zeroInitLast !== undefined && typeof config.zeroInitLast !== "boolean")
    throw new UsageError(`zeroInitLast must be true or false, got ${String(config.zeroInitLast)}`);
  if (config.initOptions !== undefined) validateInitOptions(config.initOptions);
  return out;
}

const ZERO_INIT: LayerInit = { weight: initializers.zeros(), bias: initializers.zeros() };

/** The rules for a model's hidden layers and for its last projection. */
export function layerInits(config: InitConfig & { activation: string }): {
  hidden: LayerInit;
  last: LayerInit;
} {
  const name = config.init ?? "torch_default";
  let hidden = TORCH_DEFAULT_INIT;
  if (name !== "torch_default" || config.biasInit !== undefined) {
    if (config.biasInit !== undefined) validateBiasInit(config.biasInit);
    const weight = initializerByName(name, { ...nonlinearityFor(config.activation), ...config.initOptions });
    const rule = config.biasInit ?? (name === "torch_default" ? "torch_default" : "zeros");
    hidden = { weight, bias: (key, shape, fanIn) => initBias(rule, key, shape, fanIn) };
  }
  return { hidden, last: config.zeroInitLast ? ZERO_INIT : hidden };
}
