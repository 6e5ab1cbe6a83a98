/**
 * Batched generation with a KV cache. Prompts of different lengths are left-padded to a common
 * length P (rounded up to a multiple of 8 so that few shapes get compiled); each row's rotary
 * positions start at 0 at its first real token and padded slots are masked out. One jitted prefill
 * over the prompts, then one jitted single-token step per new token over a fixed-size cache of
 * P + maxNewTokens slots. Sampling (greedy, temperature, top-k) happens on the host from a seeded
 * PRNG, so a generation is reproducible from its seed.
 */
import { jit, numpy as np } from "../engine/jax.js";
import { treeRef, type Params } from "../engine/tree.js";
import { mulberry32 } from "../engine/rng.js";
import { emptyCache, lmForwardCached, type KvCache, type LmConfig } from "./model.js";

export type SampleOptions = {
  maxNewTokens: number;
  /** 0 means greedy (argmax); default 1. */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling (0 or undefined: all). */
  topK?: number;
  /** Generation of a row stops after this token (it is kept in `tokens`). */
  eosId: number | null;
  padId: number;
  /** Host PRNG in [0, 1); default mulberry32(seed ?? 0). */
  rng?: () => number;
  seed?: number;
};

export type Generation = {
  /** New tokens per row, including the EOS token when one was produced. */
  tokens: number[][];
  /** Whether the row ended with EOS (false: stopped at maxNewTokens). */
  finished: boolean[];
};

export const PROMPT_BUCKET = 8;

/** Left-pads prompts to a common length (a multiple of `bucket`); returns ids, pad counts and the length. */
export function leftPad(prompts: number[][], padId: number, bucket = PROMPT_BUCKET) {
  const longest = Math.max(...prompts.map((p) => p.length));
  if (longest === 0)
    throw new Error("generate: every prompt is empty (a prompt needs at least one token, e.g. BOS)");
  const P = Math.ceil(longest / bucket) * bucket;
  const pads = prompts.map((p) => P - p.length);
  const ids = new Int32Array(prompts.length * P).fill(padId);
  prompts.forEach((p, b) => ids.set(p, b * P + pads[b]));
  return { ids, pads, P };
}

/** Picks one token from a row of logits. */
export function sampleToken(
  logits: ArrayLike<number>,
  temperature: number,
  topK: number,
  rng: () => number,
): number {
  const V = logits.length;
  if (temperature === 0) {
    let best = 0;
    for (let i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
  let order = Array.from({ length: V }, (_, i) => i);
  if (topK > 0 && topK < V) order = order.sort((a, b) => logits[b] - logits[a]).slice(0, topK);
  let max = -Infinity;
  for (const i of order) max = Math.max(max, logits[i]);
  const weights = order.map((i) => Math.exp((logits[i] - max) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = rng() * total;
  for (let j = 0; j < order.length; j++) {
    u -= weights[j];
    if (u <= 0) return order[j];
  }
  return order[order.length - 1];
}

export type Generator = {
  generate(params: Params, prompts: number[][], opts: SampleOptions): Promise<Generation>;
  dispose(): void;
};

/** A generator for one model configuration; its compiled functions are reused across calls. Borrows params. */
export function createGenerator(cfg: LmConfig): Generator {
  const prefill = jit((params: Params, tokens: np.Array, positions: np.Array, keyValid: np.Array) => {
    const [B, P] = tokens.shape;
    const cache = emptyCache(cfg, B, keyValid.shape[1]);
    const out = lmForwardCached(params, cfg, tokens, cache, 0, positions, keyValid);
    return [out.logits.slice([], P - 1), out.cache.k, out.cache.v] as [np.Array, np.Array[], np.Array[]];
  });
  const step = jit(
    (
      params: Params,
      k: np.Array[],
      v: np.Array[],
      token: np.Array,
      slot: np.Array,
      positions: np.Array,
      keyValid: np.Array,
    ) => {
      const out = lmForwardCached(params, cfg, token, { k, v } as KvCache, slot, positions, keyValid);
      return [out.logits.slice([], 0), out.cache.k, out.cache.v] as [np.Array, np.Array[], np.Array[]];
    },
  );
  return {
    async generate(params, prompts, opts) {
      const { maxNewTokens, temperature = 1, topK = 0, eosId, padId } = opts;
      const rng = opts.rng ?? mulberry32(opts.seed ?? 0);
      const B = prompts.length;
      const { ids, pads, P } = leftPad(prompts, padId);
      const S = P + maxNewTokens;
      const valid = new Uint8Array(B * S).fill(1);
      const pos = new Int32Array(B * P);
      for (let b = 0; b < B; b++) {
        for (let s = 0; s < pads[b]; s++) valid[b * S + s] = 0;
        for (let s = 0; s < P; s++) pos[b * P + s] = Math.max(0, s - pads[b]);
      }
      const keyValid = np.array(Array.from(valid, Boolean)).reshape([B, S]);
      let [logits, k, v] = prefill(
        treeRef(params),
        np.array(ids, { dtype: np.int32 }).reshape([B, P]),
        np.array(pos, { dtype: np.int32 }).reshape([B, P]),
        keyValid.ref,
      );
      const tokens: number[][] = prompts.map(() => []);
      const finished = prompts.map(() => false);
      const V = cfg.vocabSize;
      try {
        for (let t = 0; t < maxNewTokens; t++) {
          const rows = (await logits.data()) as Float32Array;
          const next = new Int32Array(B);
          for (let b = 0; b < B; b++) {
            next[b] = finished[b]
              ? padId
              : sampleToken(rows.subarray(b * V, (b + 1) * V), temperature, topK, rng);
            if (!finished[b]) {
              tokens[b].push(next[b]);
              if (next[b] === eosId) finished[b] = true;
            }
          }
          if (t === maxNewTokens - 1 || finished.every(Boolean)) break;
          const positions = np
            .array(
              pads.map((p) => P + t - p),
              { dtype: np.int32 },
            )
            .reshape([B, 1]);
          [logits, k, v] = step(
            treeRef(params),
            k,
            v,
            np.array(next, { dtype: np.int32 }).reshape([B, 1]),
            np.array(P + t, { dtype: np.int32 }),
            positions,
            keyValid.ref,
          );
        }
      } finally {
        k.forEach((x) => x.dispose());
        v.forEach((x) => x.dispose());
        keyValid.dispose();
      }
      return { tokens, finished };
    },
    dispose() {
      prefill.dispose();
      step.dispose();
    },
  };
}
