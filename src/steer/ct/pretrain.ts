/**
 * A source model for transfer experiments: the ordinary training loop (src/train/loop.ts) on a
 * task such as Fashion-MNIST classes 0–4. The run is a normal training run whose config.json also
 * names the task (`data.task`), so `loadBaseModel` knows what it was trained on.
 */
import { startEngine } from "../../engine/device.js";
import { countParams, treeDispose } from "../../engine/tree.js";
import { keyFromSeed } from "../../engine/prng.js";
import { loadTask } from "../../data/subsets.js";
import { createModel, modelConfig } from "../../nn/models/index.js";
import { defaultRunsRoot, Run } from "../../runs/store.js";
import type { TrainConfig } from "../../train/config.js";
import { train, type TrainCallbacks, type TrainResult } from "../../train/loop.js";
import { resolveTrainConfig, type TrainRequest } from "../../train/session.js";
import type { CtPretrainRequest } from "../../requests/ct.js";

export type PretrainRequest = TrainRequest & { task: string };

export async function pretrain(
  req: PretrainRequest,
  opts: { callbacks?: TrainCallbacks; signal?: AbortSignal } = {},
): Promise<{ run: Run; result: TrainResult; config: TrainConfig }> {
  await startEngine();
  const dataset = loadTask(req.task, { dataDir: req.dataDir, normalize: req.normalize, limit: req.limit });
  const generic = resolveTrainConfig(req);
  const model = modelConfig(
    req.model,
    { inputShape: dataset.train.shape, classes: dataset.classes.length },
    req.modelOptions,
  );
  const probe = createModel(model).init(keyFromSeed(req.seed));
  const paramCount = countParams(probe);
  treeDispose(probe);
  const config = { ...generic, model, paramCount, data: { ...generic.data, task: req.task } } as TrainConfig;
  const run = Run.create(req.runsRoot ?? defaultRunsRoot(), config.id, config);
  const result = await train(config, dataset, run, opts);
  return { run, result, config };
}

/** The library's request for a validated `ct pretrain` request (`requests/ct.ts`): Adam, ReLU. */
export function pretrainRequestOf(r: CtPretrainRequest): PretrainRequest {
  return {
    task: r.task,
    model: r.model,
    modelOptions: {
      hidden: r.hidden,
      channels: r.channels,
      dense: r.dense,
      blocks: r.blocks,
      norm: r.norm,
      activation: "relu",
    },
    optimizer: { name: "adam", lr: r.lr },
    epochs: r.epochs,
    batchSize: r.batchSize,
    seed: r.seed,
    limit: r.limit ?? null,
    dataDir: r.dataDir,
    runsRoot: r.runs,
    name: r.name,
  };
}
