/**
 * `tiller landscape …`: loss landscapes, Hessian spectra and their analyses for a run's
 * checkpoints. Results go to the run's folder: landscape/<name>.json and figures/<name>.svg.
 */
import { Command } from "commander";
import { interpolateCommand } from "./landscape/interpolate.js";
import { projectCommand } from "./landscape/project.js";
import { hessianCommand } from "./landscape/hessian.js";
import { surfaceCommand } from "./landscape/surface.js";
import { fitCommand } from "./landscape/fit.js";
import { pathsCommand } from "./landscape/paths.js";
import { waveletsCommand } from "./landscape/wavelets.js";
import { topologyCommand } from "./landscape/topology.js";

export function landscapeCommand(): Command {
  const cmd = new Command("landscape")
    .description(
      "Loss landscapes of a run's checkpoints: interpolation, projections, Hessian spectrum, surfaces, and their analyses.",
    )
    .addHelpText(
      "after",
      `
Examples (the book's chapter, on a trained ReLU MLP):
  $ tiller landscape interpolate <run> --from-epoch 1 --to-epoch 15
  $ tiller landscape project <run> --method both
  $ tiller landscape hessian <run> --top-k 4 --density
  $ tiller landscape surface <run> --directions hessian --count 4       # 2 panels, 40×40, λ ∈ [−0.2, 0.2]
  $ tiller landscape surface <run> --directions random --name random
  $ tiller landscape surface <run> --directions pca --name trajectory
  $ tiller landscape surface <run> --directions hessian --range -1,1 --steps 30 --name gauss
  $ tiller landscape fit <run> --surface gauss --offset max
  $ tiller landscape paths <run> --fit-name gauss-fit --optimizers sgd,momentum,adam
  $ tiller landscape wavelets <run> --surface gauss --wavelet db2 --levels 2
  $ tiller landscape topology <run> --surface gauss --compare <run2> --compare-name gauss`,
    );
  cmd.addCommand(interpolateCommand());
  cmd.addCommand(projectCommand());
  cmd.addCommand(hessianCommand());
  cmd.addCommand(surfaceCommand());
  cmd.addCommand(fitCommand());
  cmd.addCommand(pathsCommand());
  cmd.addCommand(waveletsCommand());
  cmd.addCommand(topologyCommand());
  // Every analysis prints a result: --json gives it as one object.
  for (const sub of cmd.commands) sub.option("--json", "print the result as one JSON object");
  return cmd;
}
