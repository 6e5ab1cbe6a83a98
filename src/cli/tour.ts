import { Command, InvalidArgumentError, Option } from "commander";
import { TOUR_SCALES, type TourScale } from "../tour/plan.js";
import { runTour, tourPlan, tourRoot } from "../tour/tour.js";
import { TourInterrupted } from "../tour/units/index.js";
import { UsageError } from "./errors.js";
import { createProgress } from "./progress.js";
import { interruptSignal } from "./signals.js";
import { printResult } from "./output.js";

function chapters(value: string): number[] {
  const list = value.split(",").map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1 || n > 5))
    throw new InvalidArgumentError(`expected chapter numbers 1–5 like 2,3; got "${value}"`);
  return list;
}

type TourCliOptions = {
  scale?: TourScale;
  full?: boolean;
  fresh?: boolean | number[];
  runs?: string;
  dataDir?: string;
  gallery?: string;
  plan?: boolean;
  quiet?: boolean;
  json?: boolean;
};

/**
 * `npm start`: the whole story on real data — initialisers, optimisers, the landscape of the
 * trained model, Curvature Tuning on a transfer task, Transformer² experts — then one report.
 */
export function tourCommand(): Command {
  return new Command("tour")
    .description(
      "The whole story on real data: initialisers, optimisers, loss landscape, Curvature Tuning, Transformer² — one report.html.",
    )
    .addOption(
      new Option(
        "--scale <scale>",
        "tiny (a smoke test, ~2 min), quick (~7 min on 2 cores), full (the real figures)",
      )
        .choices(TOUR_SCALES)
        .default("quick"),
    )
    .option(
      "--full",
      "the real figures (same as --scale full; all 60,000 images, many times longer than quick)",
    )
    .option(
      "--fresh [chapters]",
      "recompute instead of reusing finished steps: all of them, or chapters like 2,3",
      chapters,
    )
    .option("--runs <dir>", "runs folder (default $TILLER_RUNS or ./runs); the tour uses <dir>/tour")
    .option(
      "--data-dir <dir>",
      "Fashion-MNIST folder (default $TILLER_DATA or /usr/share/datasets/fashion-mnist)",
    )
    .option("--gallery <dir>", "also write the figures as SVG and PNG here (the README's: docs/figures)")
    .option("--plan", "print what would be computed or reused, and stop")
    .option("--json", "print where the report and runs are as one JSON object")
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      `
Examples:
  $ npm start                                  # = tiller tour: the quick scale, then report.html
  $ tiller tour --full                         # the real figures (all 60,000 images, more epochs)
  $ tiller tour --fresh 3                      # recompute chapter 3, reuse the rest
  $ tiller tour --gallery docs/figures         # the README gallery (SVG + PNG)
  $ tiller tour --plan                         # what is cached

Each step is a run directory in <runs>/tour named by a hash of its settings: a finished step is
reused, an interrupted training step continues from its last checkpoint, anything else restarts.
Ctrl-C stops after the current training step; run the same command again to continue.`,
    )
    .action(async (o: TourCliOptions) => {
      if (o.full && o.scale && o.scale !== "quick" && o.scale !== "full")
        throw new UsageError("use --full or --scale, not both");
      const scale: TourScale = o.full ? "full" : (o.scale ?? "quick");
      const fresh = o.fresh;
      if (o.plan) {
        for (const p of tourPlan({ scale, runsRoot: o.runs, dataDir: o.dataDir, fresh }))
          process.stdout.write(
            `${p.unit.chapter}. ${p.unit.name.padEnd(14)} ${p.action.padEnd(7)} tour/${p.id}  (${p.why})\n`,
          );
        return;
      }
      const progress = createProgress({ quiet: o.quiet });
      const signal = interruptSignal(() =>
        progress.log("Interrupted: stopping after the current step (Ctrl-C again to quit at once)…"),
      );
      progress.log(`Tiller tour at the "${scale}" scale → ${tourRoot(o.runs)}`);
      try {
        const r = await runTour({
          scale,
          runsRoot: o.runs,
          dataDir: o.dataDir,
          fresh,
          gallery: o.gallery,
          signal,
          progress,
        });
        progress.stop();
        if (o.json)
          return printResult(
            true,
            { report: r.report, runs: r.root, gallery: r.gallery, seconds: r.seconds },
            [],
          );
        process.stdout.write(
          `\nreport: ${r.report}\n` +
            `open it with: xdg-open ${r.report}\n` +
            `explore the runs in the lab: tiller lab --runs ${r.root}\n` +
            (r.gallery.length ? `gallery: ${r.gallery.length} files in ${o.gallery}\n` : "") +
            `tour time: ${r.seconds.toFixed(0)} s\n`,
        );
      } catch (e) {
        if (!(e instanceof TourInterrupted)) throw e;
        progress.stop();
        process.stderr.write(
          `Interrupted. Finished steps are kept in ${tourRoot(o.runs)}; run the same command again to continue.\n`,
        );
        process.exitCode = 130;
      }
    });
}
