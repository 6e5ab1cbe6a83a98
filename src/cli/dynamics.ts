/**
 * `tiller dynamics <run>`: the book's five panels of training dynamics (loss, gradient norm,
 * parameter change, weight norm, loss improvement per epoch), plus per-layer norms, from the run's
 * dynamics.jsonl (written by `tiller train --dynamics`) or, failing that, from its checkpoints.
 */
import { Command } from "commander";
import { renderSvg } from "../report/vega.js";
import { Run } from "../runs/store.js";
import { startEngine } from "../engine/device.js";
import { dynamicsFromCheckpoints, readDynamics, type DynamicsRecord } from "../train/dynamics.js";
import { dynamicsFigures } from "../train/dynamics-figures.js";
import { writeFigure } from "../landscape/store.js";
import { UsageError } from "../errors.js";
import { RUNS_HELP } from "./dialect.js";
import { printResult } from "./output.js";

export function dynamicsCommand(): Command {
  return new Command("dynamics")
    .description(
      "Draw a run's training dynamics: loss, gradient norm, parameter change, weight norm, loss improvement.",
    )
    .argument("<run>", "run id or directory")
    .option("--runs <dir>", RUNS_HELP)
    .option("--json", "print the per-epoch dynamics and the figures written as one JSON object")
    .option("--from-checkpoints", "rebuild from checkpoints and metrics even if dynamics.jsonl exists")
    .option("-q, --quiet", "no progress output (accepted for uniformity: only result lines are printed)")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller train --from <run> --epochs 20 --dynamics epoch   # continue a trained model, recording
  $ tiller dynamics <new run>                                # figures/dynamics.svg, dynamics-layers.svg
  $ tiller dynamics <any run> --from-checkpoints             # runs trained without the recorder`,
    )
    .action(async (ref: string, o: { runs?: string; fromCheckpoints?: boolean; json?: boolean }) => {
      const run = Run.open(ref, o.runs);
      let records = o.fromCheckpoints ? [] : readDynamics(run);
      let source = "dynamics.jsonl";
      if (records.filter((r) => r.type === "epoch").length === 0) {
        await startEngine();
        records = await dynamicsFromCheckpoints(run);
        source = "checkpoints and metrics.jsonl (per-layer gradient norms need tiller train --dynamics)";
      }
      const epochs = records.filter((r): r is DynamicsRecord => r.type === "epoch");
      if (epochs.length === 0) throw new UsageError(`run ${run.id} has no finished epoch to draw`);
      const out = (line: string) => void (o.json || process.stdout.write(line + "\n"));
      out(`training dynamics of ${run.id} (from ${source})`);
      out("epoch    loss  grad norm  ‖θₜ−θₜ₋₁‖  ‖θₜ−θ₀‖  weight norm  improvement");
      for (const r of epochs)
        out(
          `${String(r.epoch).padStart(5)} ${r.loss.toFixed(4).padStart(7)} ${(r.grad_norm ?? NaN).toFixed(4).padStart(10)} ` +
            `${r.param_change.toFixed(4).padStart(10)} ${r.param_change_from_start.toFixed(4).padStart(8)} ` +
            `${r.weight_norm.toFixed(3).padStart(12)} ${r.loss_improvement.toFixed(4).padStart(12)}`,
        );
      const figures = dynamicsFigures(run.id, records);
      const files = [
        writeFigure(run, "dynamics.svg", await renderSvg(figures.epochs)),
        writeFigure(run, "dynamics-layers.svg", await renderSvg(figures.layers)),
      ];
      if (figures.steps) files.push(writeFigure(run, "dynamics-steps.svg", await renderSvg(figures.steps)));
      files.forEach((f) => out(`wrote ${f}`));
      if (o.json) printResult(true, { run: run.dir, source, epochs, files }, []);
    });
}
