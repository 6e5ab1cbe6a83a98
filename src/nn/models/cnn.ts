/**
 * A small convolutional classifier: [conv 3×3 (same) → activation → max-pool 2] per channel entry,
 * then flatten → dense → activation → classes. Defaults (32, 64 channels; dense 256) give
 * ~0.82 M parameters on 28×28 inputs, like the book's CIFAR CNN.
 */
import type { numpy as np } from "../../engine/jax.js";
import { splitKey, type Key } from "../../engine/prng.js";
import { activate, addActivationNode, type ActivationParams } from "../activations.js";
import {
  conv2dInit,
  conv2dLayer,
  linear,
  linearInit,
  maxPool2d,
  type Conv2dParams,
  type LinearParams,
} from "../layers.js";
import type { Params } from "../../engine/tree.js";
import { layerInits } from "../init.js";
import type { ClassifierConfig, ModelDefaults } from "./classifier.js";

export type CnnConfig = ClassifierConfig & {
  name: "cnn";
  channels: number[];
  dense: number;
};

export const CNN_DEFAULTS: ModelDefaults<CnnConfig> = {
  name: "cnn",
  channels: [32, 64],
  dense: 256,
  activation: "relu",
  init: "torch_default",
};

function flatFeatures(config: CnnConfig): number {
  let [, h, w] = config.inputShape;
  for (let i = 0; i < config.channels.length; i++) {
    h = Math.floor(h / 2);
    w = Math.floor(w / 2);
  }
  if (h < 1 || w < 1)
    throw new Error(
      `cnn: ${config.channels.length} pooling stages are too many for a ${config.inputShape.slice(1).join("×")} input`,
    );
  return config.channels[config.channels.length - 1] * h * w;
}

export function cnnInit(key: Key, config: CnnConfig): Params {
  const keys = splitKey(key, config.channels.length + 2);
  const params: Params = {};
  const inits = layerInits(config);
  let inCh = config.inputShape[0];
  config.channels.forEach((ch, i) => {
    params[`conv${i}`] = conv2dInit(keys[i], inCh, ch, 3, inits.hidden);
    inCh = ch;
  });
  params.fc0 = linearInit(keys[config.channels.length], flatFeatures(config), config.dense, inits.hidden);
  params.fc1 = linearInit(keys[config.channels.length + 1], config.dense, config.classes, inits.last);
  for (let i = 0; i <= config.channels.length; i++) addActivationNode(params, `act${i}`, config.activation);
  return params;
}

export function cnnApply(params: Params, x: np.Array, config: CnnConfig): np.Array {
  const act = (i: number) => params[`act${i}`] as ActivationParams | undefined;
  let h = x.reshape([x.shape[0], ...config.inputShape]);
  config.channels.forEach((_, i) => {
    h = conv2dLayer(params[`conv${i}`] as Conv2dParams, h, { padding: "SAME" });
    h = maxPool2d(activate(config.activation, h, act(i)), 2);
  });
  h = h.reshape([h.shape[0], -1]);
  h = activate(config.activation, linear(params.fc0 as LinearParams, h), act(config.channels.length));
  return linear(params.fc1 as LinearParams, h);
}

/** Where the activations are (`act{i}` in the param tree) and how many channels each sees. */
export function cnnActivationSites(config: CnnConfig): { name: string; size: number }[] {
  return [...config.channels, config.dense].map((size, i) => ({ name: `act${i}`, size }));
}
