/**
 * The book's "SimpleNetwork": flatten → [Linear → activation] × hidden → Linear to the classes.
 */
import type { numpy as np } from "../../engine/jax.js";
import { splitKey, type Key } from "../../engine/prng.js";
import { activate, addActivationNode, type ActivationParams } from "../activations.js";
import { linear, linearInit, type LinearParams } from "../layers.js";
import { layerInits } from "../init.js";
import type { ClassifierConfig, ModelDefaults } from "./classifier.js";
import type { Params } from "../../engine/tree.js";

export type MlpConfig = ClassifierConfig & {
  name: "mlp";
  hidden: number[];
};

export const MLP_DEFAULTS: ModelDefaults<MlpConfig> = {
  name: "mlp",
  hidden: [512, 64],
  activation: "relu",
  init: "torch_default",
};

export function mlpInit(key: Key, config: MlpConfig): Params {
  const sizes = [config.inputShape.reduce((a, b) => a * b, 1), ...config.hidden, config.classes];
  const keys = splitKey(key, sizes.length - 1);
  const params: Params = {};
  const inits = layerInits(config);
  for (let i = 0; i < sizes.length - 1; i++) {
    const init = i === sizes.length - 2 ? inits.last : inits.hidden;
    params[`fc${i}`] = linearInit(keys[i], sizes[i], sizes[i + 1], init);
    if (i < sizes.length - 2) addActivationNode(params, `act${i}`, config.activation);
  }
  return params;
}

export function mlpApply(params: Params, x: np.Array, config: MlpConfig): np.Array {
  let h = x.reshape([x.shape[0], -1]);
  const layers = config.hidden.length + 1;
  for (let i = 0; i < layers; i++) {
    h = linear(params[`fc${i}`] as LinearParams, h);
    if (i < layers - 1) {
      h = activate(config.activation, h, params[`act${i}`] as ActivationParams | undefined);
    }
  }
  return h;
}

/** Where the activations are (`act{i}` in the param tree) and how many features each sees. */
export function mlpActivationSites(config: MlpConfig): { name: string; size: number }[] {
  return config.hidden.map((size, i) => ({ name: `act${i}`, size }));
}
