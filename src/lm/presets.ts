/**
 * The built-in models for the task suite, sized for a 2-core CPU: pretraining and RL finish in
 * minutes. Characters are tokens (vocabulary 81), embeddings are tied, the context holds the
 * longest task prompt plus its answer.
 */
import { TASK_ALPHABET } from "../data/tasks/index.js";
import { UsageError } from "../errors.js";
import type { LmConfig } from "./model.js";
import { CharTokenizer } from "./tokenizer.js";

export const LM_SIZES = ["tiny", "small"] as const;
export type LmSize = (typeof LM_SIZES)[number];

export function taskTokenizer(): CharTokenizer {
  return new CharTokenizer(TASK_ALPHABET);
}

export function presetConfig(size: LmSize): LmConfig {
  const vocabSize = taskTokenizer().vocabSize;
  const common = {
    vocabSize,
    ropeTheta: 10000,
    rmsNormEps: 1e-6,
    tieEmbeddings: true,
    attentionBias: false,
    maxPositions: 128,
  };
  switch (size) {
    case "tiny":
      return { ...common, hiddenSize: 64, intermediateSize: 192, numLayers: 2, numHeads: 4, numKvHeads: 2 };
    case "small":
      return { ...common, hiddenSize: 128, intermediateSize: 384, numLayers: 4, numHeads: 4, numKvHeads: 2 };
    default:
      throw new UsageError(`unknown model size "${String(size)}" (choose from: ${LM_SIZES.join(", ")})`);
  }
}
