/**
 * `tiller ct …`: Curvature Tuning (Hu, Gamba & Balestriero 2025) on trained runs — pretrain a
 * source model, search β, compare transfer methods, measure robustness, draw the figures.
 * Parsing, progress and printing only; the science is in src/steer/ct/.
 */
import { Command, Option } from "commander";
import { MODELS } from "../nn/models/index.js";
import { intList, nonNegativeInt, positiveInt, positiveNumber, UsageError } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";
import { pretrain } from "../steer/ct/pretrain.js";
import { parseBetaGrid } from "../steer/ct/search.js";
import { parseTask } from "../data/subsets.js";
import { InvalidArgumentError } from "commander";

/** An option value in [0, 1] (c, fractions). */
function closedUnit(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1)
    throw new InvalidArgumentError(`expected a number in [0, 1], got "${value}"`);
  return n;
}

function betaGrid(value: string): number[] {
  try {
    return parseBetaGrid(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function taskName(value: string): string {
  try {
    parseTask(value);
    return value;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function ctCommand(): Command {
  const ct = new Command("ct")
    .description(
      "Curvature Tuning: steer a trained ReLU model by replacing every ReLU with CTU(β, c) — training-free β search, trainable CT, transfer comparison and robustness.",
    )
    .addHelpText(
      "after",
      `
CTU_{β,c}(x) = c·σ(βx/(1−β))·x + (1−c)·softplus(x/(1−β))·(1−β); β = 1 is ReLU exactly.

Examples:
  $ tiller ct pretrain --task fashion-mnist:0-4 --model cnn --epochs 3 --name src-cnn
  $ tiller ct search --run src-cnn --dataset fashion-mnist:5-9 --betas 0.7:1:0.01
  $ tiller ct compare --run src-cnn --dataset fashion-mnist:5-9
  $ tiller ct robustness --run <fashion-mnist run> --betas 0.7:1:0.02
  $ tiller ct figure --out docs/figures`,
    );
  ct.addCommand(pretrainCommand());
  return ct;
}

type PretrainOptions = {
  task: string;
  model: string;
  hidden?: number[];
  channels?: number[];
  dense?: number;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  limit?: number;
  dataDir?: string;
  out?: string;
  name?: string;
  quiet?: boolean;
};

function pretrainCommand(): Command {
  return new Command("pretrain")
    .description(
      "Train a source model on a task (e.g. Fashion-MNIST classes 0–4) with the ordinary training loop.",
    )
    .option(
      "--task <name>",
      "source task: fashion-mnist, fashion-mnist:0-4, …",
      taskName,
      "fashion-mnist:0-4",
    )
    .addOption(new Option("--model <name>", "model").choices(MODELS).default("cnn"))
    .option("--hidden <sizes>", "mlp hidden sizes (default 512,64)", intList)
    .option("--channels <sizes>", "cnn/resnet channels per block or stage", intList)
    .option("--dense <n>", "cnn dense width (default 256)", positiveInt)
    .option("--epochs <n>", "epochs", positiveInt, 3)
    .option("--batch-size <n>", "batch size", positiveInt, 128)
    .option("--lr <x>", "Adam learning rate", positiveNumber, 1e-3)
    .option("--seed <n>", "seed", nonNegativeInt, 0)
    .option("--limit <n>", "use only the first N training images of the task", positiveInt)
    .option("--data-dir <dir>", "folder with the Fashion-MNIST IDX files")
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--name <id>", "run id")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct pretrain --task fashion-mnist:0-4 --model cnn --channels 16,32 --dense 128 --epochs 3 --name src-cnn
  $ tiller ct pretrain --task fashion-mnist:0-4 --model mlp --epochs 5 --name src-mlp

The run is an ordinary training run (config.json, metrics, checkpoints); its config names the task.`,
    )
    .action(async (o: PretrainOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      let total = 0;
      const { run, result } = await pretrain(
        {
          task: o.task,
          model: o.model,
          modelOptions: { hidden: o.hidden, channels: o.channels, dense: o.dense, activation: "relu" },
          optimizer: { name: "adam", lr: o.lr },
          epochs: o.epochs,
          batchSize: o.batchSize,
          seed: o.seed,
          limit: o.limit ?? null,
          dataDir: o.dataDir,
          runsRoot: o.out,
          name: o.name,
        },
        {
          signal,
          callbacks: {
            onStart: (i) => (total = i.stepsPerEpoch),
            onStep: (e) => {
              if (e.stepInEpoch === 1) progress.start(total, `epoch ${e.epoch}`);
              progress.update(e.stepInEpoch, { loss: e.loss.toFixed(4) });
            },
            onEpoch: (e) =>
              progress.stop(
                `epoch ${e.epoch}: train acc ${(100 * e.train_accuracy).toFixed(2)}% · test acc ${(100 * e.test_accuracy).toFixed(2)}% · ${e.elapsed_s.toFixed(1)} s`,
              ),
          },
        },
      );
      process.stdout.write(
        `run: ${run.dir}\nstatus: ${result.status}${result.reason ? ` (${result.reason})` : ""}\n`,
      );
      if (result.status !== "done") process.exitCode = result.status === "interrupted" ? 130 : 1;
    });
}

export { UsageError };
