/**
 * The optimiser playground: pick a 2-D function, click a start point, pick optimisers and their
 * hyper-parameters, and watch the paths. The paths come from the library's own code, bundled for
 * the browser: `testFunction` and `evaluateGrid` (src/landscape/functions.ts), `runPath`
 * (src/landscape/paths.ts) and `createOptimizer` (src/optim) on jax-js — what `tiller optim path`
 * runs. The whole setup lives in the URL, so a view can be shared or reloaded.
 */
import { startEngine } from "../../../engine/device.js";
import {
  evaluateGrid,
  FUNCTION_PARAMS,
  FUNCTIONS,
  testFunction,
  type TestFunction,
} from "../../../landscape/functions.js";
import { runPath, type PathResult } from "../../../landscape/paths.js";
import {
  createOptimizer,
  DEFAULT_LR,
  OPTIMIZER_DESCRIPTIONS,
  OPTIMIZER_PARAMS,
  OPTIMIZERS,
  optimizerConfig,
  type OptimizerName,
} from "../../../optim/index.js";
import { api } from "../api.js";
import { gaussianFunctionParams, LANDSCAPE_FORMAT } from "./analyses.js";
import { contourChart, type ContourChart, type Grid } from "../charts/contour.js";
import { announce, clear, el } from "../dom.js";
import { seriesColor } from "../palette.js";

/** Learning rates that make a good first picture on these functions (the nets' defaults barely move). */
const PLAYGROUND_LR: Partial<Record<OptimizerName, number>> = {
  sgd: 1e-3,
  momentum: 1e-3,
  nesterov: 1e-3,
  adagrad: 0.5,
  rmsprop: 0.01,
  adam: 0.05,
  adamw: 0.05,
  amsgrad: 0.05,
  lion: 0.01,
  sophiah: 0.05,
  sophiag: 0.05,
  adafactor: 0.05,
  lamb: 0.05,
  lars: 0.1,
};

/** Slider ranges for hyper-parameters; `log` sliders move in powers of ten. */
const RANGES: Record<string, { min: number; max: number; log?: boolean; step?: number }> = {
  lr: { min: 1e-5, max: 10, log: true },
  momentum: { min: 0, max: 0.999, step: 0.001 },
  dampening: { min: 0, max: 0.999, step: 0.001 },
  b1: { min: 0, max: 0.999, step: 0.001 },
  b2: { min: 0.5, max: 0.9999, step: 0.0001 },
  alpha: { min: 0.5, max: 0.9999, step: 0.0001 },
  eps: { min: 1e-12, max: 1, log: true },
  eps1: { min: 1e-40, max: 1e-10, log: true },
  eps2: { min: 1e-6, max: 1, log: true },
  weightDecay: { min: 0, max: 0.5, step: 0.001 },
  rho: { min: 1e-3, max: 1, log: true },
  every: { min: 1, max: 50, step: 1 },
  lrDecay: { min: 0, max: 0.1, step: 0.001 },
  initialAccumulator: { min: 0, max: 1, step: 0.01 },
  clipThreshold: { min: 0.1, max: 10, step: 0.1 },
  decayRate: { min: -1, max: -0.1, step: 0.01 },
  trustCoefficient: { min: 1e-4, max: 1, log: true },
  trustMin: { min: 0, max: 1, step: 0.01 },
  trustMax: { min: 1, max: 100, step: 1 },
  clipNorm: { min: 0.01, max: 100, log: true },
  clipValue: { min: 0.01, max: 100, log: true },
};
const FALLBACK_RANGE = { min: 1e-6, max: 10, log: true };

type Choice = { name: OptimizerName; params: Record<string, number | boolean> };
type State = {
  fn: string;
  fnParams: Record<string, number>;
  start: [number, number];
  steps: number;
  optimizers: Choice[];
};

const DEFAULT_CHOICES: OptimizerName[] = ["sgd", "momentum", "adam", "lion"];

export function stateFromQuery(q: URLSearchParams): State {
  const fn = (FUNCTIONS as readonly string[]).includes(q.get("fn") ?? "") ? q.get("fn")! : "rosenbrock";
  const fnParams: Record<string, number> = {};
  for (const key of Object.keys(FUNCTION_PARAMS[fn as keyof typeof FUNCTION_PARAMS])) {
    const v = Number(q.get(`f.${key}`));
    if (q.has(`f.${key}`) && Number.isFinite(v)) fnParams[key] = v;
  }
  const start = (q.get("start") ?? "").split(",").map(Number);
  const steps = Number(q.get("steps"));
  const optimizers: Choice[] = [];
  for (const spec of (q.get("opt") ?? DEFAULT_CHOICES.join(";")).split(";").filter(Boolean)) {
    const [name, ...pairs] = spec.split(",");
    if (!(OPTIMIZERS as readonly string[]).includes(name) || optimizers.some((o) => o.name === name))
      continue;
    const params: Record<string, number | boolean> = {
      lr: PLAYGROUND_LR[name as OptimizerName] ?? DEFAULT_LR[name as OptimizerName],
    };
    for (const pair of pairs) {
      const [k, v] = pair.split("=");
      if (v === "true" || v === "false") params[k] = v === "true";
      else if (Number.isFinite(Number(v))) params[k] = Number(v);
    }
    optimizers.push({ name: name as OptimizerName, params });
  }
  const fnDefault = testFunction(fn, fnParams);
  return {
    fn,
    fnParams,
    start: start.length === 2 && start.every(Number.isFinite) ? [start[0], start[1]] : fnDefault.start,
    steps: Number.isInteger(steps) && steps >= 1 && steps <= 5000 ? steps : 200,
    optimizers,
  };
}

export function stateToQuery(s: State): string {
  const q = new URLSearchParams();
  q.set("fn", s.fn);
  for (const [k, v] of Object.entries(s.fnParams)) q.set(`f.${k}`, String(v));
  q.set("start", s.start.map((v) => +v.toPrecision(6)).join(","));
  q.set("steps", String(s.steps));
  q.set(
    "opt",
    s.optimizers
      .map((o) => [o.name, ...Object.entries(o.params).map(([k, v]) => `${k}=${v}`)].join(","))
      .join(";"),
  );
  return q.toString();
}

export async function playgroundView(
  root: HTMLElement,
  signal: AbortSignal,
  query: URLSearchParams,
): Promise<void> {
  const state = stateFromQuery(query);
  const engine = startEngine("wasm");
  const controls = el("div", { class: "controls" });
  const stage = el("div", { class: "stage" });
  const plot = el("div", { class: "contour", id: "playground-contour" });
  const status = el("p", {
    class: "chart-summary",
    role: "status",
    "aria-live": "polite",
    id: "playground-status",
  });
  const results = el("div", { id: "playground-results" });
  const surfaceBox = el("div", { id: "playground-surface" });
  const show3d = el("button", { type: "button", class: "secondary", id: "show-3d" }, "Show in 3-D");
  stage.append(plot, status, el("div", { class: "toolbar" }, show3d), surfaceBox, results);
  root.append(
    el("h1", {}, "Optimiser playground"),
    el(
      "p",
      { class: "facts" },
      "Click the map to choose a start point. The paths are computed in your browser by the same TypeScript optimisers and test functions as ",
      el("code", {}, "tiller optim path"),
      ".",
    ),
    el("div", { class: "playground" }, controls, stage),
  );

  let fn: TestFunction = testFunction(state.fn, state.fnParams);
  let grid: Grid | undefined;
  let chart: ContourChart | undefined;
  let lastPaths: { name: OptimizerName; result?: PathResult; error?: string }[] = [];
  let runId = 0;
  /** Colours follow the order optimisers are listed in, so up to eight chosen ones never share one. */
  const colorOf = (name: OptimizerName) =>
    seriesColor(
      Math.max(
        0,
        state.optimizers.findIndex((o) => o.name === name),
      ),
    );

  // ---- controls ----
  const fnSelect = el(
    "select",
    { id: "pg-function" },
    ...FUNCTIONS.map((f) => el("option", { value: f }, f)),
  );
  fnSelect.value = state.fn;
  const fnParamsBox = el("div", { id: "pg-function-params" });
  const fittedBox = el("div", { id: "pg-fitted" });
  const startX = el("input", { type: "number", step: "any", id: "pg-start-x", "aria-label": "start x" });
  const startY = el("input", { type: "number", step: "any", id: "pg-start-y", "aria-label": "start y" });
  const resetStart = el("button", { type: "button", class: "secondary" }, "Suggested start");
  const steps = slider(
    "pg-steps",
    "Steps",
    { min: 10, max: 1000, step: 10 },
    state.steps,
    (v) => String(v),
    false,
  );
  const optimiserList = el("div", { id: "pg-optimisers" });
  const runButton = el("button", { type: "button", id: "pg-run" }, "Run");
  controls.append(
    el(
      "fieldset",
      {},
      el("legend", {}, "Function"),
      el("label", { class: "field" }, el("span", {}, "f(x, y)"), fnSelect),
      fnParamsBox,
      fittedBox,
    ),
    el(
      "fieldset",
      {},
      el("legend", {}, "Start point"),
      el("div", { class: "optimiser-row" }, el("label", {}, "x ", startX), el("label", {}, "y ", startY)),
      el("div", { class: "toolbar" }, resetStart),
    ),
    el("fieldset", {}, el("legend", {}, "Run"), steps.element, el("div", { class: "toolbar" }, runButton)),
    el("fieldset", {}, el("legend", {}, "Optimisers"), optimiserList),
  );

  const syncStart = () => {
    startX.value = String(+state.start[0].toPrecision(6));
    startY.value = String(+state.start[1].toPrecision(6));
  };
  const setStart = (x: number, y: number, rerun = true) => {
    state.start = [x, y];
    syncStart();
    if (rerun) void run();
  };
  for (const input of [startX, startY])
    input.addEventListener("change", () => {
      const x = Number(startX.value);
      const y = Number(startY.value);
      if (Number.isFinite(x) && Number.isFinite(y)) setStart(x, y);
    });
  resetStart.addEventListener("click", () => setStart(fn.start[0], fn.start[1]));
  steps.input.addEventListener("change", () => {
    state.steps = Number(steps.input.value);
    void run();
  });
  runButton.addEventListener("click", () => void run());

  const renderFnParams = () => {
    clear(fnParamsBox);
    for (const [key, dflt] of Object.entries(FUNCTION_PARAMS[state.fn as keyof typeof FUNCTION_PARAMS])) {
      const input = el("input", {
        type: "number",
        step: "any",
        value: state.fnParams[key] ?? dflt,
        id: `pg-f-${key}`,
      });
      input.addEventListener("change", () => {
        const v = Number(input.value);
        if (!Number.isFinite(v)) return;
        state.fnParams[key] = v;
        void redrawFunction(true);
      });
      fnParamsBox.append(el("label", { class: "field" }, el("span", {}, key), input));
    }
  };
  fnSelect.addEventListener("change", () => {
    state.fn = fnSelect.value;
    state.fnParams = {};
    renderFnParams();
    void redrawFunction(true, true);
  });

  const renderOptimisers = () => {
    clear(optimiserList);
    const swatches = new Map<OptimizerName, HTMLElement>();
    const paintSwatches = () => {
      for (const [n, sw] of swatches)
        sw.style.background = state.optimizers.some((o) => o.name === n) ? colorOf(n) : "transparent";
    };
    OPTIMIZERS.forEach((name) => {
      const chosen = state.optimizers.find((o) => o.name === name);
      const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatches.set(name, swatch);
      const box = el("input", { type: "checkbox", id: `pg-opt-${name}` });
      box.checked = Boolean(chosen);
      const details = el("div", { class: "optimiser-params" });
      const row = el(
        "div",
        { class: "optimiser" },
        el(
          "div",
          { class: "optimiser-row" },
          box,
          swatch,
          el("label", { for: `pg-opt-${name}`, title: OPTIMIZER_DESCRIPTIONS[name] }, name),
        ),
        details,
      );
      const renderParams = () => {
        clear(details);
        const choice = state.optimizers.find((o) => o.name === name);
        if (!choice) return;
        const keys = ["lr", ...Object.keys(OPTIMIZER_PARAMS[name])];
        const more = el("details", {}, el("summary", {}, "more hyper-parameters"));
        for (const key of keys) {
          const kind = key === "lr" ? "number" : OPTIMIZER_PARAMS[name][key];
          const target = key === "lr" ? details : more;
          if (kind === "boolean") {
            const cb = el("input", { type: "checkbox", id: `pg-${name}-${key}` });
            cb.checked = choice.params[key] === true;
            cb.addEventListener("change", () => {
              choice.params[key] = cb.checked;
              void run();
            });
            target.append(el("label", { class: "optimiser-row" }, cb, key));
            continue;
          }
          const set = choice.params[key];
          const s = slider(
            `pg-${name}-${key}`,
            key,
            RANGES[key] ?? FALLBACK_RANGE,
            typeof set === "number" ? set : undefined,
            (v) => String(+v.toPrecision(3)),
          );
          s.input.addEventListener("change", () => {
            choice.params[key] = s.value();
            void run();
          });
          s.onReset(() => {
            delete choice.params[key];
            if (key === "lr") choice.params.lr = DEFAULT_LR[name];
            void run();
          });
          target.append(s.element);
        }
        if (more.childElementCount > 1) details.append(more);
      };
      box.addEventListener("change", () => {
        if (box.checked)
          state.optimizers.push({ name, params: { lr: PLAYGROUND_LR[name] ?? DEFAULT_LR[name] } });
        else state.optimizers = state.optimizers.filter((o) => o.name !== name);
        state.optimizers.sort((a, b) => OPTIMIZERS.indexOf(a.name) - OPTIMIZERS.indexOf(b.name));
        renderParams();
        paintSwatches();
        void run();
      });
      renderParams();
      optimiserList.append(row);
    });
    paintSwatches();
  };

  // ---- the map ----
  const redrawFunction = async (rerun: boolean, newStart = false) => {
    try {
      fn = testFunction(state.fn, state.fnParams);
    } catch (e) {
      status.textContent = (e as Error).message;
      return;
    }
    if (newStart) state.start = [...fn.start];
    syncStart();
    await engine;
    const g = await evaluateGrid(fn, 90, 90);
    if (signal.aborted) return;
    grid = { xs: g.xs, ys: g.ys, values: g.values };
    chart?.finalize();
    clear(plot);
    chart = await contourChart(plot, grid, {
      label: `Contour map of ${fn.name} with optimiser paths; click to choose a start point`,
      title: `${fn.name}(x, y)`,
      width: 460,
      height: 460,
      markers: fn.minima.map(([x, y]) => ({ x, y, label: `minimum (${x}, ${y})` })),
    });
    const view = chart.view;
    view.addEventListener("click", (event) => {
      const [x, y] = pointerToData(view, event as MouseEvent);
      if (Number.isFinite(x) && Number.isFinite(y)) {
        announce(`Start point set to ${x.toFixed(3)}, ${y.toFixed(3)}`);
        setStart(x, y);
      }
    });
    clear(surfaceBox);
    if (rerun) await run();
  };

  show3d.addEventListener("click", () => {
    if (!grid) return;
    clear(surfaceBox);
    void import("../charts/surface3d.js").then(({ surface3d }) =>
      surface3d(surfaceBox, grid!, {
        label: `3-D surface of ${fn.name} with the optimiser paths`,
        paths: lastPaths
          .filter((p) => p.result)
          .map((p) => ({
            name: p.name,
            points: p.result!.points,
            values: p.result!.values,
            color: colorOf(p.name),
          })),
      }),
    );
  });

  // ---- running ----
  const run = async () => {
    const mine = ++runId;
    history.replaceState(null, "", `#/playground?${stateToQuery(state)}`);
    if (!chart) return;
    runButton.disabled = true;
    status.textContent = "Computing paths…";
    plot.dataset.state = "computing";
    await engine;
    const paths: typeof lastPaths = [];
    for (const choice of state.optimizers) {
      try {
        const config = optimizerConfig(choice.name, choice.params);
        const result = await runPath({
          fn,
          optimizer: createOptimizer(config),
          start: state.start,
          steps: state.steps,
        });
        paths.push({ name: choice.name, result });
      } catch (e) {
        paths.push({ name: choice.name, error: (e as Error).message });
      }
      if (mine !== runId || signal.aborted) return;
    }
    lastPaths = paths;
    runButton.disabled = false;
    renderResults(paths);
    await animate(mine, paths);
  };

  const animate = async (mine: number, paths: typeof lastPaths) => {
    const drawn = paths.filter((p) => p.result) as { name: OptimizerName; result: PathResult }[];
    const longest = Math.max(1, ...drawn.map((p) => p.result.points.length));
    const frames = Math.min(90, longest);
    plot.dataset.state = "animating";
    status.textContent = "Drawing…";
    for (let f = 1; f <= frames; f++) {
      if (mine !== runId || signal.aborted) return;
      const n = Math.ceil((f / frames) * longest);
      await chart!.setPaths(
        drawn.map((p) => ({ name: p.name, points: p.result.points.slice(0, n), color: colorOf(p.name) })),
      );
      await new Promise((r) => requestAnimationFrame(r));
    }
    plot.dataset.state = "done";
    const summary = drawn.map((p) => `${p.name} ends at f = ${fmt(p.result.values.at(-1))}`).join("; ");
    status.textContent = `${state.steps} steps from (${state.start.map((v) => v.toFixed(3)).join(", ")}). ${summary}.`;
  };

  const renderResults = (paths: typeof lastPaths) => {
    clear(results);
    const rows = paths.map((p) => {
      const r = p.result;
      const last = r?.points.at(-1);
      const nearest =
        last && fn.minima.length
          ? Math.min(...fn.minima.map(([mx, my]) => Math.hypot(last[0] - mx, last[1] - my)))
          : undefined;
      return el(
        "tr",
        {
          "data-optimizer": p.name,
          "data-points": r ? r.points.length : 0,
          "data-end": last ? last.join(",") : undefined,
        },
        el(
          "td",
          {},
          el("span", { class: "swatch", style: `background:${colorOf(p.name)}`, "aria-hidden": "true" }),
          " ",
          p.name,
        ),
        el("td", {}, r ? String(r.points.length - 1) : "–"),
        el("td", {}, last ? `(${last[0].toFixed(4)}, ${last[1].toFixed(4)})` : "–"),
        el("td", {}, r ? fmt(r.values.at(-1)) : "–"),
        el("td", {}, nearest !== undefined ? fmt(nearest) : "–"),
        el("td", { class: "note" }, p.error ?? r?.diverged?.message ?? ""),
      );
    });
    results.append(
      el(
        "table",
        { class: "results" },
        el("caption", {}, "Where each optimiser ended"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["Optimiser", "Steps", "End point", "f(end)", "Distance to nearest minimum", "Note"].map((h) =>
              el("th", { scope: "col" }, h),
            ),
          ),
        ),
        el("tbody", {}, ...rows),
      ),
    );
  };

  renderFnParams();
  renderOptimisers();
  void fittedGaussians(fittedBox, (params) => {
    state.fn = "gaussian";
    fnSelect.value = "gaussian";
    state.fnParams = params;
    renderFnParams();
    void redrawFunction(true, true);
  });
  await redrawFunction(true);
}

/** A labelled range input with its value shown; `log` ranges move in powers of ten. Unset shows "default". */
function slider(
  id: string,
  label: string,
  range: { min: number; max: number; log?: boolean; step?: number },
  value: number | undefined,
  format: (v: number) => string,
  resettable = true,
) {
  const toPos = (v: number) => (range.log ? Math.log10(v) : v);
  const fromPos = (p: number) => (range.log ? 10 ** p : p);
  const input = el("input", {
    type: "range",
    id,
    min: toPos(range.min),
    max: toPos(range.max),
    step: range.log ? 0.01 : (range.step ?? (range.max - range.min) / 100),
    "aria-label": label,
  });
  const output = el("output", { for: id });
  const reset = el(
    "button",
    {
      type: "button",
      class: "secondary small",
      "aria-label": `reset ${label} to its default`,
      hidden: value === undefined || !resettable,
    },
    "reset",
  );
  let isSet = value !== undefined;
  input.value = String(
    toPos(value ?? (range.log ? Math.sqrt(range.min * range.max) : (range.min + range.max) / 2)),
  );
  const show = () => {
    output.textContent = isSet ? format(fromPos(Number(input.value))) : "default";
    input.setAttribute("aria-valuetext", output.textContent);
    reset.hidden = !isSet || !resettable;
  };
  input.addEventListener("input", () => {
    isSet = true;
    show();
  });
  show();
  const element = el(
    "div",
    { class: "slider" },
    el("label", { for: id }, label),
    el("span", {}, output, " ", reset),
    input,
  );
  const resetHandlers: (() => void)[] = [];
  reset.addEventListener("click", () => {
    isSet = false;
    show();
    resetHandlers.forEach((h) => h());
  });
  return {
    element,
    input,
    value: () => {
      const v = fromPos(Number(input.value));
      return range.log ? +v.toPrecision(3) : v;
    },
    onReset: (h: () => void) => resetHandlers.push(h),
  };
}

/** The data coordinates under the pointer, from the contour chart's own scales. */
function pointerToData(view: ContourChart["view"], event: MouseEvent): [number, number] {
  const svg = (event.target as Element).closest("svg") ?? (event.currentTarget as Element);
  const box = svg.getBoundingClientRect();
  const [ox, oy] = view.origin();
  const px = event.clientX - box.left - ox;
  const py = event.clientY - box.top - oy;
  return [view.scale("x").invert(px) as number, view.scale("y").invert(py) as number];
}

/** Offers the Gaussians fitted to real runs' loss surfaces (JSON files under a run's landscape/). */
async function fittedGaussians(
  box: HTMLElement,
  use: (params: Record<string, number>) => void,
): Promise<void> {
  const { runs } = await api.runs();
  const found: { label: string; params: Record<string, number> }[] = [];
  for (const r of runs.slice(0, 50)) {
    const detail = await api.run(r.id).catch(() => undefined);
    for (const f of detail?.files ?? []) {
      if (!/^landscape\/[^/]+\.json$/.test(f.path)) continue;
      const record = (await api.json(r.id, f.path).catch(() => undefined)) as
        Record<string, unknown> | undefined;
      if (record?.format !== LANDSCAPE_FORMAT || record.kind !== "fit" || typeof record.params !== "object")
        continue;
      const params = gaussianFunctionParams(record.params as Record<string, unknown>);
      if (params) found.push({ label: `${r.id}: ${String(record.name ?? f.path)}`, params });
    }
  }
  if (!found.length) {
    box.append(el("p", { class: "hint" }, "No run in this store has a fitted Gaussian yet."));
    return;
  }
  const select = el(
    "select",
    { id: "pg-fitted-select" },
    el("option", { value: "" }, "choose a fit…"),
    ...found.map((f, i) => el("option", { value: String(i) }, f.label)),
  );
  select.addEventListener("change", () => {
    if (select.value !== "") use(found[Number(select.value)].params);
  });
  box.append(el("label", { class: "field" }, el("span", {}, "Gaussian fitted to a run"), select));
}

function fmt(x: number | undefined): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toPrecision(4) : "–";
}
