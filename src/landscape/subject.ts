/**
 * What a landscape is computed for: a training run's model and checkpoints, evaluated on a fixed
 * subset of its data (default: the first 256 test images, as the book does).
 */
import { loadFashionMnist } from "../data/fashion-mnist.js";
import type { ImageSplit } from "../data/dataset.js";
import { keyFromSeed } from "../engine/prng.js";
import { treeDispose } from "../engine/tree.js";
import { createModel, type Model } from "../nn/models/index.js";
import { readTrainRunConfig } from "../runs/records.js";
import { Run } from "../runs/store.js";
import type { TrainConfig } from "../train/config.js";
import { loadParamsFromCheckpoint } from "../train/loop.js";
import { UsageError } from "../errors.js";
import { evaluationSubset } from "./objective.js";
import { layoutOf, vectorOf, type Layout, type Vector } from "./vector.js";

export type Subject = { run: Run; config: TrainConfig; model: Model; layout: Layout };

export function openSubject(runRef: string, runsRoot?: string): Subject {
  const run = Run.open(runRef, runsRoot);
  const config = run.config<TrainConfig>();
  if (config.command !== "train" || !config.model)
    throw new UsageError(`run ${run.id} is not a training run (no model in its config.json)`);
  readTrainRunConfig(run.dir);
  const model = createModel(config.model);
  const probe = model.init(keyFromSeed(0));
  const layout = layoutOf(probe);
  treeDispose(probe);
  return { run, config, model, layout };
}

/** The weights of epoch `epoch` (default: the last checkpoint) as a flat vector. */
export async function checkpointWeights(
  subject: Subject,
  epoch?: number,
): Promise<{ epoch: number; w: Vector }> {
  const epochs = subject.run.epochCheckpoints();
  if (epochs.length === 0) throw new UsageError(`run ${subject.run.id} has no checkpoint yet`);
  const e = epoch ?? epochs[epochs.length - 1];
  if (!epochs.includes(e))
    throw new UsageError(
      `run ${subject.run.id} has no checkpoint for epoch ${e} (it has ${epochs.join(", ")})`,
    );
  const params = loadParamsFromCheckpoint(subject.run, e);
  const w = await vectorOf(params);
  if (w.length !== subject.layout.size)
    throw new Error(`checkpoint epoch-${e} has ${w.length} weights but the model has ${subject.layout.size}`);
  return { epoch: e, w };
}

export type EvaluationChoice = { split: "test" | "train"; count: number; offset: number; dataDir?: string };
export const DEFAULT_EVALUATION: EvaluationChoice = { split: "test", count: 256, offset: 0 };

/** The evaluation subset, with the normalisation the run was trained with. */
export function evaluationSet(config: TrainConfig, choice: EvaluationChoice): ImageSplit {
  const end = choice.offset + choice.count;
  const data = loadFashionMnist({
    dataDir: choice.dataDir ?? config.data.dataDir,
    normalize: config.data.normalize,
    limit: choice.split === "train" ? end : 1,
    testLimit: choice.split === "test" ? end : 1,
  });
  return evaluationSubset(choice.split === "train" ? data.train : data.test, choice.count, choice.offset);
}
