/**
 * Vega-Lite charts in the page (vega-embed, SVG renderer so text stays text), with a named data
 * source that live views replace as new metrics arrive.
 */
import embed, { type Result, type VisualizationSpec } from "vega-embed";
import { el } from "../dom.js";
import { colorScale, SERIES_COLORS, SPLIT_COLORS } from "../palette.js";

export const DATA = "rows";

/** True when the person's system asks for dark pages (prefers-color-scheme). */
const prefersDark = () =>
  typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;

/** Chart colours for the page's scheme: text and grid follow light or dark, series colours stay. */
export function chartConfig(dark = prefersDark()) {
  const [fg, muted, grid, frame] = dark
    ? ["#e6edf3", "#b1bac4", "#30363d", "#484f58"]
    : ["#1f2328", "#3d4650", "#e8ebef", "#d6dae0"];
  return {
    font: "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif",
    background: "transparent",
    range: { category: SERIES_COLORS },
    title: { fontSize: 14, fontWeight: 600, anchor: "start" as const, color: fg, subtitleColor: muted },
    axis: {
      labelFontSize: 11,
      titleFontSize: 12,
      gridColor: grid,
      domainColor: frame,
      tickColor: frame,
      labelColor: muted,
      titleColor: fg,
    },
    // Run ids are long: show them whole rather than cut at 160 px.
    legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400, labelColor: muted, titleColor: fg },
    line: { strokeWidth: 2 },
    view: { stroke: frame },
  };
}

/** Rows as CSV (every field of every row, RFC 4180 quoting). */
export function toCsv(rows: object[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return (
    [
      keys.join(","),
      ...rows.map((r) => keys.map((k) => cell((r as Record<string, unknown>)[k])).join(",")),
    ].join("\n") + "\n"
  );
}

/** A button that downloads what a chart shows as CSV; `rows()` is read at the click. */
function csvButton(name: string, rows: () => object[]): HTMLButtonElement {
  const b = el(
    "button",
    { type: "button", class: "csv secondary", title: `Download the data of this chart as ${name}.csv` },
    "CSV",
  );
  b.addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([toCsv(rows())], { type: "text/csv" }));
    const a = el("a", { href: url, download: `${name}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  return b;
}

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
  container.classList.add("chart", "chart-box");
  let current = rows;
  const name = (container.id || label)
    .replace(/^chart-/, "")
    .replace(/[^A-Za-z0-9]+/g, "-")
    .slice(0, 60);
  const target = el("div");
  container.replaceChildren(
    target,
    csvButton(name, () => current),
  );
  const full = {
    ...spec,
    data: { name: DATA, values: rows },
    config: { ...chartConfig(), ...((spec as { config?: object }).config ?? {}) },
  } as VisualizationSpec;
  const result: Result = await embed(target, full, {
    renderer: "svg",
    actions: { export: true, source: false, compiled: false, editor: false },
    tooltip: true,
  });
  const update = async (next: object[]) => {
    current = next;
    await result.view.data(DATA, next).runAsync();
    container.dataset.rows = String(next.length);
  };
  container.dataset.rows = String(rows.length);
  return { element: container, update, finalize: () => result.finalize() };
}

type Field = { field: string; title: string };

/**
 * Whole-number ticks only (epochs): Vega's nice ticks for 1–3 are 1, 1.5, 2, … which a "d"
 * format prints as "1, 2, 2, 3, 3". At most about ten ticks, recomputed as the domain grows.
 */
export const INTEGER_AXIS = {
  format: "d",
  values: {
    expr: "sequence(ceil(domain('x')[0]), floor(domain('x')[1]) + 1, max(1, ceil(span(domain('x')) / 10)))",
  },
};

/** A line chart of `y` against `x`, one line per value of `color` (if given). */
export function lineSpec(o: {
  title: string;
  x: Field & { integer?: boolean };
  y: Field & { log?: boolean; format?: string };
  /** One line per value of `field`; `names` fixes each name's colour (known methods keep theirs). */
  color?: Field & { domain?: string[]; range?: string[]; names?: string[] };
  points?: boolean;
  height?: number;
}): VisualizationSpec {
  const fixed = o.color?.names
    ? colorScale(o.color.names)
    : o.color?.domain
      ? { domain: o.color.domain, range: o.color.range }
      : undefined;
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
        axis: o.x.integer ? INTEGER_AXIS : {},
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
              ...(fixed ? { scale: fixed } : {}),
            },
            // Many runs on one chart: dashes tell lines apart where colours alone might not.
            ...(fixed ? {} : { strokeDash: { field: o.color.field, type: "nominal", title: o.color.title } }),
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
