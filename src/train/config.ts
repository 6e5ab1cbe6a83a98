/** What a training run is made of: the JSON stored as a run's config.json. */
import type { Normalization } from "../data/dataset.js";
import type { ModelConfig } from "../nn/models/index.js";
import type { OptimizerConfig } from "../optim/index.js";

export type TrainConfig = {
  id: string;
  createdAt: string;
  command: "train";
  model: ModelConfig;
  optimizer: OptimizerConfig;
  data: { dataset: "fashion-mnist"; limit: number | null; normalize: Normalization; dataDir?: string };
  epochs: number;
  batchSize: number;
  seed: number;
  paramCount: number;
  /** Log a step event every `logEvery` steps (and at the last step of each epoch). */
  logEvery: number;
};
