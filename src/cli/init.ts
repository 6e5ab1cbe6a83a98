import { Command, InvalidArgumentError, Option } from "commander";
import { initializerByName, INIT_NAMES, canonicalInitName, type BiasInit } from "../init/registry.js";
import { ACTIVATIONS } from "../nn/activations.js";
import { MODELS } from "../nn/models/index.js";
import { OPTIMIZERS, type OptimizerConfig } from "../optim/index.js";
import { compareInits, formatTable, type InitCompareRequest } from "../train/init-compare.js";
import { UsageError } from "../errors.js";
import { intList, nonNegativeInt, positiveInt, positiveNumber, unitInterval, oneOf } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";
import { RUNS_HELP } from "./dialect.js";

const BOOK_INITS = "lecun,xavier_normal,kaiming_normal,orthogonal,scaled_orthogonal,l_momentum";

type CompareOptions = {
  model: string;
  hidden?: number[];
  channels?: number[];
  dense?: number;
  activation?: string;
  inits: string[];
  biasInit?: BiasInit;
  zeroInitLast?: boolean;
  initMode?: "fan_in" | "fan_out";
  initGain?: number;
  initScale?: number;
  initAlpha?: number;
  optimizer: OptimizerConfig["name"];
  lr: number;
  momentum?: number;
  epochs: number;
  batchSize: number;
  seed: number;
  limit?: number;
  normalize: "standardize" | "scale";
  dataDir?: string;
  runs?: string;
  name?: string;
  logEvery: number;
  quiet?: boolean;
};

function initList(value: string): string[] {
  const names = value.split(",").map((s) => s.trim());
  try {
    return names.map(canonicalInitName);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Commander parser for a bias rule: zeros, torch_default or a number. */
export function biasRule(value: string): BiasInit {
  if (value === "zeros" || value === "torch_default") return value;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected zeros, torch_default or a number, got "${value}"`);
  return n;
}

export function initCommand(): Command {
  const init = new Command("init").description(
    "Weight initialisers: list them, or compare them by training the same model from each.",
  );
  init.addCommand(
    new Command("list").description("List the initialisers with their formulas.").action(() => {
      const shape = [64, 32, 3, 3];
      for (const name of INIT_NAMES)
        process.stdout.write(
          `${name.padEnd(18)} ${initializerByName(name, { nonlinearity: "relu" }).formula}\n`,
        );
      process.stdout.write(
        `\nFans follow PyTorch: a [out, in, kh, kw] kernel has fan_in = in·kh·kw, fan_out = out·kh·kw (e.g. [${shape}] → 288, 576).\n` +
          "kaiming_* take the gain of the model's activation (ReLU √2, PReLU/LeakyReLU √(2/(1+a²)), tanh 5/3).\n",
      );
    }),
  );
  init.addCommand(compareCommand());
  return init;
}

function compareCommand(): Command {
  return new Command("compare")
    .description(
      "Train one model per initialiser (same seed, data order and optimiser) and tabulate error rate, " +
        "convergence speed and the weight spectra at init.",
    )
    .addOption(new Option("--model <name>", "model").choices(MODELS).default("mlp"))
    .option("--hidden <sizes>", "mlp hidden layer sizes (default 512,64)", intList)
    .option("--channels <sizes>", "cnn/resnet channels per stage", intList)
    .option("--dense <n>", "cnn dense layer width", positiveInt)
    .addOption(
      new Option("--activation <name>", "activation (default relu; gelu for vit)").choices(ACTIVATIONS),
    )
    .option(
      "--inits <names>",
      "initialisers to compare, comma-separated (tiller init list)",
      initList,
      initList(BOOK_INITS),
    )
    .option("--bias-init <rule>", "biases: zeros, torch_default or a number (default zeros)", biasRule)
    .option("--zero-init-last", "start the last projection (classifier head) at zero")
    .option(
      "--init-mode <mode>",
      "kaiming_*: fan_in (default) or fan_out",
      oneOf(["fan_in", "fan_out"] as const),
    )
    .option("--init-gain <x>", "xavier_*/orthogonal gain (default 1)", positiveNumber)
    .option("--init-scale <x>", "scaled_orthogonal scale (default √(2/fan_in))", positiveNumber)
    .option("--init-alpha <x>", "l_momentum target mean of w² (default momentum², 0.81)", positiveNumber)
    .addOption(new Option("--optimizer <name>", "optimiser").choices(OPTIMIZERS).default("sgd"))
    .option("--lr <x>", "learning rate", positiveNumber, 0.01)
    .option("--momentum <x>", "momentum for sgd (default 0.9)", unitInterval)
    .option("--epochs <n>", "epochs per method", positiveInt, 3)
    .option("--batch-size <n>", "batch size", positiveInt, 256)
    .option("--seed <n>", "seed for init and data order (the same for every method)", nonNegativeInt, 0)
    .option("--limit <n>", "use only the first N training images (quick runs)", positiveInt)
    .addOption(
      new Option("--normalize <how>", "input scaling")
        .choices(["standardize", "scale"])
        .default("standardize"),
    )
    .option("--data-dir <dir>", "folder with the Fashion-MNIST IDX files")
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "run id (default: timestamp-init-compare-model-xxxx)")
    .option(
      "--log-every <n>",
      "write a step line to each method's metrics.jsonl every N steps",
      positiveInt,
      10,
    )
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller init compare --model mlp --activation prelu --inits ${BOOK_INITS} --epochs 3
  $ tiller init compare --inits kaiming_normal,kaiming_uniform --init-mode fan_out --limit 5000 --epochs 1
  $ tiller init compare --model cnn --inits torch_default,orthogonal --optimizer adam --lr 1e-3
  $ tiller init list

Columns:
  Error Rate %              100·(1 − test accuracy) after the last epoch
  Convergence Speed         epochs until the training loss (trailing mean over 5% of an epoch) first
                            covers 90% of its drop from the first step to the end; smaller is faster
  Average Condition Number  mean over weight matrices of σmax/σmin at init
  Spectral Norm             mean over weight matrices of σmax at init
  Effective Rank Ratio      mean over weight matrices of exp(H(σ/Σσ))/min(rows, cols) at init
  Execution Time s          wall time of the method's training
A method whose loss becomes NaN/Inf is marked diverged and shows nan; the others still run.
Default optimiser: SGD, lr 0.01, momentum 0.9 (L-Momentum's α = 0.9² = 0.81).
The run directory holds table.csv, table.json, spectra.json, curves.json, figures/, report.html
and one training run per method under methods/.`,
    )
    .action(async (o: CompareOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      let total = 0;
      let method = "";
      const { run, rows, status } = await compareInits(toRequest(o), {
        signal,
        callbacks: {
          onMethodStart: (m) => {
            method = m.method;
            progress.log(`[${m.index + 1}/${m.count}] ${m.method}`);
          },
          onMethodEnd: (r) =>
            progress.log(
              r.status === "diverged"
                ? `${r.method}: diverged at step ${r.divergedAtStep} (${r.reason})`
                : `${r.method}: ${r.status}, error ${r.errorRate.toFixed(2)}%, ${r.executionTime.toFixed(1)} s`,
            ),
          train: {
            onStart: (info) => (total = info.stepsPerEpoch),
            onStep: (e) => {
              if (e.stepInEpoch === 1) progress.start(total, `${method} epoch ${e.epoch}`);
              progress.update(e.stepInEpoch, { loss: e.loss.toFixed(4) });
            },
            onEpoch: (e) =>
              progress.stop(
                `  epoch ${e.epoch}: train loss ${e.train_loss.toFixed(4)} · test acc ${(100 * e.test_accuracy).toFixed(2)}% · ${e.elapsed_s.toFixed(1)} s`,
              ),
          },
        },
      });
      progress.stop();
      process.stdout.write(`\n${formatTable(rows)}\n\n`);
      process.stdout.write(
        `run: ${run.dir}\ntable: ${run.path("table.csv")}\nreport: ${run.path("report.html")}\n`,
      );
      // As optim compare: a diverged row is a failure the exit code reports.
      if (rows.some((r) => r.status === "diverged")) process.exitCode = 1;
      if (status === "interrupted") process.exitCode = 130;
    });
}

function toRequest(o: CompareOptions): InitCompareRequest {
  if (o.momentum !== undefined && !["sgd", "momentum", "nesterov", "rmsprop"].includes(o.optimizer))
    throw new UsageError(`--momentum applies to sgd, not ${o.optimizer}`);
  const initOptions = { mode: o.initMode, gain: o.initGain, scale: o.initScale, alpha: o.initAlpha };
  return {
    model: o.model,
    modelOptions: {
      hidden: o.hidden,
      channels: o.channels,
      dense: o.dense,
      activation: o.activation,
      biasInit: o.biasInit,
      zeroInitLast: o.zeroInitLast,
      initOptions: Object.fromEntries(Object.entries(initOptions).filter(([, v]) => v !== undefined)),
    },
    inits: o.inits,
    optimizer: {
      name: o.optimizer,
      lr: o.lr,
      ...(o.optimizer === "sgd" ? { momentum: o.momentum ?? 0.9 } : {}),
      ...(o.momentum !== undefined && o.optimizer !== "sgd" ? { momentum: o.momentum } : {}),
    } as OptimizerConfig,
    epochs: o.epochs,
    batchSize: o.batchSize,
    seed: o.seed,
    limit: o.limit ?? null,
    normalize: o.normalize,
    dataDir: o.dataDir,
    runsRoot: o.runs,
    name: o.name,
    logEvery: o.logEvery,
  };
}
