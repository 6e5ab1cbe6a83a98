/** `tiller landscape interpolate`: loss and accuracy along the line between two checkpoints. */
import { Command } from "commander";
import { runInterpolation } from "../../landscape/analyses.js";
import { positiveInt } from "../errors.js";
import { common, range, withCommon, withPhases, out, done, type Common } from "./common.js";

export function interpolateCommand(): Command {
  return withCommon(new Command("interpolate"))
    .description(
      "Loss and accuracy along (1−α)·w₁ + α·w₂ between two checkpoints (of one run, or of two runs of one model).",
    )
    .argument("<run>", "run id or directory")
    .option("--from-epoch <n>", "first checkpoint (default: the first)", positiveInt)
    .option("--to-epoch <n>", "second checkpoint (default: the last)", positiveInt)
    .option("--to-run <run>", "take the second checkpoint from another run (same model shape)")
    .option("--range <lo,hi>", "α range", range, [-0.25, 1.25])
    .option("--steps <n>", "α values", positiveInt, 31)
    .addHelpText(
      "after",
      "\nExample:\n  $ tiller landscape interpolate <relu-run> --to-run <tanh-run> --range -0.5,1.5",
    )
    .action(
      async (
        run: string,
        o: Common & {
          fromEpoch?: number;
          toEpoch?: number;
          toRun?: string;
          range: [number, number];
          steps: number;
        },
      ) => {
        const r = await withPhases(o.quiet, (progress) =>
          runInterpolation({
            ...common(run, o, progress),
            fromEpoch: o.fromEpoch,
            toEpoch: o.toEpoch,
            toRun: o.toRun,
            range: o.range,
            steps: o.steps,
          }),
        );
        out(o, `interpolation ${r.from} → ${r.to} on ${o.examples} ${o.split} images`);
        const at = (a: number) => r.slice.alpha.findIndex((x) => Math.abs(x - a) < 1e-9);
        for (const a of [0, 0.5, 1]) {
          const i = at(a);
          if (i >= 0)
            out(
              o,
              `  α = ${a}: loss ${r.slice.loss[i].toFixed(4)}, accuracy ${(100 * r.slice.accuracy[i]).toFixed(2)}%`,
            );
        }
        const worst = r.slice.loss.indexOf(
          Math.max(...r.slice.loss.filter((_, i) => r.slice.alpha[i] >= 0 && r.slice.alpha[i] <= 1)),
        );
        out(
          o,
          `  highest loss between the endpoints: ${r.slice.loss[worst].toFixed(4)} at α = ${r.slice.alpha[worst].toFixed(3)}`,
        );
        done(o, r);
      },
    );
}
