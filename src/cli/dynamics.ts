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
import { multiLine, seriesPanels } from "../landscape/figures.js";
import { writeFigure } from "../landscape/store.js";
import { UsageError } from "../errors.js";

export function dynamicsCommand(): Command {
  return new Command("dynamics")
    .description(
      "Draw a run's training dynamics: loss, gradient norm, parameter change, weight norm, loss improvement.",
    )
    .argument("<run>", "run id or directory")
    .option("--out <dir>", "runs folder (default ./runs or $TILLER_RUNS)")
    .option("--from-checkpoints", "rebuild from checkpoints and metrics even if dynamics.jsonl exists")
    .addHelpText(
      "after",
      `
Examples:
  $ tiller train --from <run> --epochs 20 --dynamics epoch   # continue a trained model, recording
  $ tiller dynamics <new run>                                # figures/dynamics.svg, dynamics-layers.svg
  $ tiller dynamics <any run> --from-checkpoints             # runs trained without the recorder`,
    )
    .action(async (ref: string, o: { out?: string; fromCheckpoints?: boolean }) => {
      const run = Run.open(ref, o.out);
      let records = o.fromCheckpoints ? [] : readDynamics(run);
      let source = "dynamics.jsonl";
      if (records.filter((r) => r.type === "epoch").length === 0) {
        await startEngine();
        records = await dynamicsFromCheckpoints(run);
        source = "checkpoints and metrics.jsonl (per-layer gradient norms need tiller train --dynamics)";
      }
      const epochs = records.filter((r): r is DynamicsRecord => r.type === "epoch");
      if (epochs.length === 0) throw new UsageError(`run ${run.id} has no finished epoch to draw`);
      const steps = records.filter((r) => r.type === "step");
      const x = epochs.map((r) => r.epoch);
      const out = (line: string) => process.stdout.write(line + "\n");
      out(`training dynamics of ${run.id} (from ${source})`);
      out("epoch    loss  grad norm  ‖θₜ−θₜ₋₁‖  ‖θₜ−θ₀‖  weight norm  improvement");
      for (const r of epochs)
        out(
          `${String(r.epoch).padStart(5)} ${r.loss.toFixed(4).padStart(7)} ${(r.grad_norm ?? NaN).toFixed(4).padStart(10)} ` +
            `${r.param_change.toFixed(4).padStart(10)} ${r.param_change_from_start.toFixed(4).padStart(8)} ` +
            `${r.weight_norm.toFixed(3).padStart(12)} ${r.loss_improvement.toFixed(4).padStart(12)}`,
        );
      const panels = seriesPanels(`Training dynamics of ${run.id}`, [
        { title: "Loss", x, y: epochs.map((r) => r.loss), xTitle: "epoch", color: "#2563eb" },
        {
          title: "Gradient norm",
          x,
          y: epochs.map((r) => r.grad_norm ?? NaN),
          xTitle: "epoch",
          color: "#dc2626",
        },
        {
          title: "Parameter change",
          x,
          y: epochs.map((r) => r.param_change),
          xTitle: "epoch",
          color: "#16a34a",
        },
        { title: "Weight norm", x, y: epochs.map((r) => r.weight_norm), xTitle: "epoch", color: "#9333ea" },
        {
          title: "Loss improvement",
          x,
          y: epochs.map((r) => r.loss_improvement),
          xTitle: "epoch",
          color: "#ea580c",
        },
      ]);
      const files = [writeFigure(run, "dynamics.svg", await renderSvg(panels))];
      const layerRows = (key: "grad_norm" | "weight_norm" | "param_change") =>
        epochs.flatMap((r) =>
          Object.entries(r.layers ?? {})
            .filter(([, l]) => l[key] !== undefined)
            .map(([name, l]) => ({ x: r.epoch, y: l[key] as number, series: name })),
        );
      const layerSpecs = [
        layerRows("grad_norm").length
          ? multiLine(
              "Per-layer gradient norm (probe set, epoch end)",
              layerRows("grad_norm"),
              "epoch",
              "‖∇‖",
              true,
            )
          : null,
        multiLine("Per-layer parameter change ‖θₜ−θₜ₋₁‖", layerRows("param_change"), "epoch", "change", true),
        multiLine("Per-layer weight norm", layerRows("weight_norm"), "epoch", "‖θ‖", true),
      ].filter((s) => s !== null);
      files.push(
        writeFigure(
          run,
          "dynamics-layers.svg",
          await renderSvg({
            $schema: "https://vega.github.io/schema/vega-lite/v5.json",
            vconcat: layerSpecs,
          } as never),
        ),
      );
      if (steps.length) {
        const sx = steps.map((r) => r.step);
        const stepPanels = seriesPanels(
          `Per-step dynamics of ${run.id}`,
          [
            { title: "Loss", x: sx, y: steps.map((r) => r.loss), xTitle: "step" },
            { title: "Gradient norm", x: sx, y: steps.map((r) => r.grad_norm ?? NaN), xTitle: "step" },
            {
              title: "Parameter change",
              x: sx,
              y: steps.map((r) => r.param_change),
              xTitle: "step",
            },
            { title: "Weight norm", x: sx, y: steps.map((r) => r.weight_norm), xTitle: "step" },
          ],
          4,
        );
        files.push(writeFigure(run, "dynamics-steps.svg", await renderSvg(stepPanels)));
      }
      files.forEach((f) => out(`wrote ${f}`));
    });
}
