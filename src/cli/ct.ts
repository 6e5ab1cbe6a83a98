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
import {
  compareTable,
  robustnessTable,
  runCompare,
  runFigure,
  runRobustness,
  runSearch,
} from "../steer/ct/session.js";
import { METHODS, type MethodName } from "../steer/ct/compare.js";
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
  ct.addCommand(searchCommand());
  ct.addCommand(compareCommand());
  ct.addCommand(robustnessCommand());
  ct.addCommand(figureCommand());
  return ct;
}

type FigureOptions = {
  betas: number[];
  steps: number;
  seed: number;
  save?: string;
  out?: string;
  name?: string;
  quiet?: boolean;
};

function figureCommand(): Command {
  return new Command("figure")
    .description(
      "Draw CTU for several β, and a 1-D regression fit and a 2-D decision boundary getting smoother as β decreases (synthetic data).",
    )
    .option("--betas <list>", "β values, one column each (β = 1 is ReLU)", betaGrid, [0.5, 0.7, 0.9, 1])
    .option("--steps <n>", "Adam steps for each toy MLP", positiveInt, 1500)
    .option("--seed <n>", "seed for the toy data and models", nonNegativeInt, 0)
    .option(
      "--save <file>",
      "also write the figure here: SVG, or PNG when the name ends in .png (e.g. docs/figures/ctu.png)",
    )
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--name <id>", "id of the result run")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct figure                                   # runs/<id>/figures/ctu.svg
  $ tiller ct figure --save docs/figures/ctu.png       # the README's figure
  $ tiller ct figure --betas 0.3,0.6,0.9,1 --steps 3000`,
    )
    .action(async (o: FigureOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      progress.log("training two toy MLPs with ReLU, then replacing their ReLUs by CTU(β)…");
      const { run, file } = await runFigure({
        betas: [...o.betas].sort((a, b) => b - a),
        steps: o.steps,
        seed: o.seed,
        save: o.save,
        runsRoot: o.out,
        name: o.name,
      });
      process.stdout.write(`figure: ${file}\n${o.save ? `saved: ${o.save}\n` : ""}run: ${run.dir}\n`);
    });
}

type RobustnessCliOptions = {
  run: string;
  betas: number[];
  c: number;
  n: number;
  pgdSteps: number;
  attacks: boolean;
  corruptions: boolean;
  seed: number;
  dataDir?: string;
  out?: string;
  name?: string;
  quiet?: boolean;
};

function robustnessCommand(): Command {
  return new Command("robustness")
    .description(
      "Accuracy under FGSM, PGD-ℓ∞, PGD-ℓ2 and common corruptions for each β; β chosen per threat on a validation split.",
    )
    .requiredOption("--run <run>", "the trained run (id or directory)")
    .option(
      "--betas <grid>",
      "β grid: start:stop:step or a list (β = 1 always included)",
      betaGrid,
      parseBetaGrid("0.7:1:0.02"),
    )
    .option("--c <x>", "CTU mixing coefficient c in [0, 1]", closedUnit, 0.5)
    .option(
      "--n <n>",
      "test images in the validation split and in the disjoint test split",
      positiveInt,
      1000,
    )
    .option("--pgd-steps <n>", "PGD iterations", positiveInt, 10)
    .option("--no-attacks", "skip FGSM and PGD")
    .option("--no-corruptions", "skip the corruptions")
    .option("--seed <n>", "seed for the split and the corruption noise", nonNegativeInt, 0)
    .option("--data-dir <dir>", "folder with the Fashion-MNIST IDX files")
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--name <id>", "id of the result run")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct robustness --run <fashion-mnist run>                         # β 0.7…1 by 0.02, 1000 + 1000 images
  $ tiller ct robustness --run <run> --betas 0.8,0.9,0.95 --no-corruptions --n 500
  $ tiller ct robustness --run <run> --pgd-steps 20

Threats: clean; FGSM ℓ∞ ε = 8/255; PGD ℓ∞ ε = 4/255 and 8/255; PGD ℓ2 ε = 0.5 (pixels in [0, 1], α = 2.5ε/steps,
no random start); Gaussian noise, shot noise, Gaussian blur, contrast, brightness at severities 1, 3, 5.
Training-free: weights never change. Writes results.json, table.md and figures/robust-accuracy-vs-beta.svg.`,
    )
    .action(async (o: RobustnessCliOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      progress.start(o.betas.length, "β sweep");
      const { run, rows, validation } = await runRobustness({
        run: o.run,
        runsRoot: o.out,
        dataDir: o.dataDir,
        betas: o.betas,
        c: o.c,
        n: o.n,
        pgdSteps: o.pgdSteps,
        attacks: o.attacks,
        corruptions: o.corruptions,
        seed: o.seed,
        name: o.name,
        onBeta: (beta, i) => progress.update(i + 1, { beta: String(beta) }),
      });
      progress.stop();
      process.stdout.write(
        `Training-free: every ReLU replaced by CTU(β, c = ${o.c}); no weight was changed.\nvalidation: ${validation}\n\n${robustnessTable(rows)}\nrun: ${run.dir}\n`,
      );
    });
}

type TaskOptions = {
  run: string;
  dataset?: string;
  limit?: number;
  testLimit?: number;
  val?: number;
  seed: number;
  dataDir?: string;
  out?: string;
  name?: string;
  quiet?: boolean;
};

/** Options every subcommand that reads a base run and a task shares. */
function withTaskOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--run <run>", "the trained run (id or directory) to steer")
    .option("--dataset <task>", "downstream task (default: the run's own task)", taskName)
    .option("--limit <n>", "use only the first N training images of the task", positiveInt)
    .option("--test-limit <n>", "use only the first N test images of the task", positiveInt)
    .option(
      "--val <n>",
      "validation examples held out (default: 1/6 of train for transfer, 2000 test images otherwise)",
      positiveInt,
    )
    .option("--seed <n>", "seed for the validation split, heads and noise", nonNegativeInt, 0)
    .option("--data-dir <dir>", "folder with the Fashion-MNIST IDX files")
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--name <id>", "id of the result run")
    .option("-q, --quiet", "no progress output");
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

type SearchOptions = TaskOptions & { betas: number[]; c: number; headSteps: number };

function searchCommand(): Command {
  return withTaskOptions(
    new Command("search").description(
      "Training-free CT: evaluate every β of a grid on a validation split, keep the best, report test accuracy of base vs CT.",
    ),
  )
    .option(
      "--betas <grid>",
      "β grid: start:stop:step or a list (β = 1 always included)",
      betaGrid,
      parseBetaGrid("0.7:1:0.01"),
    )
    .option("--c <x>", "CTU mixing coefficient c in [0, 1]", closedUnit, 0.5)
    .option(
      "--head-steps <n>",
      "transfer tasks: full-batch Adam steps of the new linear head per β",
      positiveInt,
      300,
    )
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct search --run src-cnn --dataset fashion-mnist:0-4+gaussian-blur@3      # same classes: no training at all
  $ tiller ct search --run src-cnn --dataset fashion-mnist:5-9 --betas 0.7:1:0.01   # other classes: linear probe per β
  $ tiller ct search --run <fashion-mnist run> --dataset fashion-mnist+contrast@4 --c 0.5

With the model's own classes nothing is trained: every ReLU becomes CTU(β, c), weights untouched.
With other classes the backbone stays frozen and a new linear head is fitted per β (the paper's
linear probe + CT). Writes results.json and figures/accuracy-vs-beta.svg into a run directory.`,
    )
    .action(async (o: SearchOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      progress.start(o.betas.length, "β search");
      const { run, result, splits } = await runSearch({
        ...taskRequest(o),
        betas: o.betas,
        c: o.c,
        head: { steps: o.headSteps },
        onBeta: (s, i) => progress.update(i + 1, { beta: String(s.beta), val: pct(s.valAccuracy) }),
      });
      progress.stop();
      const out = process.stdout;
      out.write(
        splits.mode === "direct"
          ? "Training-free: every ReLU replaced by CTU(β, c); no weight was changed.\n"
          : "Backbone weights unchanged (every ReLU replaced by CTU(β, c)); a new linear head was fitted per β (linear probe).\n",
      );
      out.write(`validation: ${splits.validation}\n`);
      out.write(
        `base (ReLU, β = 1): val ${pct(result.base.valAccuracy)} · test ${pct(result.base.testAccuracy)}\n`,
      );
      out.write(
        `CT (β = ${result.best.beta}, c = ${result.c}): val ${pct(result.best.valAccuracy)} · test ${pct(result.best.testAccuracy)}` +
          ` (${result.best.testAccuracy >= result.base.testAccuracy ? "+" : ""}${(100 * (result.best.testAccuracy - result.base.testAccuracy)).toFixed(2)} points)\n`,
      );
      out.write(`run: ${run.dir}\nfigure: ${run.path("figures", "accuracy-vs-beta.svg")}\n`);
    });
}

function taskRequest(o: TaskOptions) {
  return {
    run: o.run,
    dataset: o.dataset,
    runsRoot: o.out,
    dataDir: o.dataDir,
    limit: o.limit ?? null,
    testLimit: o.testLimit ?? null,
    val: o.val,
    seed: o.seed,
    name: o.name,
  };
}

type CompareCliOptions = TaskOptions & {
  betas: number[];
  c: number;
  headSteps: number;
  epochs: number;
  batchSize: number;
  loraRank: number;
  methods: MethodName[];
};

function methodList(value: string): MethodName[] {
  const parts = value.split(",").map((s) => s.trim());
  const bad = parts.filter((p) => !(METHODS as readonly string[]).includes(p));
  if (bad.length)
    throw new InvalidArgumentError(`unknown method(s) ${bad.join(", ")} (choose from ${METHODS.join(", ")})`);
  return parts as MethodName[];
}

function compareCommand(): Command {
  return withTaskOptions(
    new Command("compare").description(
      "Transfer comparison: linear probe, linear probe + CT, trainable CT, LoRA and full fine-tuning on one downstream task.",
    ),
  )
    .option("--betas <grid>", "β grid for linear probe + CT", betaGrid, parseBetaGrid("0.7:1:0.01"))
    .option("--c <x>", "CTU mixing coefficient for the β search", closedUnit, 0.5)
    .option("--head-steps <n>", "full-batch Adam steps of each linear probe", positiveInt, 300)
    .option("--epochs <n>", "epochs of trainable CT, LoRA and full fine-tuning", positiveInt, 5)
    .option("--batch-size <n>", "batch size of trainable CT, LoRA and full fine-tuning", positiveInt, 128)
    .option("--lora-rank <n>", "LoRA rank", positiveInt, 1)
    .option("--methods <list>", `comma-separated subset of ${METHODS.join(",")}`, methodList, [...METHODS])
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct compare --run src-cnn --dataset fashion-mnist:5-9
  $ tiller ct compare --run src-cnn --dataset fashion-mnist:5-9 --betas 0.7:1:0.02 --epochs 3 --limit 10000
  $ tiller ct compare --run src-mlp --dataset fashion-mnist:5-9 --methods linear-probe,linear-probe-ct,trainable-ct

Every method chooses its epoch (or β) on the validation split and is scored on the task's test split.
Writes results.json and table.md (the table printed here) into a run directory.`,
    )
    .action(async (o: CompareCliOptions) => {
      const progress = createProgress({ quiet: o.quiet });
      let label = "";
      const { run, rows, splits } = await runCompare({
        ...taskRequest(o),
        betas: o.betas,
        c: o.c,
        head: { steps: o.headSteps },
        finetune: {
          epochs: o.epochs,
          batchSize: o.batchSize,
          onStep: (s) => {
            if (s.step === 1) progress.start(s.steps, `${label} epoch ${s.epoch}`);
            progress.update(s.step, { loss: s.loss.toFixed(4) });
          },
          onEpoch: (e) => progress.stop(`${label} epoch ${e.epoch}: val ${pct(e.valAccuracy)}`),
        },
        loraRank: o.loraRank,
        methods: o.methods,
        onMethod: (m) => {
          label = m;
          progress.log(`${m}…`);
          if (m.startsWith("linear probe")) progress.start(o.betas.length, "β search");
        },
        onBeta: (s, i) => progress.update(i + 1, { beta: String(s.beta), val: pct(s.valAccuracy) }),
      });
      progress.stop();
      process.stdout.write(`validation: ${splits.validation}\n\n${compareTable(rows)}\nrun: ${run.dir}\n`);
    });
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
