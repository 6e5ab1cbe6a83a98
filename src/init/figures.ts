/** Vega-Lite specs for comparing initialisers: loss curves per method, singular-value spectra per layer. */
import { lineChart, type VegaLiteSpec } from "../report/index.js";
import { colorScale } from "../report/palette.js";

/**
 * Smoothed training loss per step for each method, x in epochs, log y. The y range is that of the
 * methods that did not diverge (`diverged`), so one exploding run does not flatten the others;
 * points above it are left out (resvg 2.6 panics on a clipped line that lies wholly outside its
 * clip region, so Vega's `clip` is not an option).
 */
export function lossCurvesChart(
  curves: { method: string; epoch: number; loss: number }[],
  methods: string[],
  diverged: string[] = [],
): VegaLiteSpec {
  const finite = curves.filter((c) => Number.isFinite(c.loss) && c.loss > 0);
  const kept = finite.filter((c) => !diverged.includes(c.method));
  const ys = (kept.length ? kept : finite).map((c) => c.loss);
  const domain: [number, number] | undefined = ys.length
    ? [Math.min(...ys) * 0.8, Math.max(...ys) * 1.25]
    : undefined;
  return lineChart({
    title: "Training loss per method (trailing mean over 5% of an epoch)",
    x: { field: "epoch", title: "Epoch" },
    y: { field: "loss", title: "Training loss (log scale)", scale: "log", domain, format: "~g" },
    color: {
      field: "method",
      title: "Initialiser",
      domain: methods,
      range: colorScale(methods).range,
    },
    data: domain ? finite.filter((c) => c.loss <= domain[1]) : finite,
    points: false,
    width: 560,
    height: 320,
  });
}

export type SpectrumPoint = { method: string; layer: string; phase: string; index: number; sigma: number };

/**
 * σ_i against i/k for every weight matrix (rows) at init and after training (columns), one line
 * per method, log y. Non-positive or non-finite σ (a diverged run) cannot sit on a log axis and
 * are left out.
 */
export function spectraChart(points: SpectrumPoint[], methods: string[], layers: string[]): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "Singular values of each weight matrix",
    data: { values: points.filter((p) => Number.isFinite(p.sigma) && p.sigma > 0) },
    facet: {
      row: { field: "layer", type: "nominal", title: "Weight", sort: layers },
      column: { field: "phase", type: "nominal", title: null, sort: ["at init", "after training"] },
    },
    spec: {
      width: 260,
      height: 150,
      mark: { type: "line", strokeWidth: 1.5 },
      encoding: {
        x: { field: "index", type: "quantitative", title: "i / k", scale: { domain: [0, 1] } },
        y: {
          field: "sigma",
          type: "quantitative",
          title: "σᵢ (log scale)",
          scale: { type: "log" },
          axis: { format: "~g", tickCount: 5 },
        },
        color: {
          field: "method",
          type: "nominal",
          title: "Initialiser",
          scale: colorScale(methods),
        },
      },
    },
  } as VegaLiteSpec;
}
