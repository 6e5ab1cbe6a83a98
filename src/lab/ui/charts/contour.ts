/**
 * A contour map of f on a grid (Vega's isocontour, viridis) with optimiser paths drawn over it.
 * Used for the playground's test functions and for stored loss surfaces alike.
 */
import embed, { type Result, type VisualizationSpec } from "vega-embed";
import { SERIES_COLORS, SURFACE_SCHEME } from "../palette.js";
import { chartConfig } from "./vega.js";

/** f sampled on xs × ys; `values` is row-major with row j at ys[j] (ascending). */
export type Grid = { xs: number[]; ys: number[]; values: ArrayLike<number> };
export type PathSeries = { name: string; points: [number, number][]; color?: string };
export type Marker = { x: number; y: number; label: string };

export type ContourOptions = {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  width?: number;
  height?: number;
  /** What the colours show ("loss" on a loss surface); "f" by default. */
  zTitle?: string;
  /** Contours of log(f − min): for functions with a huge range (Rosenbrock). Default: chosen from the data. */
  log?: boolean;
  levels?: number;
  markers?: Marker[];
  /** Paths' legend (names in order); without it, paths are told apart by their colours elsewhere on the page. */
  names?: string[];
};

export type ContourChart = {
  view: Result["view"];
  /** Replaces the drawn paths (each may be a prefix, for animation). */
  setPaths(paths: PathSeries[]): Promise<void>;
  finalize(): void;
};

/** True when the values span many orders of magnitude above their minimum. */
export function wantsLog(values: ArrayLike<number>): boolean {
  const finite = Array.from(values)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (finite.length < 4) return false;
  const min = finite[0];
  const median = finite[Math.floor(finite.length / 2)] - min;
  const max = finite[finite.length - 1] - min;
  return median > 0 && max / median > 5;
}

/**
 * The grid as Vega's isocontour wants it: top row first (largest y), display transform applied,
 * and a ring of copies of the border samples around it. Marching squares cut every level's
 * polygon diagonally at the grid's corners, which leaves the corners of the map blank; with the
 * ring, the cut falls outside the drawn area, which is clipped.
 */
export function displayGrid(grid: Grid, log: boolean): { width: number; height: number; values: number[] } {
  const inner = innerGrid(grid, log);
  const nx = inner.width;
  const ny = inner.height;
  const at = (i: number, j: number) =>
    inner.values[Math.min(ny - 1, Math.max(0, j)) * nx + Math.min(nx - 1, Math.max(0, i))];
  const values: number[] = [];
  for (let j = -1; j <= ny; j++) for (let i = -1; i <= nx; i++) values.push(at(i, j));
  return { width: nx + 2, height: ny + 2, values };
}

/** The grid, top row first, display transform applied (no padding). */
export function innerGrid(grid: Grid, log: boolean): { width: number; height: number; values: number[] } {
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  if (grid.values.length !== nx * ny)
    throw new Error(`grid has ${grid.values.length} values, expected ${nx}×${ny}`);
  const finite = Array.from(grid.values).filter(Number.isFinite);
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const eps = (max - min) * 1e-4 + 1e-12;
  const show = (v: number) => (!Number.isFinite(v) ? max : log ? Math.log10(v - min + eps) : v);
  const values: number[] = new Array(nx * ny);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) values[j * nx + i] = show(grid.values[(ny - 1 - j) * nx + i]);
  return { width: nx, height: ny, values };
}

/** `levels` evenly spaced contour levels starting at the smallest value. */
export function thresholds(values: number[], levels: number): number[] {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  if (!(hi > lo)) return [lo];
  return Array.from({ length: levels }, (_, k) => lo + ((hi - lo) * k) / levels);
}

/** Filled contours, the paths (one line each), their start points and the markers (minima). */
const CONTOUR_MARKS = [
  {
    type: "path",
    clip: true,
    from: { data: "contours" },
    encode: {
      enter: {
        stroke: { value: "#ffffff" },
        strokeWidth: { value: 0.4 },
        strokeOpacity: { value: 0.6 },
        fill: { scale: "fill", field: "contour.value" },
      },
    },
    transform: [{ type: "geopath", field: "datum.contour" }],
  },
  {
    type: "group",
    name: "path-groups",
    from: { facet: { name: "one-path", data: "paths", groupby: "name" } },
    marks: [
      {
        type: "line",
        name: "path-line",
        from: { data: "one-path" },
        sort: { field: "datum.i" },
        encode: {
          update: {
            x: { scale: "x", field: "x" },
            y: { scale: "y", field: "y" },
            stroke: { signal: "datum.color || scale('path', datum.name)" },
            strokeWidth: { value: 2.2 },
            description: { signal: "datum.name" },
          },
        },
      },
    ],
  },
  {
    type: "symbol",
    from: { data: "starts" },
    encode: {
      update: {
        x: { scale: "x", field: "x" },
        y: { scale: "y", field: "y" },
        shape: { value: "circle" },
        size: { value: 70 },
        fill: { value: "#ffffff" },
        stroke: { value: "#000000" },
        strokeWidth: { value: 1.5 },
      },
    },
  },
  {
    type: "symbol",
    from: { data: "ends" },
    encode: {
      update: {
        x: { scale: "x", field: "x" },
        y: { scale: "y", field: "y" },
        shape: { value: "square" },
        size: { value: 60 },
        fill: { signal: "datum.color || scale('path', datum.name)" },
        stroke: { value: "#000000" },
        strokeWidth: { value: 1.2 },
      },
    },
  },
  {
    type: "symbol",
    from: { data: "markers" },
    encode: {
      enter: {
        x: { scale: "x", field: "x" },
        y: { scale: "y", field: "y" },
        shape: { value: "cross" },
        angle: { value: 45 },
        size: { value: 90 },
        fill: { value: "#ffffff" },
        stroke: { value: "#000000" },
        strokeWidth: { value: 0.8 },
        tooltip: { field: "label" },
      },
    },
  },
];

export function contourSpec(grid: Grid, o: ContourOptions = {}): VisualizationSpec {
  const log = o.log ?? wantsLog(grid.values);
  const nx = grid.xs.length;
  const ny = grid.ys.length;
  // d3-contour puts sample (i, j) at (i + ½, j + ½): the axes extend half a cell past the samples.
  const dx = (grid.xs[nx - 1] - grid.xs[0]) / (nx - 1);
  const dy = (grid.ys[ny - 1] - grid.ys[0]) / (ny - 1);
  const names = o.names ?? [];
  const shown = displayGrid(grid, log);
  const width = o.width ?? 420;
  const height = o.height ?? 420;
  return {
    $schema: "https://vega.github.io/schema/vega/v5.json",
    ...(o.title ? { title: { text: o.title, anchor: "start", fontSize: 14, fontWeight: 600 } } : {}),
    width,
    height,
    padding: 6,
    autosize: "pad",
    // Axis, legend and title colours follow the page's light or dark scheme.
    config: {
      axis: chartConfig().axis,
      legend: chartConfig().legend,
      title: { color: chartConfig().title.color },
    },
    data: [
      { name: "grid", values: [shown] },
      {
        name: "contours",
        source: "grid",
        transform: [
          {
            type: "isocontour",
            // From the minimum up, so every cell is filled (nothing left white below the first level).
            thresholds: thresholds(shown.values, o.levels ?? 18),
            // Cells of the inner grid; the padding ring lies one cell outside the plot, clipped.
            scale: [width / nx, height / ny],
            translate: [-width / nx, -height / ny],
          },
        ],
      },
      { name: "paths", values: [] },
      { name: "starts", source: "paths", transform: [{ type: "filter", expr: "datum.i === 0" }] },
      {
        name: "ends",
        source: "paths",
        transform: [
          { type: "joinaggregate", groupby: ["name"], fields: ["i"], ops: ["max"], as: ["last"] },
          { type: "filter", expr: "datum.i > 0 && datum.i === datum.last" },
        ],
      },
      { name: "markers", values: o.markers ?? [] },
    ],
    scales: [
      {
        name: "x",
        type: "linear",
        domain: [grid.xs[0] - dx / 2, grid.xs[nx - 1] + dx / 2],
        range: "width",
        zero: false,
        nice: false,
      },
      {
        name: "y",
        type: "linear",
        domain: [grid.ys[0] - dy / 2, grid.ys[ny - 1] + dy / 2],
        range: "height",
        zero: false,
        nice: false,
      },
      {
        name: "fill",
        type: "linear",
        domain: { data: "contours", field: "contour.value" },
        range: { scheme: SURFACE_SCHEME },
        zero: false,
      },
      {
        name: "path",
        type: "ordinal",
        domain: names.length ? names : { data: "paths", field: "name" },
        range: SERIES_COLORS,
      },
    ],
    axes: [
      { scale: "x", orient: "bottom", title: o.xTitle ?? "x", grid: false },
      { scale: "y", orient: "left", title: o.yTitle ?? "y", grid: false },
    ],
    legends: [
      {
        fill: "fill",
        type: "gradient",
        title: log ? `log₁₀(${o.zTitle ?? "f"} − min)` : (o.zTitle ?? "f"),
        gradientLength: { signal: "height - 40" },
      },
      ...(names.length ? [{ stroke: "path", title: "optimiser", symbolType: "stroke" }] : []),
    ],
    marks: CONTOUR_MARKS,
  } as VisualizationSpec;
}

export async function contourChart(
  container: HTMLElement,
  grid: Grid,
  o: ContourOptions & { label: string },
): Promise<ContourChart> {
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", o.label);
  container.classList.add("chart");
  const result = await embed(container, contourSpec(grid, o), {
    renderer: "svg",
    actions: { export: true, source: false, compiled: false, editor: false },
  });
  return {
    view: result.view,
    async setPaths(paths) {
      const rows = paths.flatMap((p) =>
        p.points.map(([x, y], i) => ({ name: p.name, i, x, y, color: p.color })),
      );
      await result.view.data("paths", rows).runAsync();
      container.dataset.pathPoints = paths.map((p) => `${p.name}:${p.points.length}`).join(",");
    },
    finalize: () => result.finalize(),
  };
}
