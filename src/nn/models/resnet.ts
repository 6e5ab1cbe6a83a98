/**
 * A small residual network (He et al. 2016) for 28×28 images: a 3×3 stem, then one stage per
 * `channels` entry of `blocks` basic blocks (3×3 conv → activation → 3×3 conv, plus the shortcut,
 * → activation); every stage after the first halves the resolution with a stride-2 first conv and a
 * 1×1 stride-2 projection on the shortcut. Global average pooling → classes.
 * There is no batch norm (our models are pure functions of their params). `norm: "none"` (the
 * default): the last conv of every residual branch starts at zero, so each block starts as the
 * identity (Goyal et al. 2017; Fixup, Zhang et al. 2019) and the network trains stably without
 * normalisation. `norm: "group"`: GroupNorm (stateless) after every conv, as a ResNet's BatchNorm,
 * with the γ of each branch's last norm at zero instead.
 */
import { numpy as np } from "../../engine/jax.js";
import { splitKey, type Key } from "../../engine/prng.js";
import { activate, addActivationNode, type ActivationParams } from "../activations.js";
import {
  conv2dInit,
  conv2dLayer,
  groupNorm,
  groupsFor,
  layerNormInit,
  linear,
  linearInit,
  type Conv2dParams,
  type LinearParams,
  type NormParams,
} from "../layers.js";
import type { Params } from "../../engine/tree.js";
import { layerInits } from "../init.js";
import type { ClassifierConfig, ModelDefaults } from "./classifier.js";

export type ResnetConfig = ClassifierConfig & {
  name: "resnet";
  /** Width of each stage. */
  channels: number[];
  /** Basic blocks per stage. */
  blocks: number;
  /** Normalisation after each conv: none (default; zero-initialised branches) or GroupNorm. */
  norm?: "none" | "group";
};

export const RESNET_DEFAULTS: ModelDefaults<ResnetConfig> = {
  name: "resnet",
  channels: [16, 32, 64],
  blocks: 1,
  norm: "none",
  activation: "relu",
  init: "torch_default",
};

type BlockPlan = { name: string; inCh: number; outCh: number; stride: number };

function plan(config: ResnetConfig): BlockPlan[] {
  const out: BlockPlan[] = [];
  let inCh = config.channels[0];
  config.channels.forEach((ch, s) => {
    for (let b = 0; b < config.blocks; b++) {
      out.push({ name: `block${out.length}`, inCh, outCh: ch, stride: s > 0 && b === 0 ? 2 : 1 });
      inCh = ch;
    }
  });
  return out;
}

export function resnetInit(key: Key, config: ResnetConfig): Params {
  const blocks = plan(config);
  const keys = splitKey(key, blocks.length + 2);
  const inits = layerInits(config);
  const grouped = config.norm === "group";
  const params: Params = {
    stem: conv2dInit(keys[0], config.inputShape[0], config.channels[0], 3, inits.hidden),
  };
  if (grouped) params.norm0 = layerNormInit(config.channels[0]);
  addActivationNode(params, "act0", config.activation);
  blocks.forEach((b, i) => {
    const [k1, k2, kp] = splitKey(keys[i + 1], 3);
    const conv2 = conv2dInit(k2, b.outCh, b.outCh, 3, inits.hidden);
    if (!grouped) {
      conv2.weight.dispose();
      conv2.weight = np.zeros([b.outCh, b.outCh, 3, 3]);
    }
    const block: Params = { conv1: conv2dInit(k1, b.inCh, b.outCh, 3, inits.hidden), conv2 };
    if (b.stride !== 1 || b.inCh !== b.outCh) block.proj = conv2dInit(kp, b.inCh, b.outCh, 1, inits.hidden);
    else kp.dispose();
    if (grouped) {
      block.norm1 = layerNormInit(b.outCh);
      const norm2 = layerNormInit(b.outCh);
      norm2.weight.dispose();
      norm2.weight = np.zeros([b.outCh]);
      block.norm2 = norm2;
      if (block.proj) block.normProj = layerNormInit(b.outCh);
    }
    addActivationNode(block, "act1", config.activation);
    addActivationNode(block, "act2", config.activation);
    params[b.name] = block;
  });
  params.fc = linearInit(
    keys[blocks.length + 1],
    config.channels[config.channels.length - 1],
    config.classes,
    inits.last,
  );
  return params;
}

/** GroupNorm of `h` when the block has the norm node `name` (norm: "group"), else `h`. */
function maybeNorm(p: Params, name: string, h: np.Array): np.Array {
  const norm = p[name] as NormParams | undefined;
  return norm ? groupNorm(norm, h, groupsFor(h.shape[1])) : h;
}

export function resnetApply(params: Params, x: np.Array, config: ResnetConfig): np.Array {
  const fn = config.activation;
  let h = x.reshape([x.shape[0], ...config.inputShape]);
  h = maybeNorm(params, "norm0", conv2dLayer(params.stem as Conv2dParams, h, { padding: "SAME" }));
  h = activate(fn, h, params.act0 as ActivationParams | undefined);
  for (const b of plan(config)) {
    const p = params[b.name] as Params;
    const shortcut = p.proj
      ? maybeNorm(
          p,
          "normProj",
          conv2dLayer(p.proj as Conv2dParams, h.ref, { stride: b.stride, padding: "VALID" }),
        )
      : h.ref;
    let r = conv2dLayer(p.conv1 as Conv2dParams, h, { stride: b.stride, padding: "SAME" });
    r = activate(fn, maybeNorm(p, "norm1", r), p.act1 as ActivationParams | undefined);
    r = maybeNorm(p, "norm2", conv2dLayer(p.conv2 as Conv2dParams, r, { padding: "SAME" }));
    h = activate(fn, r.add(shortcut), p.act2 as ActivationParams | undefined);
  }
  return linear(params.fc as LinearParams, h.mean([2, 3]));
}

/** Where the activations are in the param tree and how many channels each sees. */
export function resnetActivationSites(config: ResnetConfig): { name: string; size: number }[] {
  return [
    { name: "act0", size: config.channels[0] },
    ...plan(config).flatMap((b) => [
      { name: `${b.name}.act1`, size: b.outCh },
      { name: `${b.name}.act2`, size: b.outCh },
    ]),
  ];
}
