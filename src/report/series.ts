/**
 * Line charts of series over epochs or steps: small multiples (one panel per series, the book's
 * five dynamics panels) and several named series in one panel. Shared by every figure module.
 */
import { SERIES_COLORS } from "./palette.js";
import type { VegaLiteSpec } from "./vega.js";

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";
/** The palette module's series colours (one palette for report and lab). */
export const PALETTE = SERIES_COLORS;

/** Whole-number ticks for a count axis (epochs) when there are few, as Vega-Lite 5 has no tickMinStep. */
function countAxis(xs: number[]): object {
  const lo = Math.ceil(Math.min(...xs));
  const hi = Math.floor(Math.max(...xs));
  if (!Number.isFinite(lo) || hi - lo > 20) return { format: "d" };
  return { values: Array.from({ length: hi - lo + 1 }, (_, i) => lo + i), format: "d" };
}

/** Small multiples of per-epoch (or per-step) series, one panel each, as the book's five panels. */
export function seriesPanels(
  title: string,
  series: { title: string; x: number[]; y: number[]; color?: string; xTitle: string }[],
  columns = 5,
): VegaLiteSpec {
  const specs = series.map((s, k) => ({
    title: s.title,
    width: 200,
    height: 160,
    data: { values: s.x.map((x, i) => ({ x, y: s.y[i] })).filter((d) => Number.isFinite(d.y)) },
    mark: { type: "line", point: s.x.length <= 40, color: s.color ?? PALETTE[k % PALETTE.length] },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: s.xTitle,
        ...(s.xTitle === "epoch" ? { axis: countAxis(s.x) } : {}),
      },
      y: { field: "y", type: "quantitative", title: s.title, scale: { zero: false } },
    },
  }));
  return { $schema: SCHEMA, title, columns, concat: specs } as unknown as VegaLiteSpec;
}

/** Several named series in one panel (per-layer gradient norms). */
export function multiLine(
  title: string,
  rows: { x: number; y: number; series: string }[],
  xTitle: string,
  yTitle: string,
  log = false,
): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title,
    width: 460,
    height: 260,
    data: { values: rows.filter((r) => Number.isFinite(r.y) && (!log || r.y > 0)) },
    mark: { type: "line", point: false },
    encoding: {
      x: {
        field: "x",
        type: "quantitative",
        title: xTitle,
        ...(xTitle === "epoch" ? { axis: countAxis(rows.map((r) => r.x)) } : {}),
      },
      y: { field: "y", type: "quantitative", title: yTitle, ...(log ? { scale: { type: "log" } } : {}) },
      color: { field: "series", type: "nominal", title: "" },
    },
  } as unknown as VegaLiteSpec;
}
