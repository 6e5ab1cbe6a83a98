/** What the `tiller landscape` subcommands share: option parsers, the evaluation options, progress. */
import { Command, InvalidArgumentError, Option } from "commander";
import { startEngine } from "../../engine/device.js";
import type { Progress as AnalysisProgress } from "../../landscape/analyses.js";
import { nonNegativeInt, positiveInt } from "../errors.js";
import { RUNS_HELP } from "../dialect.js";
import { createProgress, lossField } from "../progress.js";
import { printResult } from "../output.js";

export function range(value: string): [number, number] {
  const parts = value.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || parts[0] >= parts[1])
    throw new InvalidArgumentError(`expected "lo,hi" with lo < hi, like -0.2,0.2; got "${value}"`);
  return [parts[0], parts[1]];
}

export function point(value: string): [number, number] {
  const parts = value.split(",").map((s) => Number(s.trim()));
  if (parts.length !== 2 || !parts.every(Number.isFinite))
    throw new InvalidArgumentError(`expected "x,y", like -0.2,0.2; got "${value}"`);
  return [parts[0], parts[1]];
}

export type Common = {
  epoch?: number;
  split: "test" | "train";
  examples: number;
  offset: number;
  batchSize: number;
  dataDir?: string;
  runs?: string;
  name?: string;
  quiet?: boolean;
};

export function withCommon(cmd: Command): Command {
  return cmd
    .option("--epoch <n>", "checkpoint epoch (default: the last one)", positiveInt)
    .addOption(new Option("--split <split>", "evaluation split").choices(["test", "train"]).default("test"))
    .option("--examples <n>", "evaluation examples (the book: the first 256 test images)", positiveInt, 256)
    .option("--offset <n>", "first evaluation example", nonNegativeInt, 0)
    .option("--batch-size <n>", "examples per evaluation batch", positiveInt, 256)
    .option("--data-dir <dir>", "Fashion-MNIST folder (default: the run's, $TILLER_DATA or Debian's)")
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <name>", "result name (landscape/<name>.json, figures/<name>.svg)")
    .option("-q, --quiet", "no progress output");
}

export function common(run: string, o: Common, progress: AnalysisProgress) {
  return {
    run,
    runsRoot: o.runs,
    epoch: o.epoch,
    evaluation: { split: o.split, count: o.examples, offset: o.offset, dataDir: o.dataDir },
    batchSize: o.batchSize,
    name: o.name,
    onProgress: progress,
  };
}

/** Progress bar per phase: restarts when the label changes. */
function phases(quiet?: boolean) {
  const bar = createProgress({ quiet });
  let label = "";
  const update: AnalysisProgress = (done, total, l, detail) => {
    if (l !== label) {
      if (label) bar.stop();
      bar.start(total, l);
      label = l;
    }
    bar.update(done, lossField(detail));
  };
  return {
    update,
    stop: () => bar.stop(),
  };
}

/** With --json a command prints its whole result as one object at the end, and no lines before. */
const json = (o: object) => (o as { json?: boolean }).json === true;
export const out = (o: object, line: string) => {
  if (!json(o)) process.stdout.write(line + "\n");
};
/** Every command takes -q; the analyses of a stored surface have no progress to hide. */
export const QUIET = "-q, --quiet";
/** The files written, or with --json the whole result (numbers, names and files) as one object. */
export const done = (o: object, result: { files: string[] }) =>
  json(o) ? printResult(true, result, []) : result.files.forEach((f) => out(o, `wrote ${f}`));

/** Starts the engine and runs one analysis with a progress bar per phase. */
export async function withPhases<T>(
  quiet: boolean | undefined,
  analysis: (progress: AnalysisProgress) => Promise<T>,
): Promise<T> {
  await startEngine();
  const p = phases(quiet);
  try {
    return await analysis(p.update);
  } finally {
    p.stop();
  }
}

/** The options `surfaceArg` adds. */
export type SurfaceArgOptions = { surface?: string; panel: number; runs?: string; name?: string };

/** The first argument of the analyses of a stored surface, and their shared options. */
export const surfaceArg = (c: Command) =>
  c
    .argument("<surface>", "a landscape/<name>.json file, or a run (with --surface <name>)")
    .option("--surface <name>", "surface name within the run")
    .option("--panel <n>", "which panel of a multi-panel surface", nonNegativeInt, 0)
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <name>", "result name")
    .option(QUIET, "no progress output (accepted for uniformity: only result lines are printed)");
