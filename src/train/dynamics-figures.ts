/**
 * The figures of training dynamics, from recorder (or checkpoint-rebuilt) records: the book's five
 * per-epoch panels (loss, gradient norm, parameter change, weight norm, loss improvement), the
 * per-layer norms, and, when step records exist, the per-step panels.
 */
import { SERIES_COLORS } from "../report/palette.js";
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

/** The five quantities of the book's panels, in its order, each in its own colour. */
const PANELS = [
  { title: "Loss", key: "loss" },
  { title: "Gradient norm", key: "grad_norm" },
  { title: "Parameter change", key: "param_change" },
  { title: "Weight norm", key: "weight_norm" },
  { title: "Loss improvement", key: "loss_improvement" },
] as const;

/**
 * The five panels for epoch or step records. The first record's loss improvement is left out: it
 * has no previous loss, and the recorder writes 0 there, which would read as "no improvement".
 */
function fivePanels(title: string, records: DynamicsRecord[], x: number[], xTitle: string): VegaLiteSpec {
  return seriesPanels(
    title,
    PANELS.map((p, k) => ({
      title: p.title,
      x,
      y: records.map((r, i) => (p.key === "loss_improvement" && i === 0 ? NaN : (r[p.key] ?? NaN))),
      xTitle,
      color: SERIES_COLORS[k],
    })),
    3,
  );
}

/** `runId` names the run in the titles by its last part ("adam" for …/members/adam). */
export function dynamicsFigures(runId: string, records: DynamicsRecord[]): DynamicsFigures {
  const epochs = records.filter((r) => r.type === "epoch");
  const steps = records.filter((r) => r.type === "step");
  const name = runId.split("/").pop() ?? runId;
  const epochPanels = fivePanels(
    `Training dynamics per epoch · ${name}`,
    epochs,
    epochs.map((r) => r.epoch),
    "epoch",
  );
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
  const stepPanels = steps.length
    ? fivePanels(
        `Training dynamics per step · ${name}`,
        steps,
        steps.map((r) => r.step),
        "step",
      )
    : null;
  return { epochs: epochPanels, layers, steps: stepPanels };
}
