/**
 * Training curves as TensorBoard and W&B show them: one set of controls per page — smoothing
 * (TensorBoard's debiased exponential moving average, the raw line kept faint behind), a log or
 * linear y axis, and the x axis by step, epoch or wall time — applied to every curve on the page.
 * The controls are remembered in the browser between pages.
 */
import type { VisualizationSpec } from "vega-embed";
import { el } from "../dom.js";
import { lineSpec, liveChart, positive, type LiveChart } from "./vega.js";

export type XAxis = "step" | "epoch" | "wall";
export type CurveSettings = { smoothing: number; log: boolean; x: XAxis };

const STORE = "tiller-lab-curves";
export const DEFAULT_SETTINGS: CurveSettings = { smoothing: 0, log: true, x: "step" };
const X_FIELDS: Record<XAxis, { field: string; title: string }> = {
  step: { field: "step", title: "Step" },
  epoch: { field: "epoch", title: "Epoch" },
  wall: { field: "elapsed_s", title: "Wall time (s)" },
};

export function loadSettings(): CurveSettings {
  try {
    const v = JSON.parse(localStorage.getItem(STORE) ?? "{}") as Partial<CurveSettings>;
    return {
      smoothing: typeof v.smoothing === "number" && v.smoothing >= 0 && v.smoothing < 1 ? v.smoothing : 0,
      log: typeof v.log === "boolean" ? v.log : true,
      x: v.x === "epoch" || v.x === "wall" ? v.x : "step",
    };
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

/**
 * TensorBoard's smoothing: an exponential moving average with weight `w` in [0, 1), divided by
 * 1 − wᵗ so the first points are not pulled towards zero. Non-finite values pass through.
 */
export function smooth(ys: number[], w: number): number[] {
  let last = 0;
  let n = 0;
  return ys.map((y) => {
    if (!Number.isFinite(y)) return y;
    last = last * w + (1 - w) * y;
    n++;
    return w === 0 ? y : last / (1 - w ** n);
  });
}

/** The controls; `onChange` gets the new settings (already stored). */
export function curveTools(s: CurveSettings, onChange: (s: CurveSettings) => void): HTMLElement {
  const slider = el("input", {
    type: "range",
    id: "curve-smoothing",
    min: 0,
    max: 0.99,
    step: 0.01,
    value: s.smoothing,
  });
  const shown = el("output", { for: "curve-smoothing" }, s.smoothing.toFixed(2));
  const log = el("input", { type: "checkbox", id: "curve-log" });
  log.checked = s.log;
  const x = el(
    "select",
    { id: "curve-x" },
    ...(["step", "epoch", "wall"] as const).map((v) =>
      el("option", { value: v, selected: v === s.x }, v === "wall" ? "wall time" : v),
    ),
  );
  const changed = () => {
    const next: CurveSettings = { smoothing: Number(slider.value), log: log.checked, x: x.value as XAxis };
    shown.textContent = next.smoothing.toFixed(2);
    localStorage.setItem(STORE, JSON.stringify(next));
    onChange(next);
  };
  slider.addEventListener("change", changed);
  slider.addEventListener("input", () => (shown.textContent = Number(slider.value).toFixed(2)));
  log.addEventListener("change", changed);
  x.addEventListener("change", changed);
  return el(
    "div",
    { class: "chart-tools", role: "group", "aria-label": "Curve settings" },
    el("label", {}, "Smoothing ", slider, shown),
    el("label", {}, log, " log scale (loss, gradient norm)"),
    el("label", {}, "x axis ", x),
  );
}

export type Curve = {
  title: string;
  label: string;
  y: {
    field: string;
    title: string;
    format?: string;
    /** May be shown on a log scale. */ scalable?: boolean;
  };
  color?: Parameters<typeof lineSpec>[0]["color"];
  points?: boolean;
};

export type CurveChart = {
  update(rows: object[]): Promise<void>;
  apply(s: CurveSettings): Promise<void>;
  finalize(): void;
};

type Row = Record<string, unknown>;

/** The rows as drawn: x chosen, non-positive values dropped on a log axis, a smoothed copy of y. */
export function curveRows(rows: object[], c: Curve, s: CurveSettings): { rows: Row[]; x: XAxis } {
  const all = rows as Row[];
  // A chart whose rows lack the chosen x (epoch summaries without steps) falls back to epochs.
  const x = all.length && all.every((r) => typeof r[X_FIELDS[s.x].field] === "number") ? s.x : "epoch";
  const log = s.log && !!c.y.scalable;
  const kept = all.filter((r) => (log ? positive(r[c.y.field]) : typeof r[c.y.field] === "number"));
  if (s.smoothing === 0) return { rows: kept, x };
  const key = c.color?.field;
  const out: Row[] = [];
  for (const series of new Set(kept.map((r) => (key ? r[key] : "")))) {
    const mine = kept.filter((r) => (key ? r[key] : "") === series);
    const ys = smooth(
      mine.map((r) => r[c.y.field] as number),
      s.smoothing,
    );
    mine.forEach((r, i) => out.push({ ...r, smoothed: ys[i] }));
  }
  return { rows: out, x };
}

function curveSpec(c: Curve, s: CurveSettings, x: XAxis): VisualizationSpec {
  const log = s.log && !!c.y.scalable;
  const base = lineSpec({
    title: c.title,
    // Steps are whole numbers, and so are epochs on per-epoch charts (per-step rows have fractions).
    x: { ...X_FIELDS[x], integer: x === "step" || (x === "epoch" && !!c.points) },
    y: { field: c.y.field, title: c.y.title + (log ? " (log scale)" : ""), log, format: c.y.format },
    color: c.color,
    points: c.points,
  }) as Record<string, unknown> & { encoding: Record<string, unknown>; mark: Record<string, unknown> };
  if (s.smoothing === 0) return base as VisualizationSpec;
  const { mark, encoding, ...rest } = base;
  const y = encoding.y as Record<string, unknown>;
  return {
    ...rest,
    encoding: { x: encoding.x, ...(encoding.color ? { color: encoding.color } : {}) },
    layer: [
      { mark: { ...mark, point: false, opacity: 0.25, tooltip: false }, encoding: { y } },
      { mark: { ...mark, point: false }, encoding: { y: { ...y, field: "smoothed" } } },
    ],
  } as VisualizationSpec;
}

/** A curve that follows the page's settings: new rows redraw it, new settings rebuild it. */
export async function curveChart(
  container: HTMLElement,
  c: Curve,
  rows: object[],
  s: CurveSettings,
): Promise<CurveChart> {
  let raw = rows;
  let settings = s;
  let chart: LiveChart | undefined;
  let x: XAxis | undefined;
  const draw = async () => {
    const shown = curveRows(raw, c, settings);
    if (chart && shown.x === x) return chart.update(shown.rows);
    chart?.finalize();
    x = shown.x;
    chart = await liveChart(container, curveSpec(c, settings, shown.x), shown.rows, c.label);
    container.dataset.x = shown.x;
    container.dataset.scale = settings.log && c.y.scalable ? "log" : "linear";
    container.dataset.smoothing = String(settings.smoothing);
  };
  await draw();
  return {
    async update(next) {
      raw = next;
      await draw();
    },
    async apply(next) {
      settings = next;
      chart?.finalize();
      chart = undefined;
      x = undefined;
      await draw();
    },
    finalize: () => chart?.finalize(),
  };
}
