// Small Vega-Lite spec builders shared by reports and later features.
import { SPLIT_COLORS as SPLIT } from "./palette.js";
import type { VegaLiteSpec } from "./vega.js";
import type { RunMetrics } from "../runs/records.js";

export interface AxisField {
  field: string;
  title: string;
}

export interface LineChartOptions {
  title: string;
  /** integer: x values are counts (epochs) — never label fractional ticks. */
  x: AxisField & { integer?: boolean };
  y: AxisField & { scale?: "linear" | "log"; format?: string; domain?: [number, number] };
  color?: AxisField & { domain?: string[]; range?: string[] };
  data: object[];
  width?: number;
  height?: number;
  /** Line colour when there is no colour field. */
  lineColor?: string;
  /** Draw a dot at each datum. Default: on when series are short enough for dots to help. */
  points?: boolean;
}

const MAX_POINTS_FOR_DOTS = 40;

export function lineChart(o: LineChartOptions): VegaLiteSpec {
  const log = o.y.scale === "log";
  const seriesLength = o.color ? o.data.length / Math.max(1, distinct(o.data, o.color.field)) : o.data.length;
  const points = o.points ?? seriesLength <= MAX_POINTS_FOR_DOTS;
  const yDomain = o.y.domain ?? (log ? undefined : padFlatDomain(numbers(o.data, o.y.field)));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: o.title,
    // Unset sizes fall back to the default config (headless rendering has no container).
    ...(o.width ? { width: o.width } : {}),
    ...(o.height ? { height: o.height } : {}),
    // Log scales cannot show zero/negative values; diverged runs log null/Infinity losses.
    data: { values: log ? o.data.filter((d) => isPositive(get(d, o.y.field))) : o.data },
    mark: { type: "line", point: points, ...(o.lineColor ? { color: o.lineColor } : {}) },
    encoding: {
      x: {
        field: o.x.field,
        type: "quantitative",
        title: o.x.title,
        axis: o.x.integer ? integerAxis(numbers(o.data, o.x.field)) : {},
      },
      y: {
        field: o.y.field,
        type: "quantitative",
        title: o.y.title,
        scale: { ...(log ? { type: "log" } : { zero: false }), ...(yDomain ? { domain: yDomain } : {}) },
        ...(o.y.format ? { axis: { format: o.y.format } } : {}),
      },
      ...(o.color
        ? {
            color: {
              field: o.color.field,
              type: "nominal",
              title: o.color.title,
              scale: { domain: o.color.domain, range: o.color.range },
            },
          }
        : {}),
    },
  } as VegaLiteSpec;
}

export type { EpochMetric, RunMetrics, StepMetric } from "../runs/records.js";

export interface TrainingCurves {
  loss: VegaLiteSpec;
  accuracy: VegaLiteSpec;
  /** Only when step events exist. */
  stepLoss?: VegaLiteSpec;
}

const SPLITS = ["train", "test"];
const SPLIT_COLORS = [SPLIT.train, SPLIT.test];

/** Loss and accuracy per epoch (train vs test), plus per-step loss when logged. */
export function trainingCurves(metrics: RunMetrics): TrainingCurves {
  const long = metrics.epochs.flatMap((e) => [
    { epoch: e.epoch, split: "train", loss: e.train_loss, accuracy: e.train_accuracy },
    { epoch: e.epoch, split: "test", loss: e.test_loss, accuracy: e.test_accuracy },
  ]);
  const color = { field: "split", title: "Split", domain: SPLITS, range: SPLIT_COLORS };
  const epoch = { field: "epoch", title: "Epoch", integer: true };
  // Whole percents collide when the accuracy range is narrow.
  const accs = long.map((d) => d.accuracy).filter((v): v is number => typeof v === "number");
  const accFormat = accs.length && Math.max(...accs) - Math.min(...accs) < 0.05 ? ".1%" : ".0%";
  const curves: TrainingCurves = {
    loss: lineChart({ title: "Loss", x: epoch, y: { field: "loss", title: "Loss" }, color, data: long }),
    accuracy: lineChart({
      title: "Accuracy",
      x: epoch,
      y: { field: "accuracy", title: "Accuracy", format: accFormat },
      color,
      data: long,
    }),
  };
  if (metrics.steps.length > 0) {
    curves.stepLoss = lineChart({
      title: "Training loss per step",
      x: { field: "step", title: "Step" },
      y: { field: "loss", title: "Loss (log scale)", scale: "log" },
      data: metrics.steps.map((s) => ({ step: s.step, epoch: s.epoch, loss: s.loss })),
      lineColor: SPLIT_COLORS[0],
    });
  }
  return curves;
}

function get(d: object, field: string): unknown {
  return (d as Record<string, unknown>)[field];
}

function isPositive(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}

function numbers(data: object[], field: string): number[] {
  return data
    .map((d) => get(d, field))
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
}

// Vega-Lite 5 does not pass tickMinStep through, so list integer ticks explicitly when there are few.
function integerAxis(xs: number[]): object {
  if (xs.length === 0) return { format: "d" };
  const lo = Math.ceil(Math.min(...xs));
  const hi = Math.floor(Math.max(...xs));
  if (hi - lo > 20) return { format: "d" };
  return { values: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i), format: "d" };
}

// A single distinct value gives a zero-width domain, which Vega labels badly; widen it a little.
function padFlatDomain(ys: number[]): [number, number] | undefined {
  if (ys.length === 0 || Math.min(...ys) !== Math.max(...ys)) return undefined;
  const pad = Math.abs(ys[0]) * 0.1 || 1;
  return [ys[0] - pad, ys[0] + pad];
}

function distinct(data: object[], field: string): number {
  return new Set(data.map((d) => get(d, field))).size;
}
