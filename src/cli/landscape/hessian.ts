/** `tiller landscape hessian`: top eigenvalues, trace and spectral density of the loss Hessian. */
import { Command, Option } from "commander";
import { runHessian } from "../../landscape/analyses.js";
import { HESSIAN_DEFAULTS } from "../../landscape/hessian.js";
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber } from "../errors.js";
import { common, withCommon, withPhases, out, done, type Common } from "./common.js";

export function hessianCommand(): Command {
  return withCommon(new Command("hessian"))
    .description(
      "Top eigenvalues (power iteration as PyHessian, or Lanczos), trace (Hutchinson) and spectral density (SLQ) of the loss Hessian, from Hessian-vector products.",
    )
    .argument("<run>", "run id or directory")
    .option("--top-k <n>", "eigenvalues to compute", positiveInt, HESSIAN_DEFAULTS.topK)
    .addOption(new Option("--method <m>", "eigen solver").choices(["power", "lanczos"]).default("power"))
    .option(
      "--max-iter <n>",
      "max Hessian-vector products per eigenvalue (power) or in all (Lanczos)",
      positiveInt,
      HESSIAN_DEFAULTS.maxIter,
    )
    .option(
      "--tol <x>",
      "eigenpairs: stop when the residual ‖Hv − λv‖ is below this fraction of |λ|",
      positiveNumber,
      HESSIAN_DEFAULTS.tol,
    )
    .option("--no-trace", "skip the trace")
    .option("--trace-samples <n>", "max Hutchinson samples", positiveInt, HESSIAN_DEFAULTS.traceSamples)
    .option(
      "--trace-tol <x>",
      "Hutchinson: stop when the standard error is below this fraction of the estimate (0: use every sample)",
      nonNegativeNumber,
      HESSIAN_DEFAULTS.traceTol,
    )
    .option("--density", "also estimate the eigenvalue density (SLQ) and draw it")
    .option(
      "--density-iter <n>",
      "Lanczos steps per SLQ run",
      positiveInt,
      HESSIAN_DEFAULTS.densityIterations,
    )
    .option("--density-runs <n>", "SLQ runs", positiveInt, 1)
    .option("--seed <n>", "seed of the random start vectors", nonNegativeInt, 0)
    .addHelpText(
      "after",
      "\nExample:\n  $ tiller landscape hessian <run> --top-k 4 --method lanczos --density",
    )
    .action(
      async (
        run: string,
        o: Common & {
          topK: number;
          method: "power" | "lanczos";
          maxIter: number;
          tol: number;
          trace: boolean;
          traceSamples: number;
          traceTol: number;
          density?: boolean;
          densityIter: number;
          densityRuns: number;
          seed: number;
        },
      ) => {
        const r = await withPhases(o.quiet, (progress) =>
          runHessian({
            ...common(run, o, progress),
            topK: o.topK,
            method: o.method,
            maxIter: o.maxIter,
            tol: o.tol,
            trace: o.trace,
            traceSamples: o.traceSamples,
            traceTol: o.traceTol,
            density: o.density,
            densityIterations: o.densityIter,
            densityRuns: o.densityRuns,
            seed: o.seed,
          }),
        );
        out(
          o,
          `Hessian of the mean loss at epoch ${r.epoch} (${o.examples} ${o.split} images, loss ${r.loss.toFixed(4)})`,
        );
        out(
          o,
          `top ${o.topK} eigenvalues (${o.method}, largest first): ${r.eigen.eigenvalues.map((v) => v.toPrecision(6)).join(", ")}`,
        );
        out(o, `  products: ${r.eigen.iterations.join(", ")}`);
        if (!r.eigen.converged.every(Boolean))
          process.stderr.write(
            `tiller: warning: eigenvalue${r.eigen.converged.filter((c) => !c).length > 1 ? "s" : ""} ` +
              `${r.eigen.converged.flatMap((c, i) => (c ? [] : [i + 1])).join(", ")} did not reach --tol ${o.tol} ` +
              `in --max-iter ${o.maxIter} products: raise --max-iter, or use --method lanczos\n`,
          );
        if (r.trace) {
          out(
            o,
            `trace (Hutchinson, ${r.trace.samples.length} samples): ${r.trace.trace.toPrecision(6)} ± ${r.trace.stderr.toPrecision(3)}`,
          );
          if (!r.trace.converged && o.traceTol > 0)
            process.stderr.write(
              `tiller: warning: the trace's standard error is ${((100 * r.trace.stderr) / Math.abs(r.trace.trace)).toFixed(1)}% ` +
                `of it, above --trace-tol ${o.traceTol}: raise --trace-samples for a tighter estimate\n`,
            );
        }
        if (r.density) {
          const nodes = r.density.nodes.flat();
          out(
            o,
            `density (SLQ): support [${Math.min(...nodes).toPrecision(4)}, ${Math.max(...nodes).toPrecision(4)}], integral ${r.densityIntegral!.toFixed(6)}`,
          );
        }
        done(o, r);
      },
    );
}
