/**
 * A training session as the CLI, the tour and the lab start it: resolve the config, load the data,
 * create (or reopen) the run directory, train, and leave the run consistent whatever happens.
 */
import { loadFashionMnist } from "../data/fashion-mnist.js";
import type { Dataset, Normalization } from "../data/dataset.js";
import { startEngine } from "../engine/device.js";
import { keyFromSeed } from "../engine/prng.js";
import { countParams, treeDispose } from "../engine/tree.js";
import { canonicalInitName, lMomentumAlpha } from "../init/registry.js";
import { createModel, modelConfig } from "../nn/models/index.js";
import { createOptimizer, type OptimizerConfig } from "../optim/index.js";
import { defaultRunsRoot, newRunId, Run } from "../runs/store.js";
import { DEFAULT_MAX_SKIPS, type TrainConfig } from "./config.js";
import { train, type TrainCallbacks, type TrainResult } from "./loop.js";

export type TrainRequest = {
  model: string;
  modelOptions?: Record<string, unknown>;
  optimizer: OptimizerConfig;
  epochs: number;
  batchSize: number;
  seed: number;
  limit?: number | null;
  normalize?: Normalization;
  dataDir?: string;
  runsRoot?: string;
  name?: string;
  logEvery?: number;
  /** What a NaN/Inf step does: "stop" (default) or "skip" (see TrainConfig). */
  onDivergence?: "stop" | "skip";
  /** With onDivergence "skip": the most skipped steps before the run stops diverged (default 10). */
  maxSkips?: number;
};

/** Validates a request and fills defaults, without touching data or disk. */
export function resolveTrainConfig(req: TrainRequest, id?: string): TrainConfig {
  const model = modelConfig(req.model, { inputShape: [1, 28, 28], classes: 10 }, req.modelOptions);
  // L-Momentum's α follows the optimiser's momentum unless given
  if (model.init && canonicalInitName(model.init) === "l_momentum" && model.initOptions?.alpha === undefined)
    model.initOptions = { ...model.initOptions, alpha: lMomentumAlpha(req.optimizer) };
  const optimizer = req.optimizer;
  createOptimizer(optimizer); // validates hyper-parameters now, not after the data is loaded
  const probe = createModel(model).init(keyFromSeed(req.seed));
  const paramCount = countParams(probe);
  treeDispose(probe);
  return {
    id: id ?? req.name ?? newRunId([model.name, optimizer.name]),
    createdAt: new Date().toISOString(),
    command: "train",
    model,
    optimizer,
    data: {
      dataset: "fashion-mnist",
      limit: req.limit ?? null,
      normalize: req.normalize ?? "standardize",
      ...(req.dataDir ? { dataDir: req.dataDir } : {}),
    },
    epochs: req.epochs,
    batchSize: req.batchSize,
    seed: req.seed,
    paramCount,
    logEvery: req.logEvery ?? 10,
    // Written only when asked for: a default run's config.json stays as it was.
    ...(req.onDivergence === "skip"
      ? { onDivergence: "skip" as const, maxSkips: req.maxSkips ?? DEFAULT_MAX_SKIPS }
      : {}),
  };
}

export function loadDataFor(config: TrainConfig): Dataset {
  return loadFashionMnist({
    dataDir: config.data.dataDir,
    limit: config.data.limit,
    normalize: config.data.normalize,
  });
}

export async function runTraining(
  req: TrainRequest,
  opts: { callbacks?: TrainCallbacks; signal?: AbortSignal; dataset?: Dataset } = {},
): Promise<{ run: Run; result: TrainResult; config: TrainConfig }> {
  await startEngine();
  const config = resolveTrainConfig(req);
  const dataset = opts.dataset ?? loadDataFor(config);
  const run = Run.create(req.runsRoot ?? defaultRunsRoot(), config.id, config);
  const result = await train(config, dataset, run, opts);
  return { run, result, config };
}

/** Continues a run from its last verified checkpoint with the config it was created with. */
export async function resumeTraining(
  runDir: string,
  opts: {
    callbacks?: TrainCallbacks;
    signal?: AbortSignal;
    dataset?: Dataset;
    epochs?: number;
    runsRoot?: string;
  } = {},
): Promise<{ run: Run; result: TrainResult; config: TrainConfig }> {
  await startEngine();
  const run = Run.openForWriting(runDir, opts.runsRoot);
  const config = run.config<TrainConfig>();
  if (config.command !== "train") throw new Error(`run ${run.id} is not a training run`);
  if (opts.epochs !== undefined) config.epochs = opts.epochs;
  const dataset = opts.dataset ?? loadDataFor(config);
  const result = await train(config, dataset, run, { ...opts, resume: true });
  return { run, result, config };
}
