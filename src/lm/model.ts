/**
 * A Llama-style decoder LM as an init/apply pair over a param tree named exactly as Hugging Face
 * names Llama/Qwen2 checkpoints ("model.layers.0.mlp.gate_proj.weight"), so a checkpoint loads by
 * name and an SVF/LoRA target is a dotted path.
 *
 *   h = embed(tokens)
 *   per layer:  h += o(attn(rope(q(rms(h))), rope(k(rms(h))), v(rms(h))))      (causal, grouped KV)
 *               h += down(silu(gate(rms(h))) ⊙ up(rms(h)))                      (SwiGLU)
 *   logits = lm_head(rms(h))   (lm_head = embed_tokensᵀ when tied)
 *
 * Every apply function takes ownership of its params and inputs (pass `treeRef(params)` to keep them).
 */
import { nn, numpy as np, random } from "../engine/jax.js";
import { splitKey, type Key } from "../engine/prng.js";
import type { Params } from "../engine/tree.js";

export type LmConfig = {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Grouped-query attention: numHeads must be a multiple of it (= numHeads for plain MHA). */
  numKvHeads: number;
  /** Per-head size (default hiddenSize / numHeads). */
  headDim?: number;
  ropeTheta: number;
  rmsNormEps: number;
  tieEmbeddings: boolean;
  /** Biases on q/k/v projections (Qwen2 has them, Llama does not). */
  attentionBias: boolean;
  /** Longest sequence the model is used with (KV-cache size for generation). */
  maxPositions: number;
};

export function headDim(cfg: LmConfig): number {
  return cfg.headDim ?? cfg.hiddenSize / cfg.numHeads;
}

export function checkLmConfig(cfg: LmConfig): void {
  const ints: (keyof LmConfig)[] = [
    "vocabSize",
    "hiddenSize",
    "intermediateSize",
    "numLayers",
    "numHeads",
    "numKvHeads",
    "maxPositions",
  ];
  for (const k of ints)
    if (!Number.isSafeInteger(cfg[k]) || (cfg[k] as number) < 1)
      throw new Error(`LM config: ${k} must be a positive integer, got ${String(cfg[k])}`);
  if (cfg.numHeads % cfg.numKvHeads !== 0)
    throw new Error(`LM config: ${cfg.numHeads} heads are not a multiple of ${cfg.numKvHeads} KV heads`);
  if (cfg.headDim === undefined && cfg.hiddenSize % cfg.numHeads !== 0)
    throw new Error(`LM config: hidden size ${cfg.hiddenSize} is not divisible by ${cfg.numHeads} heads`);
  if (headDim(cfg) % 2 !== 0) throw new Error(`LM config: head size ${headDim(cfg)} must be even for rotary`);
}

/** Initialisation as HF's LlamaPreTrainedModel: N(0, 0.02²) for matrices, ones for norms. */
export function lmInit(key: Key, cfg: LmConfig): Params {
  checkLmConfig(cfg);
  const std = 0.02;
  const hd = headDim(cfg);
  const D = cfg.hiddenSize;
  const [kEmb, kHead, ...kLayers] = splitKey(key, cfg.numLayers + 2);
  const normal = (k: Key, shape: number[]) => random.normal(k, shape).mul(std);
  const proj = (k: Key, out: number, inp: number, bias: boolean): Params =>
    bias ? { weight: normal(k, [out, inp]), bias: np.zeros([out]) } : { weight: normal(k, [out, inp]) };
  const layers: Params = {};
  kLayers.forEach((k, i) => {
    const [kq, kk, kv, ko, kg, ku, kd] = splitKey(k, 7);
    layers[String(i)] = {
      self_attn: {
        q_proj: proj(kq, cfg.numHeads * hd, D, cfg.attentionBias),
        k_proj: proj(kk, cfg.numKvHeads * hd, D, cfg.attentionBias),
        v_proj: proj(kv, cfg.numKvHeads * hd, D, cfg.attentionBias),
        o_proj: proj(ko, D, cfg.numHeads * hd, false),
      },
      mlp: {
        gate_proj: proj(kg, cfg.intermediateSize, D, false),
        up_proj: proj(ku, cfg.intermediateSize, D, false),
        down_proj: proj(kd, D, cfg.intermediateSize, false),
      },
      input_layernorm: { weight: np.ones([D]) },
      post_attention_layernorm: { weight: np.ones([D]) },
    };
  });
  const params: Params = {
    model: {
      embed_tokens: { weight: normal(kEmb, [cfg.vocabSize, D]) },
      layers,
      norm: { weight: np.ones([D]) },
    },
  };
  if (!cfg.tieEmbeddings) params.lm_head = { weight: normal(kHead, [cfg.vocabSize, D]) };
  else kHead.dispose();
  return params;
}

type Proj = { weight: np.Array; bias?: np.Array };
type LayerParams = {
  self_attn: { q_proj: Proj; k_proj: Proj; v_proj: Proj; o_proj: Proj };
  mlp: { gate_proj: Proj; up_proj: Proj; down_proj: Proj };
  input_layernorm: { weight: np.Array };
  post_attention_layernorm: { weight: np.Array };
};

function project(p: Proj, x: np.Array): np.Array {
  const y = np.matmul(x, p.weight.transpose());
  return p.bias ? y.add(p.bias) : y;
}

/** x / √(mean(x²) + eps) · w over the last axis. */
export function rmsNorm(weight: np.Array, x: np.Array, eps: number): np.Array {
  const ms = np.square(x.ref).mean(-1, { keepdims: true });
  return x.mul(np.reciprocal(np.sqrt(ms.add(eps)))).mul(weight);
}

/**
 * cos and sin tables [B, T, 1, hd] for integer positions [B, T]: angle_j = pos · θ^(−2j/hd), the
 * half-split layout of HF's rotate_half (the frequencies repeated across both halves).
 */
export function ropeTables(positions: np.Array, hd: number, theta: number): [np.Array, np.Array] {
  const invFreq = Array.from({ length: hd / 2 }, (_, j) => 1 / Math.pow(theta, (2 * j) / hd));
  const freqs = np.array([...invFreq, ...invFreq]);
  const angles = positions
    .astype(np.float32)
    .reshape([...positions.shape, 1, 1])
    .mul(freqs);
  return [np.cos(angles.ref), np.sin(angles)];
}

/** x·cos + rotate_half(x)·sin, rotate_half([x1, x2]) = [−x2, x1] over the last axis. */
function applyRope(x: np.Array, cos: np.Array, sin: np.Array): np.Array {
  const half = x.shape[x.ndim - 1] / 2;
  const x1 = x.ref.slice([], [], [], [0, half]);
  const x2 = x.ref.slice([], [], [], [half, 2 * half]);
  const rotated = np.concatenate([x2.neg(), x1], -1);
  return x.mul(cos).add(rotated.mul(sin));
}

/** [B, S, KVH, hd] → [B, S, KVH·G, hd], each KV head serving G consecutive query heads (HF repeat_kv). */
function repeatKv(x: np.Array, groups: number): np.Array {
  if (groups === 1) return x;
  const [B, S, KVH, hd] = x.shape;
  return np
    .broadcastTo(x.reshape([B, S, KVH, 1, hd]), [B, S, KVH, groups, hd])
    .reshape([B, S, KVH * groups, hd]);
}

/**
 * softmax(q kᵀ/√hd + bias) v with q [B, T, H, hd], k/v [B, S, H, hd], bias [B, 1, T, S] (0 where a
 * query may look, a large negative number elsewhere). Returns [B, T, H·hd].
 */
function attend(q: np.Array, k: np.Array, v: np.Array, bias: np.Array): np.Array {
  const [B, T, H, hd] = q.shape;
  const qh = q.transpose([0, 2, 1, 3]);
  const kh = k.transpose([0, 2, 3, 1]);
  const vh = v.transpose([0, 2, 1, 3]);
  const scores = np
    .matmul(qh, kh)
    .mul(1 / Math.sqrt(hd))
    .add(bias);
  const weights = nn.softmax(scores, -1);
  return np
    .matmul(weights, vh)
    .transpose([0, 2, 1, 3])
    .reshape([B, T, H * hd]);
}

const MASKED = -1e9;

/** Additive mask [B, 1, T, S]: query slot i (absolute slot start + i) sees key slot s iff s ≤ start + i and keyValid[b, s]. */
function attentionBias(T: number, S: number, start: np.Array | number, keyValid: np.Array | null): np.Array {
  const qSlot = np.arange(T).astype(np.int32).add(start).reshape([T, 1]);
  const kSlot = np.arange(S).astype(np.int32).reshape([1, S]);
  let allowed = kSlot.lessEqual(qSlot).reshape([1, 1, T, S]);
  if (keyValid) {
    const B = keyValid.shape[0];
    allowed = np.logicalAnd(allowed, keyValid.reshape([B, 1, 1, S]));
  }
  return np.where(allowed, 0, MASKED);
}

export type KvCache = { k: np.Array[]; v: np.Array[] };

export type ForwardOptions = {
  /** Rotary positions [B, T] (default 0..T−1 in every row). */
  positions?: np.Array;
  /** [B, S] booleans: which key slots hold real tokens (left padding is false). Default: all. */
  keyValid?: np.Array;
};

function defaultPositions(B: number, T: number): np.Array {
  return np.broadcastTo(np.arange(T).astype(np.int32).reshape([1, T]), [B, T]);
}

/** The shared body: embeds, runs the layers with `attendLayer` doing the attention, returns logits. */
function decoder(
  params: Params,
  cfg: LmConfig,
  tokens: np.Array,
  positions: np.Array,
  attendLayer: (i: number, q: np.Array, k: np.Array, v: np.Array) => np.Array,
): np.Array {
  const [B, T] = tokens.shape;
  const hd = headDim(cfg);
  const model = params.model as Params;
  const embed = (model.embed_tokens as Params).weight as np.Array;
  const headWeight = cfg.tieEmbeddings ? embed.ref : ((params.lm_head as Params).weight as np.Array);
  let h = np.take(embed, tokens, 0);
  const [cos, sin] = ropeTables(positions, hd, cfg.ropeTheta);
  const layers = model.layers as Params;
  for (let i = 0; i < cfg.numLayers; i++) {
    const L = layers[String(i)] as unknown as LayerParams;
    const x = rmsNorm(L.input_layernorm.weight, h.ref, cfg.rmsNormEps);
    const q = applyRope(
      project(L.self_attn.q_proj, x.ref).reshape([B, T, cfg.numHeads, hd]),
      cos.ref,
      sin.ref,
    );
    const k = applyRope(
      project(L.self_attn.k_proj, x.ref).reshape([B, T, cfg.numKvHeads, hd]),
      cos.ref,
      sin.ref,
    );
    const v = project(L.self_attn.v_proj, x).reshape([B, T, cfg.numKvHeads, hd]);
    const a = attendLayer(i, q, k, v);
    h = h.add(project(L.self_attn.o_proj, a));
    const y = rmsNorm(L.post_attention_layernorm.weight, h.ref, cfg.rmsNormEps);
    const act = nn.silu(project(L.mlp.gate_proj, y.ref)).mul(project(L.mlp.up_proj, y));
    h = h.add(project(L.mlp.down_proj, act));
  }
  cos.dispose();
  sin.dispose();
  const out = rmsNorm((model.norm as Params).weight as np.Array, h, cfg.rmsNormEps);
  return np.matmul(out, headWeight.transpose());
}

/**
 * Logits [B, T, V] for tokens [B, T] (int32) under causal attention, optionally with per-row
 * positions and a key-validity mask (left-padded batches). Consumes params and inputs.
 */
export function lmForward(
  params: Params,
  cfg: LmConfig,
  tokens: np.Array,
  opts: ForwardOptions = {},
): np.Array {
  const [B, T] = tokens.shape;
  const groups = cfg.numHeads / cfg.numKvHeads;
  const positions = opts.positions ?? defaultPositions(B, T);
  const bias = attentionBias(T, T, 0, opts.keyValid ?? null);
  const logits = decoder(params, cfg, tokens, positions, (_i, q, k, v) =>
    attend(q, repeatKv(k, groups), repeatKv(v, groups), bias.ref),
  );
  bias.dispose();
  return logits;
}

/**
 * One cached step: runs `tokens` [B, T] placed at cache slots start..start+T−1, writes their keys
 * and values into the cache (size S = cache length) and attends over every valid slot up to each
 * query's own. T > 1 only at start 0 (prefill); T = 1 anywhere (`start` may be a traced scalar).
 * Returns the logits [B, T, V] and the new cache. Consumes everything.
 */
export function lmForwardCached(
  params: Params,
  cfg: LmConfig,
  tokens: np.Array,
  cache: KvCache,
  start: np.Array | number,
  positions: np.Array,
  keyValid: np.Array,
): { logits: np.Array; cache: KvCache } {
  const T = tokens.shape[1];
  const S = keyValid.shape[1];
  const groups = cfg.numHeads / cfg.numKvHeads;
  const slot = typeof start === "number" ? start : start.ref;
  const bias = attentionBias(T, S, slot, keyValid);
  const next: KvCache = { k: [], v: [] };
  const write = (old: np.Array, fresh: np.Array): np.Array => {
    if (T > 1) {
      if (start !== 0) throw new Error("lmForwardCached: a multi-token block must start at slot 0");
      const rest = old.slice([], [T, S]);
      return np.concatenate([fresh, rest], 1);
    }
    const at = np
      .arange(S)
      .astype(np.int32)
      .equal(typeof start === "number" ? start : start.ref);
    return np.where(at.reshape([1, S, 1, 1]), fresh, old);
  };
  const logits = decoder(params, cfg, tokens, positions, (i, q, k, v) => {
    const kc = write(cache.k[i], k);
    const vc = write(cache.v[i], v);
    next.k.push(kc.ref);
    next.v.push(vc.ref);
    return attend(q, repeatKv(kc, groups), repeatKv(vc, groups), bias.ref);
  });
  bias.dispose();
  if (typeof start !== "number") start.dispose();
  return { logits, cache: next };
}

export function emptyCache(cfg: LmConfig, batch: number, length: number): KvCache {
  const shape = [batch, length, cfg.numKvHeads, headDim(cfg)];
  return {
    k: Array.from({ length: cfg.numLayers }, () => np.zeros(shape)),
    v: Array.from({ length: cfg.numLayers }, () => np.zeros(shape)),
  };
}

/** Parameter count of a config (embeddings counted once when tied). */
export function lmParamCount(cfg: LmConfig): number {
  const hd = headDim(cfg);
  const D = cfg.hiddenSize;
  const attn =
    D * cfg.numHeads * hd * 2 +
    D * cfg.numKvHeads * hd * 2 +
    (cfg.attentionBias ? (cfg.numHeads + 2 * cfg.numKvHeads) * hd : 0);
  const mlp = 3 * D * cfg.intermediateSize;
  const perLayer = attn + mlp + 2 * D;
  return cfg.vocabSize * D * (cfg.tieEmbeddings ? 1 : 2) + cfg.numLayers * perLayer + D;
}
