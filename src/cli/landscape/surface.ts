/** `tiller landscape surface`: a 2-D loss surface around a checkpoint. Options: the landscape-surface request. */
import { Command } from "commander";
import { runSurface, surfaceOf } from "../../landscape/analyses.js";
import { landscapeSurfaceRequest } from "../../requests/landscape.js";
import { addRequestOptions, requestFromCommand } from "../request-options.js";
import { withPhases, out, done } from "./common.js";

export function surfaceCommand(): Command {
  const cmd = new Command("surface").description(landscapeSurfaceRequest.summary);
  return addRequestOptions(cmd, landscapeSurfaceRequest)
    .option("-q, --quiet", "no progress output")
    .addHelpText(
      "after",
      "\nExamples:\n  $ tiller landscape surface <run> --directions hessian --count 4\n  $ tiller landscape surface <run> --directions random --slices --name random",
    )
    .action(async (...args: unknown[]) => {
      const self = args.at(-1) as Command;
      const { request } = requestFromCommand(self, landscapeSurfaceRequest);
      const o = self.opts<{ quiet?: boolean; json?: boolean }>();
      const r = await withPhases(o.quiet, (progress) =>
        runSurface({ ...surfaceOf(request), onProgress: progress }),
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
    });
}
