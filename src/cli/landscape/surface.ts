/** `tiller landscape surface`: a 2-D loss surface around a checkpoint. */
import { Command, Option } from "commander";
import { runSurface } from "../../landscape/analyses.js";
import { nonNegativeInt, positiveInt, positiveNumber } from "../errors.js";
import { common, range, withCommon, withPhases, out, done, type Common } from "./common.js";

export function surfaceCommand(): Command {
  return withCommon(new Command("surface"))
    .description(
      "2-D loss surface L(w + λ₁d₁ + λ₂d₂) on a grid, with Hessian, random filter-normalised or trajectory-PCA directions.",
    )
    .argument("<run>", "run id or directory")
    .addOption(
      new Option("--directions <kind>", "direction kind")
        .choices(["hessian", "random", "pca"])
        .default("hessian"),
    )
    .option("--count <n>", "directions; each pair is a panel (the book: 4 → 2 panels)", positiveInt, 2)
    .option("--steps <n>", "grid points per axis", positiveInt, 40)
    .option("--range <lo,hi>", "λ range (default -0.2,0.2; pca: fits the trajectory)", range)
    .option("--slices", "also 1-D slices along each direction")
    .option("--keep-bias", "random: keep bias/norm directions (copied from w) instead of zeroing them")
    .addOption(
      new Option("--method <m>", "hessian: eigen solver").choices(["lanczos", "power"]).default("lanczos"),
    )
    .option("--max-iter <n>", "hessian: max Hessian-vector products", positiveInt, 100)
    .option("--tol <x>", "hessian: relative tolerance", positiveNumber, 1e-3)
    .option("--seed <n>", "seed of random directions / start vectors", nonNegativeInt, 0)
    .addHelpText(
      "after",
      "\nExamples:\n  $ tiller landscape surface <run> --directions hessian --count 4\n  $ tiller landscape surface <run> --directions random --slices --name random",
    )
    .action(
      async (
        run: string,
        o: Common & {
          directions: "hessian" | "random" | "pca";
          count: number;
          steps: number;
          range?: [number, number];
          slices?: boolean;
          keepBias?: boolean;
          method: "lanczos" | "power";
          maxIter: number;
          tol: number;
          seed: number;
        },
      ) => {
        const r = await withPhases(o.quiet, (progress) =>
          runSurface({
            ...common(run, o, progress),
            directions: o.directions,
            count: o.count,
            steps: o.steps,
            range: o.range,
            slices: o.slices,
            ignoreBiasAndNorm: !o.keepBias,
            method: o.method,
            maxIter: o.maxIter,
            tol: o.tol,
            seed: o.seed,
          }),
        );
        const rec = r.record;
        out(
          o,
          `surface "${r.name}" at epoch ${rec.subject.epoch}: centre loss ${rec.center.loss.toFixed(4)}, accuracy ${(100 * rec.center.accuracy).toFixed(2)}%`,
        );
        if (rec.directions.kind === "hessian")
          out(
            o,
            `  directions: top Hessian eigenvectors, λ = ${rec.directions.eigenvalues.map((v) => v.toPrecision(5)).join(", ")}`,
          );
        if (rec.directions.kind === "pca")
          out(
            o,
            `  directions: trajectory PCA, explained ${rec.directions.explainedVarianceRatio.map((v) => (100 * v).toFixed(1) + "%").join(", ")}`,
          );
        for (const panel of rec.panels) {
          const flat = panel.grid.loss.flat();
          out(
            o,
            `  panel d${panel.directions[0]}×d${panel.directions[1]}: loss ${Math.min(...flat).toFixed(4)} … ${Math.max(...flat).toFixed(4)}`,
          );
        }
        out(o, `  ${rec.pointsPerSecond.toFixed(1)} grid points/s, ${rec.elapsed_s.toFixed(1)} s in all`);
        done(o, r);
      },
    );
}
