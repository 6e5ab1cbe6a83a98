/**
 * Vega-Lite charts in the page (vega-embed, SVG renderer so text stays text), with a named data
 * source that live views replace as new metrics arrive.
 */
import embed, { type Result, type VisualizationSpec } from "vega-embed";
import { SERIES_COLORS, SPLIT_COLORS } from "../palette.js";

export const DATA = "rows";

const CONFIG = {
  font: "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif",
  background: "transparent",
  range: { category: SERIES_COLORS },
  title: { fontSize: 14, fontWeight: 600, anchor: "start" as const, color: "#1f2328" },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    gridColor: "#e8ebef",
    labelColor: "#3d4650",
    titleColor: "#1f2328",
  },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  line: { strokeWidth: 2 },
  view: { stroke: "#d6dae0" },
};

export type LiveChart = {
  element: HTMLElement;
  /** Replaces the chart's rows and redraws. */
  update(rows: object[]): Promise<void>;
  finalize(): void;
};

/**
 * Draws `spec` (whose data is the named source `rows`) into `container` with an accessible label,
 * and keeps `data-rows` on the container equal to the number of rows drawn.
 */
export async function liveChart(
  container: HTMLElement,
  spec: VisualizationSpec,
  rows: object[],
  label: string,
): Promise<LiveChart> {
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", label);
  container.classList.add("chart");
  const full = {
    ...spec,
    data: { name: DATA, values: rows },
    config: { ...CONFIG, ...((spec as { config?: object }).config ?? {}) },
  } as VisualizationSpec;
  const result: Result = await embed(container, full, {
    renderer: "svg",
    actions: { export: true, source: false, compiled: false, editor: false },
    tooltip: true,
  });
  const update = async (next: object[]) => {
    await result.view.data(DATA, next).runAsync();
    container.dataset.rows = String(next.length);
  };
  container.dataset.rows = String(rows.length);
  return { element: container, update, finalize: () => result.finalize() };
}

type Field = { field: string; title: string };

/** A line chart of `y` against `x`, one line per value of `color` (if given). */
export function lineSpec(o: {
  title: string;
  x: Field & { integer?: boolean };
  y: Field & { log?: boolean; format?: string };
  color?: Field & { domain?: string[]; range?: string[] };
  points?: boolean;
  height?: number;
}): VisualizationSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: o.title,
    width: "container",
    height: o.height ?? 220,
    data: { name: DATA },
    mark: {
      type: "line",
      point: o.points ?? false,
      tooltip: true,
      ...(o.color ? {} : { color: SERIES_COLORS[0] }),
    },
    encoding: {
      x: {
        field: o.x.field,
        type: "quantitative",
        title: o.x.title,
        axis: o.x.integer ? { format: "d", tickMinStep: 1 } : {},
      },
      y: {
        field: o.y.field,
        type: "quantitative",
        title: o.y.title,
        scale: o.y.log ? { type: "log" } : { zero: false },
        ...(o.y.format ? { axis: { format: o.y.format } } : {}),
      },
      ...(o.color
        ? {
            color: {
              field: o.color.field,
              type: "nominal",
              title: o.color.title,
              ...(o.color.domain ? { scale: { domain: o.color.domain, range: o.color.range } } : {}),
            },
            // Many runs on one chart: dashes tell lines apart where colours alone might not.
            ...(o.color.domain
              ? {}
              : { strokeDash: { field: o.color.field, type: "nominal", title: o.color.title } }),
          }
        : {}),
    },
  } as VisualizationSpec;
}

export const splitColor = {
  field: "split",
  title: "Split",
  domain: ["train", "test"],
  range: [SPLIT_COLORS.train, SPLIT_COLORS.test],
};

/** Positive finite numbers only (log scales, diverged runs logging null). */
export function positive(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v > 0;
}
