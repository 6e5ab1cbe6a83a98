/**
 * A training session as the CLI, the tour and the lab start it: resolve the config, load the data,
 * create (or reopen) the run directory, train, and leave the run consistent whatever happens.
 */
import { checkFashionMnist, loadFashionMnist } from "../data/fashion-mnist.js";
import { loadTask } from "../data/subsets.js";
import type { Dataset, Normalization } from "../data/dataset.js";
import { startEngine } from "../engine/device.js";
import { keyFromSeed } from "../engine/prng.js";
import { assertSameStructure, countParams, treeDispose, type Params } from "../engine/tree.js";
import { canonicalInitName, lMomentumAlpha } from "../init/registry.js";
import { createModel, modelConfig, type ModelName } from "../nn/models/index.js";
import { createOptimizer, optimizerConfig, type OptimizerConfig } from "../optim/index.js";
import { readTrainRunConfig } from "../runs/records.js";
import { defaultRunsRoot, newRunId, Run, RunStoreError } from "../runs/store.js";
import { evaluationSubset } from "../data/subsets.js";
import { parseSchedule } from "../optim/schedules.js";
import { DEFAULT_EPOCHS, type TrainingFields, type TrainRequestFields } from "../requests/train.js";
import { UsageError } from "../errors.js";
import { DEFAULT_MAX_SKIPS, type TrainConfig } from "./config.js";
import { loadParamsFromCheckpoint, train, type TrainCallbacks, type TrainResult } from "./loop.js";
import { createDynamicsRecorder, mergeCallbacks } from "./dynamics.js";

export type TrainRequest = {
  /** One of MODELS: "mlp", "cnn", "vit" or "resnet". */
  model: ModelName;
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

/** The data a run was trained on: Fashion-MNIST, or the task of a `ct pretrain` run (so both resume alike). */
export function loadDataFor(config: TrainConfig): Dataset {
  const { task, dataDir, normalize, limit } = config.data;
  if (task) return loadTask(task, { dataDir, normalize, limit });
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

/** The data and bookkeeping fields every training-like request shares (`trainingFields`), as the library names them. */
export function trainingOf(r: TrainingFields) {
  return {
    epochs: r.epochs,
    batchSize: r.batchSize,
    seed: r.seed,
    limit: r.limit ?? null,
    normalize: r.normalize,
    dataDir: r.dataDir,
    runsRoot: r.runs,
    name: r.name,
    logEvery: r.logEvery,
  };
}

/** The library's request for a validated `train` request (`requests/train.ts`). */
export function trainRequestOf(r: TrainRequestFields): TrainRequest {
  const { hidden, channels, dense, blocks, norm, activation, init, biasInit, zeroInitLast } = r;
  return {
    model: r.model,
    modelOptions: { hidden, channels, dense, blocks, norm, activation, init, biasInit, zeroInitLast },
    optimizer: {
      ...optimizerConfig(r.optimizer, r.params ?? {}),
      ...(r.lr !== undefined ? { lr: r.lr } : {}),
      ...(r.momentum !== undefined ? { momentum: r.momentum } : {}),
      ...(r.nesterov ? { nesterov: true } : {}),
      ...(r.weightDecay !== undefined ? { weightDecay: r.weightDecay } : {}),
      ...(r.schedule ? { schedule: parseSchedule(r.schedule) } : {}),
    },
    ...trainingOf({ ...r, epochs: r.epochs ?? DEFAULT_EPOCHS }),
    onDivergence: r.onDivergence,
    maxSkips: r.maxSkips,
  };
}

type InitFrom = { run: string; epoch: number };
export type TrainStart = {
  run: Run;
  config: TrainConfig & { initFrom?: InitFrom };
  /** Weights to start from (a run started --from another run's checkpoint). */
  initialParams?: Params;
  resume: boolean;
};

/** The weights of `from`, checked against the model of `config`. */
function initialWeights(config: TrainConfig, from: InitFrom, runsRoot?: string): Params {
  const source = Run.open(from.run, runsRoot);
  const loaded = loadParamsFromCheckpoint(source, from.epoch);
  const probe = createModel(config.model).init(keyFromSeed(0));
  try {
    assertSameStructure(probe, loaded, `${source.id} epoch ${from.epoch}`);
  } finally {
    treeDispose(probe);
  }
  return loaded;
}

/** A new run, fresh or (`from`) starting from another run's checkpoint with that run's model. */
function createTrainRun(r: TrainRequestFields): TrainStart {
  const req = trainRequestOf(r);
  let from: InitFrom | undefined;
  if (r.from) {
    const source = Run.open(r.from, r.runs);
    const sourceConfig = source.config<TrainConfig>();
    if (sourceConfig.command !== "train") throw new UsageError(`run ${source.id} is not a training run`);
    readTrainRunConfig(source.dir);
    const epoch = r.fromEpoch ?? source.epochCheckpoints().at(-1);
    if (epoch === undefined || !source.epochCheckpoints().includes(epoch))
      throw new UsageError(`run ${source.id} has no checkpoint${epoch ? ` for epoch ${epoch}` : ""}`);
    from = { run: source.dir, epoch };
    req.model = sourceConfig.model.name;
    req.modelOptions = { ...sourceConfig.model };
    req.normalize = sourceConfig.data.normalize;
  }
  const config: TrainStart["config"] = { ...resolveTrainConfig(req), ...(from ? { initFrom: from } : {}) };
  const initialParams = from ? initialWeights(config, from, r.runs) : undefined;
  checkFashionMnist(config.data.dataDir); // before the run exists: a missing folder leaves no failed run
  const run = Run.create(r.runs ?? defaultRunsRoot(), config.id, config);
  return { run, config, initialParams, resume: false };
}

/** An interrupted run; one started `from` another that has no checkpoint yet starts from its source again. */
function reopenTrainRun(dir: string, runsRoot?: string): TrainStart {
  const run = Run.openForWriting(dir, runsRoot);
  const config = run.config<TrainStart["config"]>();
  if (config.command !== "train") throw new UsageError(`run ${run.id} is not a training run`);
  if (typeof config.model?.name !== "string" || typeof config.optimizer?.name !== "string")
    throw new RunStoreError(`${run.path("config.json")}: no model or optimiser in it, cannot resume`);
  // Wrong types would otherwise surface deep in the engine (a failed free of a NaN pointer).
  readTrainRunConfig(run.dir);
  const initialParams =
    config.initFrom && run.epochCheckpoints().length === 0
      ? initialWeights(config, config.initFrom, runsRoot)
      : undefined;
  return { run, config, initialParams, resume: true };
}

/**
 * Carries out a validated `train` request: creates its run (or reopens `resume`), trains with the
 * dynamics recorder the request asks for, and leaves the run consistent whatever happens. `onStart`
 * sees the run before the first step (the CLI prints it; a sweep records it).
 */
export async function trainFromRequest(
  r: TrainRequestFields,
  opts: { callbacks?: TrainCallbacks; signal?: AbortSignal; onStart?: (start: TrainStart) => void } = {},
): Promise<{ run: Run; result: TrainResult; config: TrainConfig }> {
  await startEngine();
  const start = r.resume ? reopenTrainRun(r.resume, r.runs) : createTrainRun(r);
  // A resumed run may find its data elsewhere (another machine); the data itself is the config's.
  if (r.resume && r.dataDir) start.config.data = { ...start.config.data, dataDir: r.dataDir };
  // --epochs given with a resume can only raise the total.
  if (r.resume && r.epochs !== undefined && r.epochs > start.config.epochs) {
    start.config.epochs = r.epochs;
    start.run.writeJson("config.json", start.config);
  }
  opts.onStart?.(start);
  const { run, config, initialParams, resume } = start;
  // Bad data or a corrupt checkpoint found after the run directory exists marks the run failed.
  const result = await run.failOnError(() => {
    const dataset = loadDataFor(config);
    const recorder =
      r.dynamics === "off"
        ? null
        : createDynamicsRecorder({
            run,
            model: createModel(config.model),
            every: r.dynamics,
            probe: evaluationSubset(dataset.train, Math.min(512, dataset.train.n)),
          });
    const callbacks = opts.callbacks ?? {};
    return train(config, dataset, run, {
      resume,
      callbacks: recorder ? mergeCallbacks(callbacks, recorder) : callbacks,
      signal: opts.signal,
      initialParams,
    }).finally(() => recorder?.dispose());
  });
  return { run, result, config };
}
