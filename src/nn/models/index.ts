/**
 * The model registry: every model is `init(key, config) → params` and `apply(params, x) → logits`,
 * chosen by name; configs are plain JSON so a checkpoint carries the config that made it.
 */
import type { numpy as np } from "../../engine/jax.js";
import type { Key } from "../../engine/prng.js";
import type { Params } from "../../engine/tree.js";
import { isActivation, ACTIVATIONS } from "../activations.js";
import { checkInitConfig } from "../init.js";
import { UsageError } from "../../errors.js";
import { cnnActivationSites, cnnApply, cnnInit, CNN_DEFAULTS, type CnnConfig } from "./cnn.js";
import { mlpActivationSites, mlpApply, mlpInit, MLP_DEFAULTS, type MlpConfig } from "./mlp.js";
import { vitActivationSites, vitApply, vitInit, VIT_DEFAULTS, type VitConfig } from "./vit.js";
import {
  resnetActivationSites,
  resnetApply,
  resnetInit,
  RESNET_DEFAULTS,
  type ResnetConfig,
} from "./resnet.js";

export type ModelConfig = MlpConfig | CnnConfig | VitConfig | ResnetConfig;
export const MODELS = ["mlp", "cnn", "vit", "resnet"] as const;
export type ModelName = (typeof MODELS)[number];

export type Model = {
  config: ModelConfig;
  init(key: Key): Params;
  /** Takes ownership of `params` and `x` ([B, C, H, W] or [B, C·H·W]); returns logits [B, classes]. */
  apply(params: Params, x: np.Array): np.Array;
};

const DEFAULTS = { mlp: MLP_DEFAULTS, cnn: CNN_DEFAULTS, vit: VIT_DEFAULTS, resnet: RESNET_DEFAULTS };

export class ModelConfigError extends UsageError {
  override name = "ModelConfigError";
}

/** Fills defaults and validates; `overrides` come from the CLI or a stored config. */
export function modelConfig(
  name: string,
  data: { inputShape: [number, number, number]; classes: number },
  overrides: Record<string, unknown> = {},
): ModelConfig {
  if (!(MODELS as readonly string[]).includes(name))
    throw new ModelConfigError(`unknown model "${name}" (choose one of: ${MODELS.join(", ")})`);
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const config = checkInitConfig({
    ...DEFAULTS[name as ModelName],
    ...defined,
    ...data,
    name,
  } as ModelConfig);
  if (!isActivation(config.activation))
    throw new ModelConfigError(
      `unknown activation "${config.activation}" (choose one of: ${ACTIVATIONS.join(", ")})`,
    );
  const positive = (what: string, v: unknown) => {
    if (!Number.isInteger(v) || (v as number) < 1)
      throw new ModelConfigError(`${what} must be a positive integer, got ${v}`);
  };
  if (config.name === "mlp") config.hidden.forEach((h) => positive("hidden size", h));
  if (config.name === "cnn") {
    if (config.channels.length < 1) throw new ModelConfigError("cnn needs at least one conv block");
    config.channels.forEach((c) => positive("channels", c));
    positive("dense", config.dense);
  }
  if (config.name === "resnet") {
    if (config.channels.length < 1) throw new ModelConfigError("resnet needs at least one stage");
    config.channels.forEach((c) => positive("channels", c));
    positive("blocks", config.blocks);
    if (config.norm !== undefined && config.norm !== "none" && config.norm !== "group")
      throw new ModelConfigError(`resnet norm must be none or group, got ${String(config.norm)}`);
  }
  if (config.name === "vit")
    for (const k of ["patch", "dim", "depth", "heads", "mlpDim"] as const) positive(k, config[k]);
  return config;
}

export function createModel(config: ModelConfig): Model {
  switch (config.name) {
    case "mlp":
      return { config, init: (k) => mlpInit(k, config), apply: (p, x) => mlpApply(p, x, config) };
    case "cnn":
      return { config, init: (k) => cnnInit(k, config), apply: (p, x) => cnnApply(p, x, config) };
    case "vit":
      return { config, init: (k) => vitInit(k, config), apply: (p, x) => vitApply(p, x, config) };
    case "resnet":
      return { config, init: (k) => resnetInit(k, config), apply: (p, x) => resnetApply(p, x, config) };
  }
}

/** An activation layer: its node in the param tree (`act0`, `block1.act`) and its channel count. */
export type ActivationSite = { name: string; size: number };

/** Every activation of the model, in forward order (what Curvature Tuning replaces). */
export function activationSites(config: ModelConfig): ActivationSite[] {
  switch (config.name) {
    case "mlp":
      return mlpActivationSites(config);
    case "cnn":
      return cnnActivationSites(config);
    case "vit":
      return vitActivationSites(config);
    case "resnet":
      return resnetActivationSites(config);
  }
}

/** The param-tree node of the final linear layer (the classifier head a transfer replaces). */
export function headName(config: ModelConfig): string {
  switch (config.name) {
    case "mlp":
      return `fc${config.hidden.length}`;
    case "cnn":
      return "fc1";
    case "vit":
      return "head";
    case "resnet":
      return "fc";
  }
}
