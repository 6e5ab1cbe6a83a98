/**
 * The figures of training dynamics, from recorder (or checkpoint-rebuilt) records: the book's five
 * per-epoch panels (loss, gradient norm, parameter change, weight norm, loss improvement), the
 * per-layer norms, and, when step records exist, the per-step panels.
 */
import { multiLine, seriesPanels } from "../report/series.js";
import type { VegaLiteSpec } from "../report/vega.js";
import type { DynamicsRecord } from "./dynamics.js";

export type DynamicsFigures = {
  /** figures/dynamics.svg: the five per-epoch panels. */
  epochs: VegaLiteSpec;
  /** figures/dynamics-layers.svg: per-layer gradient, change and weight norms. */
  layers: VegaLiteSpec;
  /** figures/dynamics-steps.svg: per-step panels, when the run recorded steps. */
  steps: VegaLiteSpec | null;
};

export function dynamicsFigures(runId: string, records: DynamicsRecord[]): DynamicsFigures {
  const epochs = records.filter((r) => r.type === "epoch");
  const steps = records.filter((r) => r.type === "step");
  const x = epochs.map((r) => r.epoch);
  const epochPanels = seriesPanels(`Training dynamics of ${runId}`, [
    { title: "Loss", x, y: epochs.map((r) => r.loss), xTitle: "epoch", color: "#2563eb" },
    {
      title: "Gradient norm",
      x,
      y: epochs.map((r) => r.grad_norm ?? NaN),
      xTitle: "epoch",
      color: "#dc2626",
    },
    { title: "Parameter change", x, y: epochs.map((r) => r.param_change), xTitle: "epoch", color: "#16a34a" },
    { title: "Weight norm", x, y: epochs.map((r) => r.weight_norm), xTitle: "epoch", color: "#9333ea" },
    {
      title: "Loss improvement",
      x,
      y: epochs.map((r) => r.loss_improvement),
      xTitle: "epoch",
      color: "#ea580c",
    },
  ]);
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
  const layers = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    vconcat: layerSpecs,
  } as unknown as VegaLiteSpec;
  let stepPanels: VegaLiteSpec | null = null;
  if (steps.length) {
    const sx = steps.map((r) => r.step);
    stepPanels = seriesPanels(
      `Per-step dynamics of ${runId}`,
      [
        { title: "Loss", x: sx, y: steps.map((r) => r.loss), xTitle: "step" },
        { title: "Gradient norm", x: sx, y: steps.map((r) => r.grad_norm ?? NaN), xTitle: "step" },
        { title: "Parameter change", x: sx, y: steps.map((r) => r.param_change), xTitle: "step" },
        { title: "Weight norm", x: sx, y: steps.map((r) => r.weight_norm), xTitle: "step" },
      ],
      4,
    );
  }
  return { epochs: epochPanels, layers, steps: stepPanels };
}
