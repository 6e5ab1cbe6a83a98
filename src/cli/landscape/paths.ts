/** `tiller landscape paths`: optimiser paths on a fitted Gaussian. */
import { Command } from "commander";
import { startEngine } from "../../engine/device.js";
import { runPaths } from "../../landscape/analyses.js";
import { positiveInt } from "../errors.js";
import { RUNS_HELP } from "../dialect.js";
import { point, out, QUIET, done } from "./common.js";

export function pathsCommand(): Command {
  return new Command("paths")
    .description(
      "Run optimisers from the suite on a fitted Gaussian and draw their paths on its contour map.",
    )
    .argument("<fit>", "a landscape/<name>-fit.json file, or a run (with --fit-name <name>)")
    .option("--fit-name <name>", "fit name within the run")
    .option(
      "--optimizers <list>",
      "comma-separated, settings after colons (sgd:lr=0.1,momentum:lr=0.05:momentum=0.8,adam:lr=0.1 are the book's and the defaults)",
      "sgd,momentum,adam",
    )
    .option("--steps <n>", "steps per optimiser", positiveInt, 100)
    .option(
      "--start <x,y>",
      "start point (default: the surface's top-left corner, the book's [d_min, d_max])",
      point,
    )
    .option("--runs <dir>", RUNS_HELP)
    .option("--name <name>", "result name")
    .option(QUIET, "no progress output (accepted for uniformity: only result lines are printed)")
    .addHelpText(
      "after",
      "\nExample:\n  $ tiller landscape paths <run> --fit-name gauss-fit --optimizers sgd,momentum,adam,lion:lr=0.01",
    )
    .action(
      async (
        fit: string,
        o: {
          fitName?: string;
          optimizers: string;
          steps: number;
          start?: [number, number];
          runs?: string;
          name?: string;
        },
      ) => {
        await startEngine();
        const r = await runPaths({
          fit,
          runsRoot: o.runs,
          fitName: o.fitName,
          optimizers: o.optimizers,
          steps: o.steps,
          start: o.start,
          name: o.name,
        });
        out(o, `paths from (${r.start.map((v) => v.toFixed(4)).join(", ")}), ${o.steps} steps:`);
        for (const p of r.paths) {
          const last = p.points.at(-1)!;
          out(
            o,
            `  ${p.optimizer}: f ${p.values[0]?.toFixed(4)} → ${p.values.at(-1)?.toFixed(4)} at (${last.map((v) => v.toFixed(4)).join(", ")})${p.diverged ? " (diverged)" : ""}`,
          );
        }
        done(o, r);
      },
    );
}
