/**
 * Interactive views of a run's analysis results, chosen by the file and what it declares:
 * `landscape/<name>.json` records (format tiller-landscape-v1: surfaces, Hessian spectra,
 * interpolations, Gaussian fits, optimiser paths, …), Curvature Tuning's `results.json` (accuracy
 * vs β) and markdown tables (`table.md`: SVF and CT comparisons). Each reader checks the shape it
 * needs and says what is missing instead of drawing nonsense. Figures (figures/*.svg) need no
 * reader: the run page shows every one of them, so a new analysis is visible before it has a view.
 */
import { api, fileUrl, type RunDetail } from "../api.js";
import { contourChart, type Grid } from "../charts/contour.js";
import { lineSpec, liveChart } from "../charts/vega.js";
import { el, put } from "../dom.js";
import { methodColor, SERIES_COLORS } from "../palette.js";
import { columnsOf, dataTable } from "../tables/data-table.js";
import { percent as pct, sig } from "../../../report/format.js";
import { dynamicsView, membersView } from "./series.js";
import type { VisualizationSpec } from "vega-embed";

type Json = Record<string, unknown>;
type View = { title: string; render(body: HTMLElement): Promise<void> };

export const LANDSCAPE_FORMAT = "tiller-landscape-v1";

/** Surfaces first, then spectra, slices, fits and paths; everything else after, by name. */
const ORDER = [
  /^summary\.json$/,
  /landscape\/[^/]*surface(?!-fit|-paths)/,
  /landscape\/[^/]*hessian/,
  /landscape\/[^/]*interpolation/,
  /-fit\.json$/,
  /-paths\.json$/,
  /^results\.json$/,
  /^table\.json$/,
  /\.md$/,
];
const rank = (path: string) => {
  const i = ORDER.findIndex((re) => re.test(path));
  return i < 0 ? ORDER.length : i;
};

export async function analysisViews(section: HTMLElement, d: RunDetail): Promise<void> {
  const live = () => section.isConnected && d.status === "running";
  if (Array.isArray(d.config.members)) {
    const body = el("div", { class: "analysis-body" });
    section.append(
      el("section", { class: "card analysis", id: "members" }, el("h2", {}, "Optimisers compared"), body),
    );
    void membersView(body, d, live);
  }
  for (const f of d.files.filter((f) => /^(members\/[^/]+\/)?dynamics\.jsonl$/.test(f.path))) {
    const body = el("div", { class: "analysis-body" });
    const of = f.path.replace(/\/?dynamics\.jsonl$/, "");
    section.append(
      el(
        "section",
        { class: "card analysis", id: of ? `dynamics-${of.split("/").pop()}` : "dynamics" },
        el("h2", {}, of ? `Training dynamics · ${of}` : "Training dynamics"),
        body,
      ),
    );
    void dynamicsView(body, d, live, f.path);
  }
  const files = [...d.files].sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  for (const f of files) {
    const load = () => (f.path.endsWith(".md") ? fetchText(d.id, f.path) : api.json<unknown>(d.id, f.path));
    let view: View | undefined;
    try {
      if (/^(members\/[^/]+\/)?landscape\/[^/]+\.json$/.test(f.path))
        view = landscapeView(f.path, (await load()) as Json);
      else if (f.path === "results.json")
        view = resultsView(
          (await load()) as Json,
          d.files.some((g) => g.path === "table.md"),
        );
      else if (f.path === "summary.json") view = summaryView((await load()) as unknown);
      else if (f.path === "table.json") view = columnsTableView((await load()) as Json);
      else if (/^[^/]+\.md$/.test(f.path)) view = markdownView(f.path, (await load()) as string);
    } catch (e) {
      view = {
        title: f.path,
        render: async (b) => void b.append(problem(`Cannot read ${f.path}: ${(e as Error).message}`)),
      };
    }
    if (!view) continue;
    const body = el("div", { class: "analysis-body" });
    section.append(
      el("section", { class: "card analysis", "data-file": f.path }, el("h2", {}, view.title), body),
    );
    try {
      await view.render(body);
    } catch (e) {
      body.append(problem(`Cannot draw ${f.path}: ${(e as Error).message}`));
    }
  }
}

function landscapeView(path: string, r: Json): View | undefined {
  if (r.format !== LANDSCAPE_FORMAT) return undefined;
  // A member's result (members/adam/landscape/…) says whose it is.
  const member = /^members\/([^/]+)\//.exec(path)?.[1];
  const name = String(r.name ?? path) + (member ? ` (${member})` : "");
  switch (r.kind) {
    case "surface":
      return { title: `Loss surface · ${name}`, render: (b) => renderSurface(b, r, name) };
    case "hessian":
      return { title: `Hessian spectrum · ${name}`, render: (b) => renderHessian(b, r, name) };
    case "interpolation":
      return { title: `Linear interpolation · ${name}`, render: (b) => renderSlice(b, r, name, "α") };
    case "fit":
      return { title: `Gaussian fit · ${name}`, render: async (b) => renderFit(b, r) };
    case "paths":
      return {
        title: `Optimiser paths · ${name}`,
        render: async (b) => {
          renderPaths(b, r);
          await drawStoredPaths(b, r, name);
        },
      };
    default:
      return { title: `${String(r.kind)} · ${name}`, render: async (b) => renderNumbers(b, r) };
  }
}

// ---- surfaces ----

type Grid2D = { x: number[]; y: number[]; loss: number[][]; accuracy?: number[][] };

export function surfaceGrid(g: unknown): Grid {
  const grid = g as Grid2D;
  if (!isNumbers(grid?.x) || !isNumbers(grid?.y) || !Array.isArray(grid?.loss))
    throw new Error("a surface panel needs grid.x, grid.y and grid.loss");
  const values = grid.loss.flat().map((v) => (typeof v === "number" ? v : NaN));
  if (grid.loss.length !== grid.y.length || values.length !== grid.x.length * grid.y.length)
    throw new Error(`grid.loss is not ${grid.y.length}×${grid.x.length}`);
  return { xs: grid.x, ys: grid.y, values };
}

function axisLabels(provenance: Json | undefined, pair: [number, number]): [string, string] {
  const label = (i: number) => {
    if (provenance?.kind === "hessian" && isNumbers(provenance.eigenvalues))
      return `eigenvector ${i + 1} (λ = ${provenance.eigenvalues[i]?.toPrecision(4)})`;
    if (provenance?.kind === "pca" && isNumbers(provenance.explainedVarianceRatio))
      return `PC ${i + 1} (${(100 * provenance.explainedVarianceRatio[i]).toFixed(1)}%)`;
    return `direction ${i + 1}`;
  };
  return [label(pair[0]), label(pair[1])];
}

async function renderSurface(body: HTMLElement, r: Json, name: string): Promise<void> {
  const panels = r.panels as {
    directions?: [number, number];
    grid: unknown;
    trajectory?: { epoch: number; x: number; y: number }[];
  }[];
  if (!Array.isArray(panels) || panels.length === 0) throw new Error("no panels");
  const center = r.center as { loss?: number; accuracy?: number } | undefined;
  const provenance = r.directions as Json | undefined;
  body.append(
    el(
      "p",
      { class: "facts" },
      `Directions: ${String(provenance?.kind ?? "?")}` +
        (center?.loss !== undefined ? ` · centre loss ${fmt(center.loss)}` : "") +
        (center?.accuracy !== undefined ? ` · accuracy ${(100 * center.accuracy).toFixed(2)}%` : "") +
        (typeof r.pointsPerSecond === "number" ? ` · ${r.pointsPerSecond.toFixed(1)} points/s` : ""),
    ),
  );
  for (const [k, panel] of panels.entries()) {
    const grid = surfaceGrid(panel.grid);
    const [xTitle, yTitle] = axisLabels(provenance, panel.directions ?? [2 * k, 2 * k + 1]);
    const contour = el("div", { class: "contour" });
    const surface = el("div", { class: "surface" });
    body.append(el("div", { class: "pair" }, contour, surface));
    const trajectory = Array.isArray(panel.trajectory) ? panel.trajectory : [];
    const chart = await contourChart(contour, grid, {
      label: `Contour map of the loss surface ${name}, panel ${k + 1}`,
      title: panels.length > 1 ? `Loss, panel ${k + 1} of ${panels.length}` : "Loss around the checkpoint",
      zTitle: "loss",
      xTitle,
      yTitle,
      width: 380,
      height: 380,
      log: false,
      names: trajectory.length ? ["training trajectory"] : [],
      markers: [{ x: 0, y: 0, label: "the checkpoint (centre)" }],
    });
    if (trajectory.length)
      await chart.setPaths([
        { name: "training trajectory", points: trajectory.map((t) => [t.x, t.y] as [number, number]) },
      ]);
    const { surface3d } = await import("../charts/surface3d.js");
    await surface3d(surface, grid, {
      label: `3-D loss surface ${name}, panel ${k + 1}`,
      xTitle,
      yTitle,
      zTitle: "loss",
      log: false,
      height: 400,
    });
  }
}

// ---- Hessian ----

async function renderHessian(body: HTMLElement, r: Json, name: string): Promise<void> {
  const eigen = r.eigen as
    { eigenvalues?: number[]; method?: string; converged?: boolean[] | boolean } | undefined;
  const trace = r.trace as { estimate?: number; stderr?: number; samples?: number } | null | undefined;
  const values = isNumbers(eigen?.eigenvalues) ? eigen!.eigenvalues : [];
  body.append(
    el(
      "p",
      { class: "facts" },
      [
        values.length
          ? `top ${values.length} eigenvalues (${eigen?.method ?? "?"}): ${values.map((v) => v.toPrecision(4)).join(", ")}`
          : null,
        typeof trace?.estimate === "number"
          ? `trace ≈ ${trace.estimate.toPrecision(4)}${typeof trace.stderr === "number" ? ` ± ${trace.stderr.toPrecision(2)}` : ""} (Hutchinson, ${trace.samples ?? "?"} samples)`
          : null,
      ]
        .filter(Boolean)
        .join(" · "),
    ),
  );
  const grid = el("div", { class: "chart-grid" });
  body.append(grid);
  if (values.length)
    await liveChart(
      grid.appendChild(el("div")),
      {
        $schema: "https://vega.github.io/schema/vega-lite/v5.json",
        title: "Top eigenvalues",
        width: "container",
        height: 200,
        mark: { type: "bar", tooltip: true, color: SERIES_COLORS[0] },
        encoding: {
          x: { field: "rank", type: "ordinal", title: "rank" },
          y: { field: "eigenvalue", type: "quantitative", title: "eigenvalue λ" },
        },
      } as VisualizationSpec,
      values.map((v, i) => ({ rank: i + 1, eigenvalue: v })),
      `Top ${values.length} Hessian eigenvalues of ${name}`,
    );
  const density = r.density as { nodes?: number[][]; weights?: number[][] } | null | undefined;
  if (density?.nodes && density.weights) {
    const { densityCurve } = await import("../../../landscape/hessian.js");
    const curve = densityCurve({ nodes: density.nodes, weights: density.weights }, { bins: 600 });
    await liveChart(
      grid.appendChild(el("div")),
      lineSpec({
        title: "Eigenvalue density (SLQ)",
        x: { field: "eigenvalue", title: "eigenvalue λ" },
        y: { field: "density", title: "density" },
      }),
      curve.grid.map((x, i) => ({ eigenvalue: x, density: curve.density[i] })),
      `Hessian eigenvalue density of ${name} by stochastic Lanczos quadrature`,
    );
  }
}

// ---- 1-D slices ----

async function renderSlice(body: HTMLElement, r: Json, name: string, xTitle: string): Promise<void> {
  const alpha = r.alpha;
  const loss = r.loss;
  if (!isNumbers(alpha) || !Array.isArray(loss)) throw new Error("expected alpha and loss arrays");
  const acc = Array.isArray(r.accuracy) ? (r.accuracy as number[]) : [];
  const grid = el("div", { class: "chart-grid" });
  body.append(grid);
  await liveChart(
    grid.appendChild(el("div")),
    lineSpec({
      title: "Loss",
      x: { field: "alpha", title: xTitle },
      y: { field: "loss", title: "loss" },
      points: true,
    }),
    alpha.map((a, i) => ({ alpha: a, loss: loss[i] })).filter((p) => typeof p.loss === "number"),
    `Loss along ${name}`,
  );
  if (acc.length)
    await liveChart(
      grid.appendChild(el("div")),
      lineSpec({
        title: "Accuracy",
        x: { field: "alpha", title: xTitle },
        y: { field: "accuracy", title: "accuracy", format: ".0%" },
        points: true,
      }),
      alpha.map((a, i) => ({ alpha: a, accuracy: acc[i] })).filter((p) => typeof p.accuracy === "number"),
      `Accuracy along ${name}`,
    );
}

// ---- Gaussian fit and paths: hand them to the playground ----

/** The playground's gaussian parameters from a fit's (whose σX, σY are the function's σ1, σ2). */
export function gaussianFunctionParams(params: Json): Record<string, number> | undefined {
  const map: Record<string, string> = {
    A: "A",
    x0: "x0",
    y0: "y0",
    sigmaX: "sigma1",
    sigmaY: "sigma2",
    sigma1: "sigma1",
    sigma2: "sigma2",
    offset: "offset",
  };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(params))
    if (map[k] && typeof v === "number" && Number.isFinite(v))
      out[map[k]] = k.startsWith("sigma") ? Math.abs(v) : v;
  return ["A", "x0", "y0", "sigma1", "sigma2", "offset"].every((k) => k in out) ? out : undefined;
}

/** Playground URL for a fitted Gaussian, with optional start, steps and optimisers. */
export function playgroundLink(params: Json, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ fn: "gaussian" });
  for (const [k, v] of Object.entries(gaussianFunctionParams(params) ?? {})) q.set(`f.${k}`, String(v));
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return `#/playground?${q.toString()}`;
}

function renderFit(body: HTMLElement, r: Json): void {
  const params = r.params as Json | undefined;
  const stderr = (r.stderr ?? {}) as Json;
  if (!params) throw new Error("no params");
  put(
    body,
    el(
      "table",
      { class: "results" },
      el(
        "caption",
        {},
        `z = offset − A·exp(−((x−x0)²/(2σX²) + (y−y0)²/(2σY²))) · R² ${fmt(r.r2 as number)} · RMSE ${fmt(r.rmse as number)}`,
      ),
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, "parameter"),
          el("th", { scope: "col" }, "value"),
          el("th", { scope: "col" }, "± stderr"),
        ),
      ),
      el(
        "tbody",
        {},
        ...Object.entries(params).map(([k, v]) =>
          el(
            "tr",
            {},
            el("td", {}, k),
            el("td", {}, fmt(v as number)),
            el("td", {}, fmt(stderr[k] as number)),
          ),
        ),
      ),
    ),
    typeof r.printed === "string" ? el("pre", { class: "log" }, r.printed) : null,
    el("p", {}, el("a", { href: playgroundLink(params) }, "Open this Gaussian in the optimiser playground")),
  );
}

function renderPaths(body: HTMLElement, r: Json): void {
  const fn = r.function as { name?: string; params?: Json } | undefined;
  const paths = (Array.isArray(r.paths) ? r.paths : []) as {
    optimizer?: string;
    config?: Json;
    points?: [number, number][];
    values?: number[];
  }[];
  const start = isNumbers(r.start) ? r.start : undefined;
  const opt = paths
    .map((p) => {
      const c = (p.config ?? {}) as Record<string, unknown>;
      const name = String(c.name ?? p.optimizer ?? "");
      const extras = Object.entries(c).filter(
        ([k, v]) => k !== "name" && (typeof v === "number" || typeof v === "boolean"),
      );
      return [name, ...extras.map(([k, v]) => `${k}=${v}`)].join(",");
    })
    .join(";");
  put(
    body,
    el(
      "table",
      { class: "results" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          ...["optimiser", "steps", "end point", "f(end)"].map((h) => el("th", { scope: "col" }, h)),
        ),
      ),
      el(
        "tbody",
        {},
        ...paths.map((p) => {
          const last = p.points?.at(-1);
          return el(
            "tr",
            {},
            el("td", {}, String(p.optimizer ?? "?")),
            el("td", {}, String((p.points?.length ?? 1) - 1)),
            el("td", {}, last ? `(${fmt(last[0])}, ${fmt(last[1])})` : "–"),
            el("td", {}, fmt(p.values?.at(-1))),
          );
        }),
      ),
    ),
    fn?.name === "gaussian" && fn.params
      ? el(
          "p",
          {},
          el(
            "a",
            {
              href: playgroundLink(fn.params, {
                ...(start ? { start: start.join(",") } : {}),
                ...(typeof r.steps === "number" ? { steps: String(r.steps) } : {}),
                opt,
              }),
            },
            "Replay these paths in the optimiser playground",
          ),
        )
      : null,
  );
}

/**
 * The stored paths over a contour map of their function, evaluated here with the library's own
 * test functions (the playground's code, loaded on demand).
 */
async function drawStoredPaths(body: HTMLElement, r: Json, name: string): Promise<void> {
  const fn = r.function as { name?: string; params?: Record<string, number> } | undefined;
  const paths = (Array.isArray(r.paths) ? r.paths : []) as {
    optimizer?: string;
    points?: [number, number][];
  }[];
  if (!fn?.name || !paths.length) return;
  const [{ startEngine }, { evaluateGrid, testFunction }] = await Promise.all([
    import("../../../engine/device.js"),
    import("../../../landscape/functions.js"),
  ]);
  await startEngine("wasm");
  const f = testFunction(fn.name, fn.params ?? {});
  const points = paths
    .flatMap((p) => p.points ?? [])
    .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  // The function's window, widened to hold every path.
  const domain = {
    x: [
      Math.min(f.domain.x[0], ...points.map((p) => p[0])),
      Math.max(f.domain.x[1], ...points.map((p) => p[0])),
    ] as [number, number],
    y: [
      Math.min(f.domain.y[0], ...points.map((p) => p[1])),
      Math.max(f.domain.y[1], ...points.map((p) => p[1])),
    ] as [number, number],
  };
  const g = await evaluateGrid(f, 80, 80, domain);
  const container = el("div", { class: "contour" });
  body.prepend(container);
  const labels = paths.map((p, i) => String(p.optimizer ?? `path ${i + 1}`));
  const chart = await contourChart(
    container,
    { xs: g.xs, ys: g.ys, values: g.values },
    {
      label: `Optimiser paths of ${name} on the contour map of ${fn.name}`,
      title: `${fn.name}(x, y)`,
      names: labels,
      width: 420,
      height: 420,
      markers: f.minima.map(([x, y]) => ({ x, y, label: `minimum (${x}, ${y})` })),
    },
  );
  await chart.setPaths(paths.map((p, i) => ({ name: labels[i], points: p.points ?? [] })));
}

// ---- anything else: its printed summary and its numbers ----

function renderNumbers(body: HTMLElement, r: Json): Promise<void> {
  if (typeof r.printed === "string") body.append(el("pre", { class: "log" }, r.printed));
  const rows = Object.entries(r).filter(
    ([k, v]) =>
      !["format", "kind", "name", "printed"].includes(k) &&
      (typeof v === "number" || typeof v === "string" || typeof v === "boolean"),
  );
  if (rows.length)
    body.append(
      el(
        "table",
        { class: "results" },
        el(
          "tbody",
          {},
          ...rows.map(([k, v]) =>
            el("tr", {}, el("td", {}, k), el("td", {}, typeof v === "number" ? fmt(v) : String(v))),
          ),
        ),
      ),
    );
  return Promise.resolve();
}

// ---- Curvature Tuning: accuracy vs β ----

type BetaScore = { beta: number; valAccuracy: number; testAccuracy: number };

/** `withTable`: the run also wrote table.md, the same rows formatted; show them once, there. */
function resultsView(r: Json, withTable: boolean): View | undefined {
  const search = (Array.isArray(r.scores) ? r : (r.search as Json | null)) ?? undefined;
  const scores = search?.scores as BetaScore[] | undefined;
  const rows = Array.isArray(r.rows) ? (r.rows as Json[]) : undefined;
  const ok = Array.isArray(scores) && scores.every((s) => typeof s.beta === "number");
  if (!ok && (!rows || withTable)) return undefined;
  return {
    title: ok ? "Curvature Tuning: accuracy vs β" : "Results",
    async render(body) {
      if (ok) {
        const best = search!.best as BetaScore | undefined;
        const base = search!.base as BetaScore | undefined;
        body.append(
          el(
            "p",
            { class: "facts" },
            [
              best
                ? `best β = ${best.beta} (validation ${pct(best.valAccuracy)}, test ${pct(best.testAccuracy)})`
                : null,
              base ? `β = 1 (ReLU, the base model): test ${pct(base.testAccuracy)}` : null,
            ]
              .filter(Boolean)
              .join(" · "),
          ),
        );
        await liveChart(
          body.appendChild(el("div", { id: "ct-beta" })),
          lineSpec({
            title: "Accuracy vs β",
            x: { field: "beta", title: "β (1 = ReLU)" },
            y: { field: "accuracy", title: "accuracy", format: ".1%" },
            color: {
              field: "split",
              title: "Split",
              domain: ["validation", "test"],
              range: ["#0072B2", "#D55E00"],
            },
            points: true,
          }),
          scores!.flatMap((s) => [
            { beta: s.beta, split: "validation", accuracy: s.valAccuracy },
            { beta: s.beta, split: "test", accuracy: s.testAccuracy },
          ]),
          "Validation and test accuracy against the CT parameter β",
        );
      }
      if (rows?.length && !withTable) body.append(objectTable(rows));
    },
  };
}

// ---- a comparison's summary.json: one row per member ----

function summaryView(rows: unknown): View | undefined {
  if (!Array.isArray(rows) || !rows.length || !rows.every((r) => typeof r === "object" && r !== null))
    return undefined;
  return { title: "Summary", render: async (body) => void body.append(objectTable(rows as Json[])) };
}

// ---- a table with named columns and their definitions (table.json: the initialiser comparison) ----

/** The column of `columns` that names row key `key` ("errorRate" → "Error Rate %"). */
function columnFor(key: string, columns: string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  return columns.find((c) => squash(c).includes(squash(key)));
}

function columnsTableView(t: Json): View | undefined {
  const rows = t.rows;
  const columns = Array.isArray(t.columns) ? t.columns.map(String) : [];
  if (!Array.isArray(rows) || !rows.length || !rows.every((r) => typeof r === "object" && r !== null))
    return undefined;
  const definitions = (t.definitions ?? {}) as Record<string, string>;
  return {
    title: "Results table",
    render: async (body) => {
      const keyed = columnsOf(rows as Json[]);
      body.append(
        dataTable(rows as Json[], {
          id: "results-table",
          color: (r) => methodColor(String(Object.values(r)[0] ?? "")),
          columns: keyed.map((c) => {
            const name = columnFor(c.key, columns);
            return { ...c, ...(name ? { title: name, description: definitions[name] } : {}) };
          }),
        }),
      );
    },
  };
}

// ---- markdown tables (table.md) ----

function markdownView(path: string, text: string): View | undefined {
  const table = parsePipeTable(text);
  if (!table) return undefined;
  return {
    title: `Table · ${path}`,
    render: async (body) =>
      void body.append(
        objectTable(table.rows.map((r) => Object.fromEntries(table.header.map((h, i) => [h, r[i] ?? ""])))),
      ),
  };
}

/** The first GitHub-style pipe table in `text`: header, separator, rows. */
export function parsePipeTable(text: string): { header: string[]; rows: string[][] } | undefined {
  const lines = text.split("\n").map((l) => l.trim());
  const start = lines.findIndex((l, i) => l.startsWith("|") && /^\|?\s*:?-{3,}/.test(lines[i + 1] ?? ""));
  if (start < 0) return undefined;
  const cells = (l: string) =>
    l
      .replace(/^\|/, "")
      .replace(/\|$/, "")
      .split("|")
      .map((c) => c.trim());
  const rows: string[][] = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith("|")) break;
    rows.push(cells(l));
  }
  return { header: cells(lines[start]), rows };
}

function objectTable(rows: Json[]): HTMLElement {
  const first = (r: Json) => String(Object.values(r)[0] ?? "");
  return dataTable(rows, { color: (r) => methodColor(first(r)) });
}

async function fetchText(runId: string, path: string): Promise<string> {
  const res = await fetch(fileUrl(runId, path));
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.text();
}

function isNumbers(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

function problem(text: string): HTMLElement {
  return el("p", { class: "problem" }, text);
}

function fmt(x: number | undefined | null): string {
  return sig(x, 5);
}
