/** What a training run is made of: the JSON stored as a run's config.json. */
import type { Normalization } from "../data/dataset.js";
import type { ModelConfig } from "../nn/models/index.js";
import type { OptimizerConfig } from "../optim/index.js";

export { DEFAULT_MAX_SKIPS } from "../requests/train.js";

export type TrainConfig = {
  id: string;
  createdAt: string;
  command: "train";
  model: ModelConfig;
  optimizer: OptimizerConfig;
  data: {
    dataset: "fashion-mnist";
    limit: number | null;
    normalize: Normalization;
    dataDir?: string;
    /** A task of the transfer experiments (`ct pretrain`): "fashion-mnist:0-4", … */
    task?: string;
  };
  epochs: number;
  batchSize: number;
  seed: number;
  paramCount: number;
  /** Log a step event every `logEvery` steps (and at the last step of each epoch). */
  logEvery: number;
  /**
   * A step whose loss or gradient norm is NaN/Inf: "stop" (absent: the default) ends the run
   * `diverged`; "skip" leaves params and optimiser state as they were, logs a `skip` line, and
   * ends the run `diverged` only when more than `maxSkips` steps have been skipped.
   */
  onDivergence?: "stop" | "skip";
  /** With `onDivergence: "skip"`: how many skipped steps a run tolerates (default 10). */
  maxSkips?: number;
};
