/**
 * Vega-Lite specs for the landscape figures: contour maps (a heatmap with isolines from marching
 * squares, since Vega-Lite has no contour mark), slices, projections, spectra, wavelet panels,
 * persistence diagrams and optimiser paths. Rendered to SVG by `src/report/`.
 */
import { colorScale } from "../report/palette.js";
import type { VegaLiteSpec } from "../report/vega.js";

import { SCHEMA } from "../report/series.js";

type Segment = { x: number; y: number; x2: number; y2: number; level: number };

/**
 * Isolines of z[row][col] over the grid (x along columns, y along rows) at the given levels, as
 * line segments (marching squares; saddle cells are split by the cell's mean).
 */
export function isolines(x: number[], y: number[], z: number[][], levels: number[]): Segment[] {
  const out: Segment[] = [];
  const lerp = (a: number, b: number, va: number, vb: number, c: number) =>
    a + ((c - va) / (vb - va)) * (b - a);
  for (const c of levels)
    for (let j = 0; j + 1 < y.length; j++)
      for (let i = 0; i + 1 < x.length; i++) {
        const v = [z[j][i], z[j][i + 1], z[j + 1][i + 1], z[j + 1][i]]; // corners counter-clockwise
        const p: [number, number][] = [
          [x[i], y[j]],
          [x[i + 1], y[j]],
          [x[i + 1], y[j + 1]],
          [x[i], y[j + 1]],
        ];
        const crossings: [number, number][] = [];
        for (let e = 0; e < 4; e++) {
          const a = e;
          const b = (e + 1) % 4;
          if (v[a] < c !== v[b] < c)
            crossings.push([lerp(p[a][0], p[b][0], v[a], v[b], c), lerp(p[a][1], p[b][1], v[a], v[b], c)]);
        }
        if (crossings.length === 2) {
          out.push({
            x: crossings[0][0],
            y: crossings[0][1],
            x2: crossings[1][0],
            y2: crossings[1][1],
            level: c,
          });
        } else if (crossings.length === 4) {
          const centreAbove = (v[0] + v[1] + v[2] + v[3]) / 4 >= c;
          const firstAbove = v[0] >= c;
          const [q0, q1, q2, q3] = crossings;
          const pairs =
            centreAbove === firstAbove
              ? [
                  [q0, q1],
                  [q2, q3],
                ]
              : [
                  [q0, q3],
                  [q1, q2],
                ];
          for (const [s, t] of pairs) out.push({ x: s[0], y: s[1], x2: t[0], y2: t[1], level: c });
        }
      }
  return out;
}

/** `count` contour levels spread over the quantiles of the values (so basins get lines too). */
export function contourLevels(values: number[], count = 12): number[] {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  return Array.from(
    { length: count },
    (_, k) => sorted[Math.floor(((k + 0.5) / count) * (sorted.length - 1))],
  ).filter((v, i, a) => i === 0 || v !== a[i - 1]);
}

export type Overlay = { label: string; points: { x: number; y: number; note?: string }[] };

/** One contour panel: heatmap cells, isolines, optional overlaid paths (trajectories, optimisers). */
export function contourPanel(
  grid: { x: number[]; y: number[]; loss: number[][] },
  o: {
    title: string;
    xTitle?: string;
    yTitle?: string;
    overlays?: Overlay[];
    colorTitle?: string;
    domain?: [number, number];
  } = {
    title: "",
  },
): VegaLiteSpec {
  const { x, y, loss } = grid;
  const half = (v: number[], i: number) =>
    v.length < 2 ? 0.5 : i + 1 < v.length ? (v[i + 1] - v[i]) / 2 : (v[i] - v[i - 1]) / 2;
  // The scale spans the cells' outer edges, so no cell spills over the axes.
  const edges = (v: number[]) => [v[0] - half(v, 0), v[v.length - 1] + half(v, v.length - 1)];
  const cells = y.flatMap((b, j) =>
    x.map((a, i) => ({
      x: a - (i > 0 ? half(x, i - 1) : half(x, i)),
      x2: a + half(x, i),
      y: b - (j > 0 ? half(y, j - 1) : half(y, j)),
      y2: b + half(y, j),
      z: loss[j][i],
    })),
  );
  const lines = isolines(x, y, loss, contourLevels(loss.flat()));
  const xs = {
    field: "x",
    type: "quantitative",
    title: o.xTitle ?? "λ₁",
    scale: { domain: edges(x), nice: false, zero: false },
  };
  const ys = {
    field: "y",
    type: "quantitative",
    title: o.yTitle ?? "λ₂",
    scale: { domain: edges(y), nice: false, zero: false },
  };
  const layers: object[] = [
    {
      data: { values: cells },
      mark: { type: "rect" },
      encoding: {
        x: xs,
        x2: { field: "x2" },
        y: ys,
        y2: { field: "y2" },
        color: {
          field: "z",
          type: "quantitative",
          title: o.colorTitle ?? "loss",
          scale: { scheme: "viridis", ...(o.domain ? { domain: o.domain } : {}) },
        },
      },
    },
    {
      data: { values: lines },
      mark: { type: "rule", color: "white", strokeWidth: 0.8, opacity: 0.8 },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        x2: { field: "x2" },
        y2: { field: "y2" },
      },
    },
  ];
  // One colour per method, the same as on every other figure and in the lab.
  const scale = colorScale((o.overlays ?? []).map((ov) => ov.label.split(":")[0]));
  const colorOf = (label: string) => scale.range[scale.domain.indexOf(label.split(":")[0])];
  const stroke = (label: string) => ({
    datum: label,
    type: "nominal",
    scale: {
      domain: (o.overlays ?? []).map((ov) => ov.label),
      range: (o.overlays ?? []).map((ov) => colorOf(ov.label)),
    },
    legend: { title: "path (○ start, ■ end)", labelLimit: 400 },
  });
  for (const ov of o.overlays ?? []) {
    const values = ov.points.map((p, i) => ({ ...p, order: i, path: ov.label }));
    layers.push({
      data: { values },
      mark: { type: "line", point: false, color: colorOf(ov.label), strokeWidth: 1.6, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        order: { field: "order" },
        stroke: stroke(ov.label),
      },
    });
    if (values.length > 1)
      layers.push({
        data: { values: [values[0], values[values.length - 1]].map((v, i) => ({ ...v, end: i === 1 })) },
        mark: { type: "point", filled: true, size: 60, stroke: "black", strokeWidth: 1, clip: true },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "y", type: "quantitative" },
          shape: { condition: { test: "datum.end", value: "square" }, value: "circle" },
          fill: { condition: { test: "datum.end", value: colorOf(ov.label) }, value: "white" },
        },
      });
  }
  return { title: o.title, width: 300, height: 300, layer: layers } as unknown as VegaLiteSpec;
}

/** Several panels side by side (the book's top_n = 4 → 2 panels), as one figure. */
export function panels(title: string, specs: VegaLiteSpec[], direction: "h" | "v" = "h"): VegaLiteSpec {
  const key = direction === "h" ? "hconcat" : "vconcat";
  return {
    $schema: SCHEMA,
    title,
    [key]: specs,
    resolve: { scale: { color: "independent", stroke: "shared" } },
  } as unknown as VegaLiteSpec;
}

/** Loss (top) and accuracy (bottom) along a 1-D parameter, start and end marked. */
export function sliceFigure(
  s: { alpha: number[]; loss: number[]; accuracy: number[] },
  title: string,
  xTitle: string,
  marks: { alpha: number; label: string }[] = [],
): VegaLiteSpec {
  const values = s.alpha.map((a, i) => ({ alpha: a, loss: s.loss[i], accuracy: s.accuracy[i] }));
  const panel = (field: "loss" | "accuracy", color: string) => ({
    width: 420,
    height: 170,
    layer: [
      {
        data: { values },
        mark: { type: "area", color, opacity: 0.15 },
        encoding: {
          x: { field: "alpha", type: "quantitative", title: xTitle },
          y: { field, type: "quantitative", title: field },
        },
      },
      {
        data: { values },
        mark: { type: "line", color, strokeWidth: 2.2 },
        encoding: {
          x: { field: "alpha", type: "quantitative" },
          y: { field, type: "quantitative", scale: { zero: false } },
        },
      },
      {
        data: { values: marks },
        mark: { type: "rule", strokeDash: [4, 3], color: "#6b7280" },
        encoding: { x: { field: "alpha", type: "quantitative" } },
      },
      {
        data: { values: marks },
        mark: { type: "text", dy: -6, align: "left", dx: 3, color: "#374151", baseline: "top", y: 0 },
        encoding: { x: { field: "alpha", type: "quantitative" }, text: { field: "label" } },
      },
    ],
  });
  return {
    $schema: SCHEMA,
    title,
    vconcat: [panel("loss", "#2563eb"), panel("accuracy", "#ea580c")],
  } as unknown as VegaLiteSpec;
}

/** 2-D embedding of checkpoints, coloured by epoch and connected in order. */
export function projectionFigure(
  points: { x: number; y: number; epoch: number; label?: string }[],
  title: string,
  method: string,
): VegaLiteSpec {
  const values = points.map((p, i) => ({ ...p, order: i, label: p.label ?? String(p.epoch) }));
  return {
    $schema: SCHEMA,
    title,
    width: 380,
    height: 300,
    data: { values },
    layer: [
      { mark: { type: "line", color: "#9ca3af", strokeWidth: 1 }, encoding: { order: { field: "order" } } },
      {
        mark: { type: "point", filled: true, size: 90 },
        encoding: {
          color: { field: "epoch", type: "quantitative", scale: { scheme: "turbo" }, title: "epoch" },
        },
      },
      { mark: { type: "text", dx: 7, dy: -7, fontSize: 10 }, encoding: { text: { field: "label" } } },
    ],
    encoding: {
      x: { field: "x", type: "quantitative", title: `${method} component 1`, scale: { zero: false } },
      y: { field: "y", type: "quantitative", title: `${method} component 2`, scale: { zero: false } },
    },
  } as unknown as VegaLiteSpec;
}

/** The smoothed eigenvalue density (log scale) with the top eigenvalues marked. */
export function densityFigure(
  curve: { grid: number[]; density: number[] },
  top: number[],
  title: string,
): VegaLiteSpec {
  const values = curve.grid.map((g, i) => ({ eigenvalue: g, density: curve.density[i] + 1e-7 }));
  return {
    $schema: SCHEMA,
    title,
    width: 460,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: "line", color: "#2563eb", strokeWidth: 1.5 },
        encoding: {
          x: { field: "eigenvalue", type: "quantitative", title: "eigenvalue" },
          y: { field: "density", type: "quantitative", title: "density (log scale)", scale: { type: "log" } },
        },
      },
      {
        data: { values: top.map((t, i) => ({ eigenvalue: t, label: `λ${i + 1}` })) },
        mark: { type: "rule", color: "#dc2626", strokeDash: [3, 3] },
        encoding: { x: { field: "eigenvalue", type: "quantitative" } },
      },
    ],
  } as unknown as VegaLiteSpec;
}

/** A matrix as a heatmap panel (wavelet coefficients). */
export function heatmapPanel(rows: number[][], title: string, colorTitle: string): VegaLiteSpec {
  const values = rows.flatMap((r, j) => r.map((v, i) => ({ i, j, v })));
  return {
    title,
    width: 150,
    height: 150,
    data: { values },
    mark: { type: "rect" },
    encoding: {
      x: { field: "i", type: "ordinal", axis: null },
      y: { field: "j", type: "ordinal", axis: null, sort: "descending" },
      color: { field: "v", type: "quantitative", scale: { scheme: "viridis" }, title: colorTitle },
    },
  } as unknown as VegaLiteSpec;
}

/** Bars of a per-level quantity. */
export function barChart(
  values: { label: string; value: number }[],
  title: string,
  yTitle: string,
  log = false,
): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    title,
    width: 320,
    height: 220,
    data: { values },
    mark: { type: "bar", color: "#2563eb" },
    encoding: {
      x: { field: "label", type: "ordinal", title: "level (1 = finest)", sort: null },
      y: { field: "value", type: "quantitative", title: yTitle, ...(log ? { scale: { type: "log" } } : {}) },
    },
  } as unknown as VegaLiteSpec;
}

/** Persistence diagram: (birth, death) per feature, coloured by dimension, with the diagonal. */
export function persistenceFigure(
  pairs: { birth: number; death: number; dimension: number }[],
  title: string,
): VegaLiteSpec {
  const finite = pairs.filter((p) => Number.isFinite(p.death));
  const lo = Math.min(...finite.map((p) => p.birth), 0);
  const hi = Math.max(...finite.map((p) => p.death), 1e-9);
  return {
    $schema: SCHEMA,
    title,
    width: 320,
    height: 320,
    layer: [
      {
        data: { values: [{ a: lo, b: hi }] },
        mark: { type: "rule", color: "#9ca3af", strokeDash: [4, 4] },
        encoding: {
          x: { field: "a", type: "quantitative" },
          y: { field: "a", type: "quantitative" },
          x2: { field: "b" },
          y2: { field: "b" },
        },
      },
      {
        data: { values: finite.map((p) => ({ ...p, dim: `H${p.dimension}` })) },
        mark: { type: "point", filled: true, size: 50, opacity: 0.8 },
        encoding: {
          x: { field: "birth", type: "quantitative", title: "birth" },
          y: { field: "death", type: "quantitative", title: "death" },
          color: {
            field: "dim",
            type: "nominal",
            title: "dimension",
            scale: { domain: ["H0", "H1"], range: ["#2563eb", "#ea580c"] },
          },
        },
      },
    ],
  } as unknown as VegaLiteSpec;
}
