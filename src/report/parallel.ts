/**
 * Parallel coordinates of a sweep: one vertical axis per swept option and one for the metric,
 * one line per run through its values, coloured by the metric. Each axis is scaled to [0, 1]
 * on its own: numbers linearly (logarithmically when positive and spanning a factor of 10 or
 * more, as learning rates do), other values (optimiser names) as evenly spaced categories.
 * Pure data → Vega-Lite spec: the lab draws it in the page, the report renders it to SVG.
 */
import type { TopLevelSpec } from "vega-lite";

export type ParallelRun = { id: string; values: Record<string, unknown>; metric?: number };
type Point = { id: string; axis: string; y: number; label: string; metric: number | null };
type Tick = { axis: string; y: number; label: string };

const show = (v: unknown) =>
  typeof v === "number" ? String(Number(v.toPrecision(4))) : typeof v === "string" ? v : JSON.stringify(v);

/** Where each value sits on its axis, in [0, 1], and the labelled ticks of the axis. */
function axisScale(
  values: unknown[],
  endsOnly = false,
): { at(v: unknown): number; ticks: { y: number; label: string }[] } {
  const present = values.filter((v) => v !== undefined && v !== null);
  if (present.length && present.every((v) => typeof v === "number" && Number.isFinite(v))) {
    const nums = present as number[];
    const lo = Math.min(...nums);
    const hi = Math.max(...nums);
    const log = lo > 0 && hi / lo >= 10;
    const f = (x: number) => (log ? Math.log10(x) : x);
    const at = (v: unknown) => (hi === lo ? 0.5 : (f(v as number) - f(lo)) / (f(hi) - f(lo)));
    const distinct = [...new Set(nums)].sort((a, b) => a - b);
    const shown = distinct.length <= 8 && !endsOnly ? distinct : hi === lo ? [lo] : [lo, hi];
    return { at, ticks: shown.map((x) => ({ y: at(x), label: show(x) })) };
  }
  const keys = [...new Set(present.map(show))];
  const at = (v: unknown) => (keys.length === 1 ? 0.5 : keys.indexOf(show(v)) / (keys.length - 1));
  return {
    at,
    ticks: keys.map((k, i) => ({ y: keys.length === 1 ? 0.5 : i / (keys.length - 1), label: k })),
  };
}

export function parallelData(
  runs: ParallelRun[],
  dims: string[],
  metric: string,
): { points: Point[]; ticks: Tick[] } {
  const points: Point[] = [];
  const ticks: Tick[] = [];
  const metricValues = runs.map((r) => r.metric);
  const axes = [
    ...dims.map((d) => ({
      axis: d,
      scale: axisScale(runs.map((r) => r.values[d])),
      of: (r: ParallelRun) => r.values[d],
    })),
    {
      axis: metric,
      scale: axisScale(
        metricValues.filter((m) => m !== undefined),
        true,
      ),
      of: (r: ParallelRun) => r.metric,
    },
  ];
  for (const { axis, scale, of } of axes) {
    for (const t of scale.ticks) ticks.push({ axis, ...t });
    for (const r of runs) {
      const v = of(r);
      if (v === undefined || v === null) continue;
      points.push({ id: r.id, axis, y: scale.at(v), label: show(v), metric: r.metric ?? null });
    }
  }
  return { points, ticks };
}

export function parallelSpec(
  runs: ParallelRun[],
  dims: string[],
  metric: string,
  opts: { title?: string; width?: number | "container"; height?: number } = {},
): TopLevelSpec {
  const { points, ticks } = parallelData(runs, dims, metric);
  const order = [...dims, metric];
  const x = {
    field: "axis",
    type: "nominal" as const,
    sort: order,
    title: null,
    axis: { orient: "top" as const, labelAngle: 0, domain: false, ticks: false },
  };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    ...(opts.title ? { title: opts.title } : {}),
    width: opts.width ?? Math.max(360, 150 * order.length),
    height: opts.height ?? 280,
    config: { view: { stroke: null } },
    layer: [
      {
        data: { values: order.map((axis) => ({ axis })) },
        mark: { type: "rule", color: "#9aa3ad" },
        encoding: {
          x,
          y: { datum: 0, type: "quantitative", scale: { domain: [-0.04, 1.04] }, axis: null },
          y2: { datum: 1 },
        },
      },
      {
        data: { values: points },
        mark: { type: "line", strokeWidth: 2, opacity: 0.85, tooltip: true },
        encoding: {
          x,
          y: { field: "y", type: "quantitative", scale: { domain: [-0.04, 1.04] }, axis: null },
          detail: { field: "id", type: "nominal" },
          color: { field: "metric", type: "quantitative", title: metric, scale: { scheme: "viridis" } },
          tooltip: [
            { field: "id", title: "run" },
            { field: "axis", title: "axis" },
            { field: "label", title: "value" },
          ],
        },
      },
      {
        data: { values: ticks },
        mark: { type: "text", align: "left", dx: 5, fontSize: 11, color: "#3d4650" },
        encoding: {
          x,
          y: { field: "y", type: "quantitative", scale: { domain: [-0.04, 1.04] }, axis: null },
          text: { field: "label" },
        },
      },
    ],
  } as TopLevelSpec;
}
