/**
 * `tiller ct …`: Curvature Tuning (Hu, Gamba & Balestriero 2025) on trained runs — pretrain a
 * source model, search β, compare transfer methods, measure robustness, draw the figures.
 * Parsing, progress and printing only; the science is in src/steer/ct/.
 */
import { Command, InvalidArgumentError } from "commander";
import { nonNegativeInt, positiveInt } from "./errors.js";
import { createProgress } from "./progress.js";
import { compareProgress } from "../steer/ct/progress.js";
import { interruptSignal } from "./signals.js";
import { pretrain, pretrainRequestOf } from "../steer/ct/pretrain.js";
import { parseBetaGrid } from "../steer/ct/search.js";
import {
  compareRequestOf,
  compareTable,
  robustnessRequestOf,
  robustnessTable,
  runCompare,
  runFigure,
  runRobustness,
  runSearch,
  searchRequestOf,
} from "../steer/ct/session.js";
import { ctCompareRequest, ctPretrainRequest, ctRobustnessRequest, ctSearchRequest } from "../requests/ct.js";
import type { RequestDef } from "../requests/request.js";
import { RUNS_HELP } from "./dialect.js";
import { addRequestOptions, requestFromCommand } from "./request-options.js";
import { printResult } from "./output.js";

function betaGrid(value: string): number[] {
  try {
    return parseBetaGrid(value);
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
  $ tiller ct search src-cnn --task fashion-mnist:5-9 --betas 0.7:1:0.01
  $ tiller ct compare src-cnn --task fashion-mnist:5-9
  $ tiller ct robustness <fashion-mnist run> --betas 0.7:1:0.02
  $ tiller ct figure --save docs/figures/ctu.png`,
    );
  ct.addCommand(pretrainCommand());
  ct.addCommand(searchCommand());
  ct.addCommand(compareCommand());
  ct.addCommand(robustnessCommand());
  ct.addCommand(figureCommand());
  return ct;
}

type FigureOptions = {
  json?: boolean;
  betas: number[];
  steps: number;
  seed: number;
  save?: string;
  runs?: string;
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
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <id>", "id of the result run")
    .option("--json", "print the result as one JSON object")
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
        runsRoot: o.runs,
        name: o.name,
      });
      printResult(o.json, { run: run.dir, figure: file, saved: o.save ?? null }, [
        `figure: ${file}`,
        ...(o.save ? [`saved: ${o.save}`] : []),
        `run: ${run.dir}`,
      ]);
    });
}

function robustnessCommand(): Command {
  return addRequestOptions(
    new Command("robustness").description(ctRobustnessRequest.summary),
    ctRobustnessRequest,
  )
    .option("--json", "print the result rows as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct robustness <fashion-mnist run>                         # β 0.7…1 by 0.02, 1000 + 1000 images
  $ tiller ct robustness <run> --betas 0.8,0.9,0.95 --no-corruptions --n 500
  $ tiller ct robustness <run> --pgd-steps 20 --eps 1/255,2/255        # the paper's budgets

Threats: clean; FGSM ℓ∞ ε = 8/255; PGD ℓ∞ at each --eps (default 4/255, 8/255); PGD ℓ2 ε = 0.5 (pixels in [0, 1], α = 2.5ε/steps,
no random start); Gaussian noise, shot noise, Gaussian blur, contrast, brightness at severities 1, 3, 5.
Training-free: weights never change. Writes results.json and table.md after each β ("partial": true until the
last) and figures/robust-accuracy-vs-beta.svg at the end.`,
    )
    .action(async (...args: unknown[]) => {
      const self = args.at(-1) as Command;
      const { request } = requestFromCommand(self, ctRobustnessRequest);
      const o = self.opts<Presentation>();
      const progress = createProgress({ quiet: o.quiet || o.json });
      progress.start(request.betas.length, "β sweep", "β");
      const { run, rows, validation } = await runRobustness({
        ...robustnessRequestOf(request),
        onBeta: (beta, i) => progress.update(i + 1, { beta: String(beta) }),
      });
      progress.stop();
      printResult(o.json, { run: run.dir, validation, rows }, [
        `Training-free: every ReLU replaced by CTU(β, c = ${request.c}); no weight was changed.`,
        `validation: ${validation}`,
        "",
        `${robustnessTable(rows)}run: ${run.dir}`,
      ]);
    });
}

type Presentation = { quiet?: boolean; json?: boolean };

/** The command's validated request and its presentation flags (the action's last argument is the command). */
function parsed<D extends RequestDef>(args: unknown[], def: D) {
  const self = args.at(-1) as Command;
  return { request: requestFromCommand(self, def).request, o: self.opts<Presentation>() };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

function searchCommand(): Command {
  return addRequestOptions(new Command("search").description(ctSearchRequest.summary), ctSearchRequest)
    .option("--json", "print the result as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct search src-cnn --task fashion-mnist:0-4+gaussian-blur@3      # same classes: no training at all
  $ tiller ct search src-cnn --task fashion-mnist:5-9 --betas 0.7:1:0.01   # other classes: linear probe per β
  $ tiller ct search <fashion-mnist run> --task fashion-mnist+contrast@4 --c 0.5

With the model's own classes nothing is trained: every ReLU becomes CTU(β, c), weights untouched.
With other classes the backbone stays frozen and a new linear head is fitted per β (the paper's
linear probe + CT). Writes results.json and figures/accuracy-vs-beta.svg into a run directory.`,
    )
    .action(async (...args: unknown[]) => {
      const { request, o } = parsed(args, ctSearchRequest);
      const progress = createProgress({ quiet: o.quiet || o.json });
      progress.start(request.betas.length, "β search", "β");
      const { run, result, splits } = await runSearch({
        ...searchRequestOf(request),
        onBeta: (s, i) => progress.update(i + 1, { beta: String(s.beta), val: pct(s.valAccuracy) }),
      });
      progress.stop();
      const figure = run.path("figures", "accuracy-vs-beta.svg");
      const gain = result.best.testAccuracy - result.base.testAccuracy;
      printResult(
        o.json,
        { run: run.dir, mode: splits.mode, validation: splits.validation, result, figure },
        [
          splits.mode === "direct"
            ? "Training-free: every ReLU replaced by CTU(β, c); no weight was changed."
            : "Backbone weights unchanged (every ReLU replaced by CTU(β, c)); a new linear head was fitted per β (linear probe).",
          `validation: ${splits.validation}`,
          `base (ReLU, β = 1): val ${pct(result.base.valAccuracy)} · test ${pct(result.base.testAccuracy)}`,
          `CT (β = ${result.best.beta}, c = ${result.c}): val ${pct(result.best.valAccuracy)} · test ${pct(result.best.testAccuracy)}` +
            ` (${gain >= 0 ? "+" : ""}${(100 * gain).toFixed(2)} points)`,
          `run: ${run.dir}`,
          `figure: ${figure}`,
        ],
      );
    });
}

function compareCommand(): Command {
  return addRequestOptions(new Command("compare").description(ctCompareRequest.summary), ctCompareRequest)
    .option("--json", "print the result rows as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct compare src-cnn --task fashion-mnist:5-9
  $ tiller ct compare src-cnn --task fashion-mnist:5-9 --betas 0.7:1:0.02 --epochs 3 --limit 10000
  $ tiller ct compare src-mlp --task fashion-mnist:5-9 --methods linear-probe,linear-probe-ct,trainable-ct

Every method chooses its epoch (or β) on the validation split and is scored on the task's test split.
Writes results.json and table.md (the table printed here) into a run directory, after each method:\nif it stops, the finished rows are kept ("partial": true); run the rest alone with --methods.`,
    )
    .action(async (...args: unknown[]) => {
      const { request, o } = parsed(args, ctCompareRequest);
      const progress = createProgress({ quiet: o.quiet || o.json });
      const shown = compareProgress(progress, request.betas.length);
      const { run, rows, splits } = await runCompare({
        ...compareRequestOf(request, shown.finetune),
        onMethod: shown.onMethod,
        onBeta: shown.onBeta,
      });
      progress.stop();
      printResult(o.json, { run: run.dir, validation: splits.validation, rows }, [
        `validation: ${splits.validation}`,
        "",
        `${compareTable(rows)}run: ${run.dir}`,
      ]);
    });
}

function pretrainCommand(): Command {
  return addRequestOptions(new Command("pretrain").description(ctPretrainRequest.summary), ctPretrainRequest)
    .option("--json", "print the result as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller ct pretrain --task fashion-mnist:0-4 --model cnn --channels 16,32 --dense 128 --epochs 3 --name src-cnn
  $ tiller ct pretrain --task fashion-mnist:0-4 --model mlp --epochs 5 --name src-mlp

The run is an ordinary training run (config.json, metrics, checkpoints); its config names the task.
Like train, it trains the MLP unless --model says otherwise.`,
    )
    .action(async (...args: unknown[]) => {
      const { request, o } = parsed(args, ctPretrainRequest);
      const progress = createProgress({ quiet: o.quiet || o.json });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      let total = 0;
      const { run, result } = await pretrain(pretrainRequestOf(request), {
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
      });
      printResult(
        o.json,
        { run: run.dir, status: result.status, reason: result.reason, final: result.epochs.at(-1) ?? null },
        [`run: ${run.dir}`, `status: ${result.status}${result.reason ? ` (${result.reason})` : ""}`],
      );
      if (result.status !== "done") process.exitCode = result.status === "interrupted" ? 130 : 1;
    });
}
