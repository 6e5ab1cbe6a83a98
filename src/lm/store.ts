/**
 * LMs in the run store and on disk: a pretraining run keeps its model config and tokenizer in
 * config.json (`lm`, `tokenizer`) and its weights in checkpoints/model.safetensors; a Hugging Face
 * directory (config.json + safetensors + tokenizer.json) loads through the HF loader. `loadLm`
 * takes either.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fromHost, toHost, treeRef, type Params } from "../engine/tree.js";
import { UsageError } from "../errors.js";
import { Run, readJson } from "../runs/store.js";
import { loadHfCheckpoint } from "./hf.js";
import { checkLmConfig, type LmConfig } from "./model.js";
import { CharTokenizer, type TextTokenizer } from "./tokenizer.js";

export type LoadedLm = { cfg: LmConfig; params: Params; tokenizer: TextTokenizer; source: string };

export type TokenizerSpec = { kind: "char"; alphabet: string };

export const LM_CHECKPOINT = "model";

export async function saveLm(run: Run, params: Params, metadata: Record<string, string> = {}): Promise<void> {
  run.saveCheckpoint(LM_CHECKPOINT, await toHost(treeRef(params)), { format: "tiller-lm-v1", ...metadata });
}

/** A pretraining run (id or directory) or a Hugging Face model directory. */
export function loadLm(source: string, runsRoot?: string): LoadedLm {
  const hfConfig = join(source, "config.json");
  if (existsSync(hfConfig) && !(readJson(hfConfig) as Record<string, unknown>).lm) {
    const ck = loadHfCheckpoint(source);
    if (!ck.tokenizer) throw new UsageError(`${source}: no tokenizer.json`);
    return { cfg: ck.cfg, params: ck.params, tokenizer: ck.tokenizer, source };
  }
  const run = Run.open(source, runsRoot);
  const config = run.config<{ lm?: LmConfig; tokenizer?: TokenizerSpec }>();
  if (!config.lm || !config.tokenizer)
    throw new UsageError(`run ${run.dir} is not a language-model run (no "lm" in config.json)`);
  checkLmConfig(config.lm);
  if (!(`${LM_CHECKPOINT}.safetensors` in run.checkpointIndex()))
    throw new UsageError(
      `run ${run.dir} has no finished model yet (checkpoints/${LM_CHECKPOINT}.safetensors)`,
    );
  const where = run.path("checkpoints", `${LM_CHECKPOINT}.safetensors`);
  const params = fromHost(run.loadCheckpoint(LM_CHECKPOINT).tensors, where);
  return { cfg: config.lm, params, tokenizer: new CharTokenizer(config.tokenizer.alphabet), source: run.dir };
}
