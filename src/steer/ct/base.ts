/**
 * The trained model Curvature Tuning starts from: a run made by `tiller train` (full Fashion-MNIST)
 * or `tiller ct pretrain` (a class subset), its model config, input scaling, task and weights.
 */
import type { Normalization } from "../../data/dataset.js";
import type { Params } from "../../engine/tree.js";
import { createModel, type Model, type ModelConfig } from "../../nn/models/index.js";
import { Run } from "../../runs/store.js";
import { loadParamsFromCheckpoint } from "../../train/loop.js";
import type { TrainConfig } from "../../train/config.js";

export type BaseModel = {
  run: Run;
  model: Model;
  config: ModelConfig;
  params: Params;
  normalize: Normalization;
  /** The task it was trained on, as a task name (src/data/subsets.ts). */
  task: string;
  epoch: number;
};

/** Opens a training run and loads its last (or the given) epoch's weights. */
export function loadBaseModel(
  runDirOrId: string,
  opts: { runsRoot?: string; epoch?: number } = {},
): BaseModel {
  const run = Run.open(runDirOrId, opts.runsRoot);
  const config = run.config<TrainConfig & { data: { task?: string } }>();
  if (config.command !== "train")
    throw new Error(`run ${run.id} is a "${String(config.command)}" run, not a training run`);
  const epoch = opts.epoch ?? run.epochCheckpoints().at(-1);
  if (epoch === undefined) throw new Error(`run ${run.id} has no checkpoint yet`);
  return {
    run,
    model: createModel(config.model),
    config: config.model,
    params: loadParamsFromCheckpoint(run, epoch),
    normalize: config.data.normalize,
    task: config.data.task ?? "fashion-mnist",
    epoch,
  };
}
