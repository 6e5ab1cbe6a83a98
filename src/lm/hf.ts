/**
 * Loads a Hugging Face Llama/Qwen2/Mistral-family checkpoint from a local directory:
 * config.json + model.safetensors (or shards listed in model.safetensors.index.json) +
 * tokenizer.json (+ tokenizer_config.json). Weights in F16/BF16 are widened to float32.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeSafetensors } from "../engine/safetensors.js";
import { fromHost, type HostTensors, type Params } from "../engine/tree.js";
import { UsageError } from "../errors.js";
import { checkLmConfig, headDim, type LmConfig } from "./model.js";
import { HfTokenizer } from "./tokenizer.js";

export const HF_MODEL_TYPES = ["llama", "qwen2", "mistral"] as const;

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

function readJsonFile(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path}: ${(e as Error).message}`);
  }
}

/** Our LmConfig from a Hugging Face config.json. */
export function lmConfigFromHf(hf: Record<string, unknown>, where = "config.json"): LmConfig {
  const type = String(hf.model_type);
  if (!(HF_MODEL_TYPES as readonly string[]).includes(type))
    throw new UsageError(
      `${where}: model_type "${type}" is not supported (supported: ${HF_MODEL_TYPES.join(", ")})`,
    );
  const num = (key: string, fallback?: number): number => {
    const v = hf[key] ?? fallback;
    if (typeof v !== "number") throw new CheckpointError(`${where}: "${key}" is missing or not a number`);
    return v;
  };
  const heads = num("num_attention_heads");
  const cfg: LmConfig = {
    vocabSize: num("vocab_size"),
    hiddenSize: num("hidden_size"),
    intermediateSize: num("intermediate_size"),
    numLayers: num("num_hidden_layers"),
    numHeads: heads,
    numKvHeads: num("num_key_value_heads", heads),
    headDim: typeof hf.head_dim === "number" ? hf.head_dim : undefined,
    ropeTheta: num("rope_theta", 10000),
    rmsNormEps: num("rms_norm_eps", 1e-6),
    tieEmbeddings: hf.tie_word_embeddings === true,
    attentionBias: type === "qwen2" ? true : hf.attention_bias === true,
    maxPositions: num("max_position_embeddings", 2048),
  };
  const scaling = hf.rope_scaling as { rope_type?: string; type?: string } | null | undefined;
  if (scaling && (scaling.rope_type ?? scaling.type) !== "default")
    throw new UsageError(`${where}: rope_scaling ${JSON.stringify(scaling)} is not supported`);
  try {
    checkLmConfig(cfg);
  } catch (e) {
    throw new CheckpointError(`${where}: ${(e as Error).message}`);
  }
  return cfg;
}

/** Every tensor name the model needs, with its shape (HF naming). */
export function lmShapes(cfg: LmConfig): Record<string, number[]> {
  const hd = headDim(cfg);
  const D = cfg.hiddenSize;
  const out: Record<string, number[]> = { "model.embed_tokens.weight": [cfg.vocabSize, D] };
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    out[p + "self_attn.q_proj.weight"] = [cfg.numHeads * hd, D];
    out[p + "self_attn.k_proj.weight"] = [cfg.numKvHeads * hd, D];
    out[p + "self_attn.v_proj.weight"] = [cfg.numKvHeads * hd, D];
    if (cfg.attentionBias) {
      out[p + "self_attn.q_proj.bias"] = [cfg.numHeads * hd];
      out[p + "self_attn.k_proj.bias"] = [cfg.numKvHeads * hd];
      out[p + "self_attn.v_proj.bias"] = [cfg.numKvHeads * hd];
    }
    out[p + "self_attn.o_proj.weight"] = [D, cfg.numHeads * hd];
    out[p + "mlp.gate_proj.weight"] = [cfg.intermediateSize, D];
    out[p + "mlp.up_proj.weight"] = [cfg.intermediateSize, D];
    out[p + "mlp.down_proj.weight"] = [D, cfg.intermediateSize];
    out[p + "input_layernorm.weight"] = [D];
    out[p + "post_attention_layernorm.weight"] = [D];
  }
  out["model.norm.weight"] = [D];
  if (!cfg.tieEmbeddings) out["lm_head.weight"] = [cfg.vocabSize, D];
  return out;
}

/** Reads every safetensors file of the checkpoint into host tensors. */
export function readHfTensors(dir: string): HostTensors {
  const index = join(dir, "model.safetensors.index.json");
  let files: string[];
  if (existsSync(index)) {
    const map = readJsonFile(index).weight_map as Record<string, string> | undefined;
    if (!map) throw new CheckpointError(`${index}: no weight_map`);
    files = [...new Set(Object.values(map))];
  } else if (existsSync(join(dir, "model.safetensors"))) files = ["model.safetensors"];
  else files = readdirSync(dir).filter((f) => f.endsWith(".safetensors"));
  if (!files.length) throw new CheckpointError(`${dir}: no *.safetensors files`);
  const tensors: HostTensors = {};
  for (const f of files) {
    const path = join(dir, f);
    if (!existsSync(path)) throw new CheckpointError(`${path}: listed in the index but missing`);
    try {
      Object.assign(tensors, decodeSafetensors(readFileSync(path)).tensors);
    } catch (e) {
      throw new CheckpointError(`${path}: ${(e as Error).message}`);
    }
  }
  return tensors;
}

export type HfCheckpoint = {
  cfg: LmConfig;
  params: Params;
  tokenizer: HfTokenizer | null;
  hfConfig: Record<string, unknown>;
};

/** Loads config, weights (checked name by name and shape by shape) and, if present, the tokenizer. */
export function loadHfCheckpoint(dir: string): HfCheckpoint {
  const configPath = join(dir, "config.json");
  if (!existsSync(configPath))
    throw new UsageError(`${dir}: no config.json (not a Hugging Face model directory)`);
  const hfConfig = readJsonFile(configPath);
  const cfg = lmConfigFromHf(hfConfig, configPath);
  const tensors = readHfTensors(dir);
  const expected = lmShapes(cfg);
  const chosen: HostTensors = {};
  for (const [name, shape] of Object.entries(expected)) {
    const t = tensors[name];
    if (!t) throw new CheckpointError(`${dir}: missing tensor "${name}"`);
    if (t.shape.join(",") !== shape.join(","))
      throw new CheckpointError(
        `${dir}: "${name}" has shape [${t.shape}] but config.json implies [${shape}]`,
      );
    if (t.dtype !== "float32")
      throw new CheckpointError(`${dir}: "${name}" is ${t.dtype}, expected a float tensor`);
    chosen[name] = t;
  }
  const ignorable = (n: string) =>
    n.endsWith("rotary_emb.inv_freq") || (cfg.tieEmbeddings && n === "lm_head.weight");
  const extra = Object.keys(tensors).filter((n) => !(n in expected) && !ignorable(n));
  if (extra.length) throw new CheckpointError(`${dir}: unexpected tensor(s) ${extra.slice(0, 5).join(", ")}`);
  const tokPath = join(dir, "tokenizer.json");
  const tokCfgPath = join(dir, "tokenizer_config.json");
  const tokenizer = existsSync(tokPath)
    ? new HfTokenizer(readJsonFile(tokPath), existsSync(tokCfgPath) ? readJsonFile(tokCfgPath) : {})
    : null;
  return { cfg, params: fromHost(chosen, dir), tokenizer, hfConfig };
}
