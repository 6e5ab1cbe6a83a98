/**
 * A small Vision Transformer for 28×28 images: non-overlapping p×p patches → linear embedding +
 * learned positions → pre-norm encoder blocks (multi-head attention, GELU MLP) → mean-pooled tokens →
 * LayerNorm → classes. Mean pooling instead of a class token keeps it one concept shorter.
 */
import { numpy as np, random } from "../../engine/jax.js";
import { splitKey, type Key } from "../../engine/prng.js";
import { activate, addActivationNode, type ActivationParams } from "../activations.js";
import {
  attentionInit,
  layerNorm,
  layerNormInit,
  linear,
  linearInit,
  multiHeadAttention,
  type AttentionParams,
  type LinearParams,
  type NormParams,
} from "../layers.js";
import type { Params } from "../../engine/tree.js";
import { layerInits } from "../init.js";
import type { ClassifierConfig, ModelDefaults } from "./classifier.js";

export type VitConfig = ClassifierConfig & {
  name: "vit";
  patch: number;
  dim: number;
  depth: number;
  heads: number;
  mlpDim: number;
};

export const VIT_DEFAULTS: ModelDefaults<VitConfig> = {
  name: "vit",
  patch: 7,
  dim: 64,
  depth: 2,
  heads: 4,
  mlpDim: 128,
  activation: "gelu",
  init: "torch_default",
};

function geometry(config: VitConfig) {
  const [c, h, w] = config.inputShape;
  const p = config.patch;
  if (h % p || w % p) throw new Error(`vit: patch ${p} does not tile a ${h}×${w} image`);
  if (config.dim % config.heads)
    throw new Error(`vit: dim ${config.dim} is not divisible by ${config.heads} heads`);
  return { c, gh: h / p, gw: w / p, p, tokens: (h / p) * (w / p), patchDim: c * p * p };
}

export function vitInit(key: Key, config: VitConfig): Params {
  const g = geometry(config);
  const keys = splitKey(key, 3 + config.depth);
  const inits = layerInits(config);
  const params: Params = {
    embed: linearInit(keys[0], g.patchDim, config.dim, inits.hidden),
    pos: random.normal(keys[1], [g.tokens, config.dim]).mul(0.02),
    norm: layerNormInit(config.dim),
    head: linearInit(keys[2], config.dim, config.classes, inits.last),
  };
  for (let i = 0; i < config.depth; i++) {
    const [ka, k1, k2] = splitKey(keys[3 + i], 3);
    const block: Params = {
      norm1: layerNormInit(config.dim),
      attn: attentionInit(ka, config.dim, inits.hidden),
      norm2: layerNormInit(config.dim),
      fc1: linearInit(k1, config.dim, config.mlpDim, inits.hidden),
      fc2: linearInit(k2, config.mlpDim, config.dim, inits.hidden),
    };
    addActivationNode(block, "act", config.activation);
    params[`block${i}`] = block;
  }
  return params;
}

/** [B, C, H, W] → [B, tokens, C·p·p], patches in row-major order. */
function patchify(x: np.Array, config: VitConfig): np.Array {
  const { c, gh, gw, p, tokens, patchDim } = geometry(config);
  const b = x.shape[0];
  return x.reshape([b, c, gh, p, gw, p]).transpose([0, 2, 4, 1, 3, 5]).reshape([b, tokens, patchDim]);
}

export function vitApply(params: Params, x: np.Array, config: VitConfig): np.Array {
  const b = x.shape[0];
  let h = linear(params.embed as LinearParams, patchify(x.reshape([b, ...config.inputShape]), config));
  h = h.add(params.pos as np.Array);
  for (let i = 0; i < config.depth; i++) {
    const blk = params[`block${i}`] as Params;
    const a = multiHeadAttention(
      blk.attn as AttentionParams,
      layerNorm(blk.norm1 as NormParams, h.ref),
      config.heads,
    );
    h = h.add(a);
    const m = linear(
      blk.fc2 as LinearParams,
      activate(
        config.activation,
        linear(blk.fc1 as LinearParams, layerNorm(blk.norm2 as NormParams, h.ref)),
        blk.act as ActivationParams | undefined,
      ),
    );
    h = h.add(m);
  }
  const pooled = layerNorm(params.norm as NormParams, h.mean(1));
  return linear(params.head as LinearParams, pooled);
}

/** Where the activations are (`block{i}.act` in the param tree) and how many features each sees. */
export function vitActivationSites(config: VitConfig): { name: string; size: number }[] {
  return Array.from({ length: config.depth }, (_, i) => ({ name: `block${i}.act`, size: config.mlpDim }));
}
