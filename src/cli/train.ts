import { Command, Option } from "commander";
import { ACTIVATIONS } from "../nn/activations.js";
import { MODELS } from "../nn/models/index.js";
import {
  OPTIMIZERS,
  optimizerConfig,
  parseParamPairs,
  parseSchedule,
  type OptimizerConfig,
} from "../optim/index.js";
import { loadDataFor, resolveTrainConfig, type TrainRequest } from "../train/session.js";
import { loadParamsFromCheckpoint, train, type TrainCallbacks } from "../train/loop.js";
import { DEFAULT_MAX_SKIPS, type TrainConfig } from "../train/config.js";
import { createDynamicsRecorder, mergeCallbacks } from "../train/dynamics.js";
import { startEngine } from "../engine/device.js";
import { keyFromSeed } from "../engine/prng.js";
import { assertSameStructure, treeDispose, type Params } from "../engine/tree.js";
import { createModel } from "../nn/models/index.js";
import { defaultRunsRoot, Run, RunStoreError } from "../runs/store.js";
import { evaluationSubset } from "../landscape/objective.js";
import { UsageError } from "../errors.js";
import { checkFashionMnist } from "../data/fashion-mnist.js";
import { writeRunReport } from "../report/run-report.js";
import {
  intList,
  nonNegativeInt,
  nonNegativeNumber,
  positiveInt,
  positiveNumber,
  unitInterval,
} from "./errors.js";
import { createProgress } from "./progress.js";
import { biasRule, initName } from "./init.js";
import type { BiasInit } from "../init/registry.js";
import { interruptSignal } from "./signals.js";

type TrainOptions = {
  model: string;
  dataset: string;
  hidden?: number[];
  channels?: number[];
  dense?: number;
  activation?: string;
  init?: string;
  biasInit?: BiasInit;
  zeroInitLast?: boolean;
  optimizer: OptimizerConfig["name"];
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  param: string[];
  schedule?: string;
  epochs: number;
  batchSize: number;
  seed: number;
  limit?: number;
  normalize: "standardize" | "scale";
  dataDir?: string;
  out?: string;
  name?: string;
  resume?: string;
  from?: string;
  fromEpoch?: number;
  dynamics: "epoch" | "step" | "off";
  logEvery: number;
  onDivergence: "stop" | "skip";
  maxSkips?: number;
  report: boolean;
  quiet?: boolean;
};

export function trainCommand(): Command {
  return new Command("train")
    .description("Train a model on Fashion-MNIST; every epoch is logged and checkpointed in a run directory.")
    .addOption(new Option("--model <name>", "model to train").choices(MODELS).default("mlp"))
    .addOption(new Option("--dataset <name>", "dataset").choices(["fashion-mnist"]).default("fashion-mnist"))
    .option("--hidden <sizes>", "mlp hidden layer sizes, comma-separated (default 512,64)", intList)
    .option("--channels <sizes>", "cnn conv channels per block (default 32,64)", intList)
    .option("--dense <n>", "cnn dense layer width (default 256)", positiveInt)
    .addOption(
      new Option("--activation <name>", "activation (default relu; gelu for vit)").choices(ACTIVATIONS),
    )
    .option(
      "--init <name>",
      "weight initialiser (tiller init list; default torch_default, PyTorch's)",
      initName,
    )
    .option(
      "--bias-init <rule>",
      "biases: zeros, torch_default or a number (default zeros with --init)",
      biasRule,
    )
    .option("--zero-init-last", "start the last projection (classifier head) at zero")
    .addOption(new Option("--optimizer <name>", "optimiser").choices(OPTIMIZERS).default("adam"))
    .option(
      "--lr <x>",
      "learning rate (default per optimiser: 0.01 sgd, 1e-3 adam, 1e-4 lion, …)",
      positiveNumber,
    )
    .option("--momentum <x>", "sgd momentum in [0, 1)", unitInterval)
    .option("--nesterov", "sgd: Nesterov momentum")
    .option("--weight-decay <x>", "weight decay (L2 for sgd/adam, decoupled for adamw)", nonNegativeNumber)
    .option(
      "--param <key=value>",
      "optimiser hyper-parameter, repeatable (e.g. b1=0.9, rho=0.04, every=10, centered=true, clipNorm=1)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option(
      "--schedule <spec>",
      "learning-rate schedule, e.g. cosine:steps=2000 or warmup-cosine:warmup=100,steps=2000",
    )
    .option("--epochs <n>", "epochs", positiveInt, 3)
    .option("--batch-size <n>", "batch size", positiveInt, 256)
    .option("--seed <n>", "seed for init and data order", nonNegativeInt, 0)
    .option("--limit <n>", "use only the first N training images (quick runs)", positiveInt)
    .addOption(
      new Option("--normalize <how>", "input scaling")
        .choices(["standardize", "scale"])
        .default("standardize"),
    )
    .option(
      "--data-dir <dir>",
      "folder with the Fashion-MNIST IDX files (default $TILLER_DATA or /usr/share/datasets/fashion-mnist)",
    )
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--name <id>", "run id (default: timestamp-model-optimizer-xxxx)")
    .option("--resume <run>", "continue an interrupted run (id or directory) from its last checkpoint")
    .option(
      "--from <run>",
      "start from a trained run's weights (its model; fresh optimiser): continue training a loaded model",
    )
    .option("--from-epoch <n>", "with --from: which checkpoint (default: the last)", positiveInt)
    .addOption(
      new Option(
        "--dynamics <every>",
        "record training dynamics to dynamics.jsonl (tiller dynamics draws them)",
      )
        .choices(["epoch", "step", "off"])
        .default("epoch"),
    )
    .option("--log-every <n>", "write a step line to metrics.jsonl every N steps", positiveInt, 10)
    .addOption(
      new Option(
        "--on-divergence <what>",
        "a step with NaN/Inf loss or gradient norm: stop the run (diverged), or skip it unapplied",
      )
        .choices(["stop", "skip"])
        .default("stop"),
    )
    .option(
      "--max-skips <n>",
      `with --on-divergence skip: more skipped steps than this stop the run (default ${DEFAULT_MAX_SKIPS})`,
      nonNegativeInt,
    )
    .option("--no-report", "do not write report.html at the end")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller train                                        # MLP 784-512-64-10, Adam 1e-3, 3 epochs
  $ tiller train --model mlp --hidden 512,64 --optimizer adam --lr 1e-3 --epochs 3 --batch-size 256
  $ tiller train --model cnn --epochs 3                 # conv 32 → pool → conv 64 → pool → dense 256
  $ tiller train --optimizer sgd --lr 0.05 --momentum 0.9 --limit 2000 --epochs 2
  $ tiller train --optimizer lion --lr 1e-4 --param weightDecay=0.1 --schedule cosine:steps=700
  $ tiller train --optimizer sophiag --param rho=0.04 --param every=10
  $ tiller train --init kaiming_normal --activation prelu --zero-init-last
  $ tiller train --resume runs/<id>                     # after Ctrl-C or a crash
  $ tiller train --from runs/<id> --optimizer adam --lr 1e-3 --epochs 20 --dynamics epoch
                                                        # continue a trained model; then: tiller dynamics <new run>

The run directory holds config.json, status.json, metrics.jsonl, checkpoints/ and report.html.`,
    )
    .action(async (o: TrainOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      const callbacks: TrainCallbacks = {
        onStart: ({ startEpoch, epochs }) => {
          if (startEpoch > epochs) progress.log("Nothing to do: all epochs are already done.");
        },
        onSkip: (e) => progress.log(`step ${e.step} skipped (${e.skips}): ${e.reason}`),
        onStep: (e) => {
          if (e.stepInEpoch === 1) progress.start(total, `epoch ${e.epoch}`);
          progress.update(e.stepInEpoch, { loss: e.loss.toFixed(4) });
        },
        onEpoch: (e) =>
          progress.stop(
            `epoch ${e.epoch}: train loss ${e.train_loss.toFixed(4)} acc ${(100 * e.train_accuracy).toFixed(2)}% · ` +
              `test loss ${e.test_loss.toFixed(4)} acc ${(100 * e.test_accuracy).toFixed(2)}% · ${e.elapsed_s.toFixed(1)} s`,
          ),
      };
      let total = 0;
      const wrapped: TrainCallbacks = {
        ...callbacks,
        onStart: (info) => {
          total = info.stepsPerEpoch;
          callbacks.onStart?.(info);
        },
      };
      if (o.maxSkips !== undefined && o.onDivergence !== "skip")
        throw new UsageError("--max-skips applies to --on-divergence skip");
      if (o.resume && (o.onDivergence !== "stop" || o.maxSkips !== undefined))
        throw new UsageError("--on-divergence and --max-skips come from the run's config on --resume");
      await startEngine();
      const { run, config, initialParams } = o.resume ? reopen(o) : await create(o);
      // Bad data or a corrupt checkpoint found after the run directory exists marks the run failed.
      const result = await run.failOnError(() => {
        const dataset = loadDataFor(config);
        const recorder =
          o.dynamics === "off"
            ? null
            : createDynamicsRecorder({
                run,
                model: createModel(config.model),
                every: o.dynamics,
                probe: evaluationSubset(dataset.train, Math.min(512, dataset.train.n)),
              });
        return train(config, dataset, run, {
          resume: Boolean(o.resume),
          callbacks: recorder ? mergeCallbacks(wrapped, recorder) : wrapped,
          signal,
          initialParams,
        }).finally(() => recorder?.dispose());
      });
      progress.stop();
      process.stdout.write(
        `run: ${run.dir}\nstatus: ${result.status}${result.reason ? ` (${result.reason})` : ""}\n`,
      );
      if (o.report) process.stdout.write(`report: ${await writeRunReport(run.dir)}\n`);
      if (result.status === "diverged") process.exitCode = 1;
      if (result.status === "interrupted") process.exitCode = 130;
    });
}

type InitFrom = { run: string; epoch: number };
type Started = { run: Run; config: TrainConfig & { initFrom?: InitFrom }; initialParams?: Params };

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

/** A new run, fresh or (--from) starting from another run's checkpoint with that run's model. */
async function create(o: TrainOptions): Promise<Started> {
  const req = toRequest(o);
  let from: InitFrom | undefined;
  if (o.from) {
    const source = Run.open(o.from, o.out);
    const sourceConfig = source.config<TrainConfig>();
    if (sourceConfig.command !== "train") throw new UsageError(`run ${source.id} is not a training run`);
    const epoch = o.fromEpoch ?? source.epochCheckpoints().at(-1);
    if (epoch === undefined || !source.epochCheckpoints().includes(epoch))
      throw new UsageError(`run ${source.id} has no checkpoint${epoch ? ` for epoch ${epoch}` : ""}`);
    from = { run: source.dir, epoch };
    req.model = sourceConfig.model.name;
    req.modelOptions = { ...sourceConfig.model };
    req.normalize = sourceConfig.data.normalize;
  } else if (o.fromEpoch) throw new UsageError("--from-epoch needs --from <run>");
  const config: Started["config"] = { ...resolveTrainConfig(req), ...(from ? { initFrom: from } : {}) };
  const initialParams = from ? initialWeights(config, from, o.out) : undefined;
  checkFashionMnist(config.data.dataDir); // before the run exists: a missing folder leaves no failed run
  const run = Run.create(req.runsRoot ?? defaultRunsRoot(), config.id, config);
  return { run, config, initialParams };
}

/** An interrupted run; one started --from that has no checkpoint yet starts from its source again. */
function reopen(o: TrainOptions): Started {
  const run = Run.open(o.resume!, o.out);
  const config = run.config<Started["config"]>();
  if (config.command !== "train") throw new UsageError(`run ${run.id} is not a training run`);
  if (typeof config.model?.name !== "string" || typeof config.optimizer?.name !== "string")
    throw new RunStoreError(`${run.path("config.json")}: no model or optimiser in it, cannot resume`);
  const initialParams =
    config.initFrom && run.epochCheckpoints().length === 0
      ? initialWeights(config, config.initFrom, o.out)
      : undefined;
  return { run, config, initialParams };
}

function toRequest(o: TrainOptions): TrainRequest {
  return {
    model: o.model,
    modelOptions: {
      hidden: o.hidden,
      channels: o.channels,
      dense: o.dense,
      activation: o.activation,
      init: o.init,
      biasInit: o.biasInit,
      zeroInitLast: o.zeroInitLast,
    },
    optimizer: {
      ...optimizerConfig(o.optimizer, parseParamPairs(o.param)),
      ...(o.lr !== undefined ? { lr: o.lr } : {}),
      ...(o.momentum !== undefined ? { momentum: o.momentum } : {}),
      ...(o.nesterov ? { nesterov: true } : {}),
      ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}),
      ...(o.schedule ? { schedule: parseSchedule(o.schedule) } : {}),
    },
    epochs: o.epochs,
    batchSize: o.batchSize,
    seed: o.seed,
    limit: o.limit ?? null,
    normalize: o.normalize,
    dataDir: o.dataDir,
    runsRoot: o.out,
    name: o.name,
    logEvery: o.logEvery,
    onDivergence: o.onDivergence,
    maxSkips: o.maxSkips,
  };
}
