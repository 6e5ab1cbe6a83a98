/**
 * `tiller optim path` — optimiser paths on 2-D test functions (JSON, or an SVG over the contour map).
 * `tiller optim compare` — optimisers trained side by side on Fashion-MNIST (table + four-panel figure).
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { startEngine } from "../engine/device.js";
import { FUNCTION_PARAMS, FUNCTIONS, testFunction, type FunctionName } from "../landscape/functions.js";
import { runPath, type PathResult } from "../landscape/paths.js";
import { savePathRun } from "../landscape/path-run.js";
import {
  acceptedKeys,
  canonicalKey,
  createOptimizer,
  isOptimizerName,
  optimizerConfig,
  OPTIMIZERS,
  parseParamPairs,
  type OptimizerName,
} from "../optim/index.js";
import { compareRequestOf, formatTable, resumeComparison, runComparison } from "../train/compare.js";
import { optimCompareRequest } from "../requests/optim-compare.js";
import { notResumable } from "../requests/request.js";
import { addRequestOptions, requestFromCommand } from "./request-options.js";
import { printResult } from "./output.js";
import type { TrainCallbacks } from "../train/loop.js";
import { nonNegativeInt, positiveInt, positiveNumber, UsageError } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";

const collect = (v: string, acc: string[]) => [...acc, v];

function point(value: string): [number, number] {
  const parts = value.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || value.trim() === "")
    throw new InvalidArgumentError(`expected x,y like -1.5,2, got "${value}"`);
  return [parts[0], parts[1]];
}

/** The shortest decimal that reads back as the same float32 (-1.49 rather than -1.4900000095367432). */
function shortestFloat32(v: number): number {
  if (!Number.isFinite(v)) return v;
  for (let p = 1; p < 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return Number(v.toPrecision(9));
}

function nameList(value: string): string[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError(`expected comma-separated names, got "${value}"`);
  return names;
}

type PathOptions = {
  fn: FunctionName;
  optimizer?: string;
  optimizers?: string[];
  lr: number;
  steps: number;
  start?: [number, number];
  param: string[];
  seed: number;
  dtype: "float32" | "float64";
  json?: boolean;
  runs?: string;
  name?: string;
  quiet?: boolean;
};

/**
 * Routes `--param` pairs: the function's own parameters to the function, the rest to the
 * optimisers. With one optimiser every other key must be one of its; with several, a key applies
 * to those that take it and must fit at least one.
 */
function splitParams(fn: FunctionName, names: OptimizerName[], pairs: string[]) {
  const fnParams: Record<string, number> = {};
  const perOptimizer = new Map(names.map((n) => [n, {} as Record<string, string>]));
  for (const [key, value] of Object.entries(parseParamPairs(pairs))) {
    if (key in FUNCTION_PARAMS[fn]) {
      const v = Number(value);
      if (value === "" || !Number.isFinite(v))
        throw new UsageError(`${fn} ${key} must be a number, got "${value}"`);
      fnParams[key] = v;
      continue;
    }
    const takers = names.filter((n) => acceptedKeys(n).includes(canonicalKey(key)));
    if (names.length === 1 || takers.length === 0) {
      if (takers.length === 0) {
        const fnKeys = Object.keys(FUNCTION_PARAMS[fn]);
        throw new UsageError(
          `unknown --param "${key}": not a parameter of ${fn}${fnKeys.length ? ` (${fnKeys.join(", ")})` : ""} nor of ${names.join(", ")} (${names.map((n) => `${n}: ${acceptedKeys(n).join(", ")}`).join("; ")})`,
        );
      }
    }
    for (const n of takers) perOptimizer.get(n)![key] = value;
  }
  return { fnParams, perOptimizer };
}

function pathCommand(): Command {
  return new Command("path")
    .description(
      "Run optimisers on a 2-D test function: print the path as JSON, or draw the paths over its contour map.",
    )
    .addOption(new Option("--fn <name>", "test function").choices(FUNCTIONS).default("rosenbrock"))
    .addOption(new Option("--optimizer <name>", "one optimiser").choices(OPTIMIZERS))
    .option(
      "--optimizers <names>",
      "several optimisers, comma-separated (e.g. sgd,momentum,adam,lion)",
      nameList,
    )
    .option("--lr <x>", "learning rate for every optimiser", positiveNumber, 0.01)
    .option("--steps <n>", "number of steps", positiveInt, 100)
    .option("--start <x,y>", "start point (default: the function's own, e.g. -1.5,2 for rosenbrock)", point)
    .option(
      "--param <key=value>",
      "optimiser or function parameter, repeatable (beta1=0.9, momentum=0.9, A=2, sigma1=0.5)",
      collect,
      [] as string[],
    )
    .option("--seed <n>", "seed of Sophia's Hutchinson probes", nonNegativeInt, 0)
    .addOption(new Option("--dtype <type>", "arithmetic").choices(["float32", "float64"]).default("float32"))
    .option(
      "--json",
      "print {points, values} (several optimisers: one such object per name) instead of drawing",
    )
    .option("--runs <dir>", "runs folder for the figure (default $TILLER_RUNS or ./runs)")
    .option("--name <id>", "run id (default: timestamp-path-fn-xxxx)")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Functions: rosenbrock (a, b), himmelblau, rastrigin (A), saddle 0.5x² − 0.25y² + 3, quadratic x² + 2y²,
gaussian offset − A·exp(−(x−x0)²/2σ1² − (y−y0)²/2σ2²) (A, x0, y0, sigma1, sigma2, offset).
Optimisers: ${OPTIMIZERS.join(", ")}.

Examples:
  $ tiller optim path --fn rosenbrock --optimizer adam --lr 0.01 --steps 100 --start -1.5,2 --json
  $ tiller optim path --fn rosenbrock --optimizer momentum --lr 1e-4 --param momentum=0.95 --steps 300 --json
  $ tiller optim path --fn himmelblau --optimizers sgd,momentum,adam,lion --lr 0.01 --steps 200
  $ tiller optim path --fn gaussian --param A=2 --param sigma1=0.5 --optimizers sgd,adam --lr 0.1

Without --json the paths are drawn into <run>/figures/paths.svg (and saved in <run>/paths.json).
A path that overflows to Inf/NaN stops there: its points so far are kept and the command exits 1.`,
    )
    .action(async (o: PathOptions) => {
      if (o.optimizer && o.optimizers) throw new UsageError("use --optimizer or --optimizers, not both");
      const names = o.optimizers ?? [o.optimizer ?? "adam"];
      for (const n of names)
        if (!isOptimizerName(n))
          throw new UsageError(`unknown optimizer "${n}" (choose from: ${OPTIMIZERS.join(", ")})`);
      const optimizerNames = names as OptimizerName[];
      const { fnParams, perOptimizer } = splitParams(o.fn, optimizerNames, o.param);
      const fn = testFunction(o.fn, fnParams);
      const start = o.start ?? fn.start;
      const optimizers = optimizerNames.map((n) => ({
        label: n,
        transform: createOptimizer({ ...optimizerConfig(n, perOptimizer.get(n)), lr: o.lr }),
        config: { ...optimizerConfig(n, perOptimizer.get(n)), lr: o.lr },
      }));
      await startEngine();
      const progress = createProgress({ quiet: o.quiet || o.json });
      const results: { label: string; result: PathResult }[] = [];
      for (const opt of optimizers) {
        progress.log(`${opt.label}: ${o.steps} steps on ${fn.name} from (${start.join(", ")})`);
        const result = await runPath({
          fn,
          optimizer: opt.transform,
          start,
          steps: o.steps,
          dtype: o.dtype,
          seed: o.seed,
        });
        if (result.diverged)
          process.stderr.write(`tiller: ${opt.label} on ${fn.name}: ${result.diverged.message}\n`);
        results.push({ label: opt.label, result });
      }
      if (results.some((r) => r.result.diverged)) process.exitCode = 1;
      const short = o.dtype === "float32" ? shortestFloat32 : (v: number) => v;
      const plain = (r: PathResult) => ({
        points: r.points.map(([x, y]) => [short(x), short(y)]),
        values: r.values.map(short),
        ...(r.diverged ? { diverged: r.diverged } : {}),
      });
      if (o.json) {
        const out =
          results.length === 1 && !o.optimizers
            ? plain(results[0].result)
            : Object.fromEntries(results.map((r) => [r.label, plain(r.result)]));
        process.stdout.write(JSON.stringify(out) + "\n");
        return;
      }
      const { run, figure } = await savePathRun({
        runsRoot: o.runs,
        name: o.name,
        fn,
        config: {
          optimizers: optimizers.map((opt) => opt.config),
          start,
          steps: o.steps,
          dtype: o.dtype,
          seed: o.seed,
        },
        results,
        points: Object.fromEntries(results.map((r) => [r.label, plain(r.result)])),
      });
      for (const r of results) {
        const last = r.result.points.at(-1)!;
        process.stdout.write(
          `${r.label.padEnd(10)} ${r.result.points.length - 1} steps → (${last.map((v) => v.toPrecision(5)).join(", ")}), f = ${r.result.values.at(-1)?.toPrecision(5)}${r.result.diverged ? "  [diverged]" : ""}\n`,
        );
      }
      process.stdout.write(`run: ${run.dir}\nfigure: ${figure}\n`);
    });
}

/** Progress lines for one member of a comparison. */
function memberCallbacks(progress: ReturnType<typeof createProgress>) {
  let total = 0;
  return (label: string): TrainCallbacks => ({
    onStart: (info) => {
      total = info.stepsPerEpoch;
    },
    onStep: (e) => {
      if (e.stepInEpoch === 1) progress.start(total, `${label} epoch ${e.epoch}`);
      progress.update(e.stepInEpoch, { loss: e.loss.toFixed(4) });
    },
    onEpoch: (e) =>
      progress.stop(
        `${label} epoch ${e.epoch}: train loss ${e.train_loss.toFixed(4)} · test loss ${e.test_loss.toFixed(4)} acc ${(100 * e.test_accuracy).toFixed(2)}% · ${e.elapsed_s.toFixed(1)} s`,
      ),
  });
}

function compareCommand(): Command {
  const cmd = new Command("compare").description(optimCompareRequest.summary);
  return addRequestOptions(cmd, optimCompareRequest)
    .option("--json", "print the summary rows as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Defaults (the book's): sgd lr 0.01 momentum 0.9; adam lr 1e-3; lion lr 1e-4; any other optimiser
its default learning rate. Every optimiser starts from the same weights and sees the same batches.

Examples:
  $ tiller optim compare --model mlp --optimizers sgd,adam,lion --epochs 20
  $ tiller optim compare --model cnn --optimizers sgd,adam,lion --epochs 2 --limit 10000
  $ tiller optim compare --config optimizers.json --optimizers adam-1e-3,adamw-wd --epochs 5
    where optimizers.json is {"adam-1e-3": {"name": "adam", "lr": 0.001},
                              "adamw-wd": {"name": "adamw", "lr": 0.001, "weightDecay": 0.05}}

Writes <run>/summary.json, summary.csv, figures/compare.svg, and one training run per optimiser
under <run>/members/.`,
    )
    .action(async (_o: unknown, self: Command) => {
      const { request, given } = requestFromCommand(self, optimCompareRequest);
      const o = self.opts<{ quiet?: boolean; json?: boolean }>();
      if (request.resume) {
        const fixed = notResumable(optimCompareRequest, given);
        if (fixed.length) throw new UsageError(`${fixed.join(", ")}: fixed by the run's config on --resume`);
      }
      const progress = createProgress({ quiet: o.quiet || o.json });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: finishing the current step, then stopping…"),
      );
      const how = { callbacks: memberCallbacks(progress), signal, runsRoot: request.runs };
      const { run, rows, figure } = request.resume
        ? await resumeComparison(request.resume, how)
        : await runComparison(compareRequestOf(request), how);
      progress.stop();
      const table = run.path("summary.csv");
      printResult(o.json, { run: run.dir, rows, table, figure }, [
        formatTable(rows),
        "",
        `run: ${run.dir}`,
        `table: ${table}`,
        `figure: ${figure}`,
      ]);
      if (rows.some((r) => r.status === "diverged")) process.exitCode = 1;
      if (rows.some((r) => r.status === "interrupted")) process.exitCode = 130;
    });
}

export function optimCommand(): Command {
  return new Command("optim")
    .description("Optimisers: paths on 2-D test functions, and side-by-side training comparisons.")
    .addCommand(pathCommand())
    .addCommand(compareCommand())
    .addHelpText(
      "after",
      `
Examples:
  $ tiller optim path --fn rosenbrock --optimizer adam --lr 0.01 --steps 100 --start -1.5,2 --json
  $ tiller optim path --fn himmelblau --optimizers sgd,momentum,adam,lion
  $ tiller optim compare --model mlp --optimizers sgd,adam,lion --epochs 20`,
    );
}
