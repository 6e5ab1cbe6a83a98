/**
 * Sweeps (#/sweeps, #/sweeps/<name>): the hyper-parameter table (filter, sort by any column), a
 * parallel-coordinates plot of the swept values against a chosen metric, every run's test-accuracy
 * curve coloured by a chosen swept value, and the best run linked. Polls while the sweep runs.
 */
import embed, { type Result, type VisualizationSpec } from "vega-embed";
import type { Curve, SweepRow } from "../../../sweep/results.js";
import { parallelSpec } from "../../../report/parallel.js";
import { clear, duration, el, pct } from "../dom.js";

type SweepDetail = {
  name: string;
  command: string;
  swept: string[];
  metrics: string[];
  rows: SweepRow[];
  curves: Curve[];
  best: string | null;
  live: boolean;
};
type SweepSummary = {
  name: string;
  command: string;
  swept: string[];
  runs: number;
  done: number;
  failed: number;
};

const POLL_MS = 1000;

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path);
  const body = (await res.json()) as T & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

const show = (v: unknown) =>
  typeof v === "number" ? String(Number(v.toPrecision(4))) : typeof v === "string" ? v : JSON.stringify(v);

export async function sweepsView(root: HTMLElement): Promise<void> {
  const { sweeps } = await getJson<{ sweeps: SweepSummary[] }>("/api/sweeps");
  root.append(el("h1", {}, "Sweeps"));
  if (!sweeps.length) {
    root.append(el("p", {}, "No sweeps in this runs folder yet. Start one with: tiller sweep run spec.json"));
    return;
  }
  const head = el(
    "tr",
    {},
    ...["Sweep", "Command", "Swept", "Runs", "Done", "Failed"].map((h) => el("th", { scope: "col" }, h)),
  );
  const body = sweeps.map((s) =>
    el(
      "tr",
      {},
      el("td", {}, el("a", { href: `#/sweeps/${encodeURIComponent(s.name)}` }, s.name)),
      ...[s.command, s.swept.join(", "), String(s.runs), String(s.done), String(s.failed)].map((t) =>
        el("td", {}, t),
      ),
    ),
  );
  root.append(
    el("table", { class: "runs", id: "sweep-list" }, el("thead", {}, head), el("tbody", {}, ...body)),
  );
}

type State = { sortKey: string; desc: boolean; filter: string; metric: string; colorBy: string };

function metricCell(row: SweepRow, key: string): string {
  const v = row[key as keyof SweepRow];
  if (typeof v !== "number") return "–";
  if (key.endsWith("accuracy")) return pct(v);
  return key === "seconds" ? duration(v) : v.toFixed(4);
}

function sortedRows(detail: SweepDetail, s: State): SweepRow[] {
  const value = (r: SweepRow): unknown =>
    s.sortKey in r ? r[s.sortKey as keyof SweepRow] : r.values[s.sortKey];
  const needle = s.filter.trim().toLowerCase();
  const shown = detail.rows.filter(
    (r) =>
      !needle ||
      [r.id, r.state, ...Object.values(r.values).map(show)].some((t) => t.toLowerCase().includes(needle)),
  );
  return shown.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    if (va === undefined || vb === undefined) return va === undefined ? (vb === undefined ? 0 : 1) : -1;
    const c = typeof va === "number" && typeof vb === "number" ? va - vb : show(va).localeCompare(show(vb));
    return s.desc ? -c : c;
  });
}

function table(detail: SweepDetail, s: State, onSort: (key: string) => void): HTMLTableElement {
  const columns = [...detail.swept, "state", ...detail.metrics, "epochs"];
  const head = el(
    "tr",
    {},
    ...columns.map((key) => {
      const sorted = s.sortKey === key;
      const button = el("button", { type: "button", class: "sort", "data-key": key }, key);
      button.addEventListener("click", () => onSort(key));
      return el(
        "th",
        { scope: "col", "aria-sort": sorted ? (s.desc ? "descending" : "ascending") : undefined },
        button,
      );
    }),
    el("th", { scope: "col" }, "run"),
  );
  const rows = sortedRows(detail, s).map((r) =>
    el(
      "tr",
      { "data-run": r.id, "data-state": r.state, class: r.id === detail.best ? "best" : undefined },
      ...detail.swept.map((k) => el("td", {}, show(r.values[k]))),
      el("td", { title: r.reason }, r.state),
      ...detail.metrics.map((m) => el("td", { class: "num" }, metricCell(r, m))),
      el("td", { class: "num" }, String(r.epochs)),
      el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
    ),
  );
  return el("table", { class: "runs", id: "sweep-table" }, el("thead", {}, head), el("tbody", {}, ...rows));
}

function curvesSpec(detail: SweepDetail, colorBy: string): VisualizationSpec {
  const values = Object.fromEntries(detail.rows.map((r) => [r.id, show(r.values[colorBy])]));
  const points = detail.curves.flatMap((c) =>
    c.epoch.map((epoch, i) => ({ run: c.id, epoch, accuracy: c.test_accuracy[i], value: values[c.id] })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `Test accuracy per epoch, coloured by ${colorBy}`,
    width: "container",
    height: 240,
    data: { values: points },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "Epoch", axis: { format: "d", tickMinStep: 1 } },
      y: {
        field: "accuracy",
        type: "quantitative",
        title: "Test accuracy",
        scale: { zero: false },
        axis: { format: ".0%" },
      },
      detail: { field: "run", type: "nominal" },
      color: { field: "value", type: "nominal", title: colorBy },
    },
  } as VisualizationSpec;
}

function select(id: string, label: string, options: string[], value: string, onChange: (v: string) => void) {
  const input = el(
    "select",
    { id },
    ...options.map((o) => el("option", { value: o, selected: o === value }, o)),
  );
  input.addEventListener("change", () => onChange(input.value));
  return el("label", {}, `${label} `, input);
}

export async function sweepView(root: HTMLElement, signal: AbortSignal, name: string): Promise<void> {
  const url = `/api/sweeps/${encodeURIComponent(name)}`;
  let detail = await getJson<SweepDetail>(url);
  const s: State = {
    sortKey: "final_accuracy",
    desc: true,
    filter: "",
    metric: "final_accuracy",
    colorBy: detail.swept[0] ?? "state",
  };
  const summary = el("p", { id: "sweep-summary", role: "status" });
  const best = el("p", { id: "best-run" });
  const parallel = el("div", { id: "sweep-parallel", class: "chart", role: "img" });
  const curves = el("div", { id: "sweep-curves", class: "chart", role: "img" });
  const tableSlot = el("div", {});
  const filter = el("input", {
    id: "sweep-filter",
    type: "search",
    placeholder: "filter: a value, a status…",
  });
  filter.addEventListener("input", () => ((s.filter = filter.value), drawTable()));
  const controls = el(
    "div",
    { class: "toolbar" },
    select("sweep-metric", "Metric", detail.metrics, s.metric, (v) => ((s.metric = v), void drawCharts())),
    select(
      "sweep-color",
      "Colour curves by",
      detail.swept,
      s.colorBy,
      (v) => ((s.colorBy = v), void drawCharts()),
    ),
    el("label", {}, "Filter ", filter),
  );
  root.append(
    el("p", { class: "crumbs" }, el("a", { href: "#/sweeps" }, "Sweeps"), " / "),
    el("h1", {}, `Sweep ${detail.name}`),
    summary,
    best,
    controls,
    el("div", { class: "chart-grid wide" }, parallel, curves),
    tableSlot,
  );
  const drawTable = () => {
    clear(tableSlot);
    tableSlot.append(
      table(detail, s, (key) => {
        s.desc = s.sortKey === key ? !s.desc : /accuracy/.test(key);
        s.sortKey = key;
        drawTable();
      }),
    );
  };
  const embedded: Result[] = [];
  const drawCharts = async () => {
    embedded.splice(0).forEach((r) => r.finalize());
    const runs = detail.rows.map((r) => ({
      id: r.id,
      values: r.values,
      metric: r[s.metric as keyof SweepRow] as number | undefined,
    }));
    const pcSpec = parallelSpec(runs, detail.swept, s.metric, {
      width: "container",
      height: 260,
    }) as VisualizationSpec;
    embedded.push(await embed(parallel, pcSpec, { renderer: "svg", actions: false, tooltip: true }));
    parallel.dataset.lines = String(runs.filter((r) => typeof r.metric === "number").length);
    parallel.setAttribute(
      "aria-label",
      `Parallel coordinates of ${detail.swept.join(", ")} against ${s.metric}`,
    );
    embedded.push(
      await embed(curves, curvesSpec(detail, s.colorBy), { renderer: "svg", actions: false, tooltip: true }),
    );
    curves.setAttribute("aria-label", `Test accuracy curves coloured by ${s.colorBy}`);
  };
  const drawAll = async () => {
    const done = detail.rows.filter((r) => r.state === "done").length;
    summary.dataset.done = String(done);
    summary.textContent = `${detail.command} · ${detail.rows.length} runs · ${done} done · ${detail.rows.filter((r) => r.state === "failed").length} failed${detail.live ? " · running, updates live" : ""}`;
    clear(best);
    const top = detail.rows.find((r) => r.id === detail.best);
    if (top)
      best.append(
        "Best run: ",
        el("a", { href: `#/runs/${encodeURIComponent(top.id)}` }, top.id),
        ` (${pct(top.final_accuracy)}; ${Object.entries(top.values)
          .map(([k, v]) => `${k} ${show(v)}`)
          .join(", ")})`,
      );
    drawTable();
    await drawCharts();
  };
  await drawAll();
  let shown = JSON.stringify(detail);
  signal.addEventListener("abort", () => embedded.forEach((r) => r.finalize()), { once: true });
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (signal.aborted) return;
    const next = await getJson<SweepDetail>(url).catch(() => null);
    if (!next || JSON.stringify(next) === shown) continue;
    detail = next;
    shown = JSON.stringify(next);
    await drawAll();
  }
}
