/**
 * The optimiser playground: pick a 2-D function, click a start point, pick optimisers and their
 * hyper-parameters, and watch the paths — played, paused or stepped. The paths come from the
 * library's own code, bundled for the browser: `testFunction` and `evaluateGrid`
 * (src/landscape/functions.ts), `runPath` (src/landscape/paths.ts) and `createOptimizer`
 * (src/optim) on jax-js — what `tiller optim path` runs. The whole setup lives in the URL
 * (playground/state.ts), so a view can be shared or reloaded.
 */
import { startEngine } from "../../../engine/device.js";
import {
  evaluateGrid,
  FUNCTION_PARAMS,
  FUNCTIONS,
  testFunction,
  type TestFunction,
} from "../../../landscape/functions.js";
import { runPath } from "../../../landscape/paths.js";
import { createOptimizer, optimizerConfig, type OptimizerName } from "../../../optim/index.js";
import { contourChart, type ContourChart, type Grid } from "../charts/contour.js";
import type { SurfacePath } from "../charts/surface3d.js";
import { announce, clear, el, sig } from "../dom.js";
import { colorScale } from "../palette.js";
import { fittedGaussians, pointerToData } from "./playground/map.js";
import { optimiserList } from "./playground/optimisers.js";
import { createPlayer } from "./playground/player.js";
import { resultsTable, type Computed } from "./playground/results.js";
import { slider } from "./playground/slider.js";
import { stateFromQuery, stateToQuery, type State } from "./playground/state.js";

export { stateFromQuery, stateToQuery };

/** The function's fieldset: its choice, its parameters, and the Gaussians fitted to runs. */
function functionControls(state: State, redraw: (newStart: boolean) => void) {
  const select = el("select", { id: "pg-function" }, ...FUNCTIONS.map((f) => el("option", { value: f }, f)));
  select.value = state.fn;
  const params = el("div", { id: "pg-function-params" });
  const fitted = el("div", { id: "pg-fitted" });
  const renderParams = () => {
    clear(params);
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
        redraw(false);
      });
      params.append(el("label", { class: "field" }, el("span", {}, key), input));
    }
  };
  const use = (fn: string, p: Record<string, number>) => {
    state.fn = fn;
    select.value = fn;
    state.fnParams = p;
    renderParams();
    redraw(true);
  };
  select.addEventListener("change", () => use(select.value, {}));
  renderParams();
  void fittedGaussians(fitted, (p) => use("gaussian", p));
  return el(
    "fieldset",
    {},
    el("legend", {}, "Function"),
    el("label", { class: "field" }, el("span", {}, "f(x, y)"), select),
    params,
    fitted,
  );
}

export async function playgroundView(
  root: HTMLElement,
  signal: AbortSignal,
  query: URLSearchParams,
): Promise<void> {
  const state = stateFromQuery(query);
  const engine = startEngine("wasm");
  const plot = el("div", { class: "contour", id: "playground-contour" });
  const status = el("p", {
    class: "chart-summary",
    role: "status",
    "aria-live": "polite",
    id: "playground-status",
  });
  const results = el("div", { id: "playground-results" });
  const surfaceBox = el("div", { id: "playground-surface" });
  let fn: TestFunction = testFunction(state.fn, state.fnParams);
  let grid: Grid | undefined;
  let chart: ContourChart | undefined;
  let computed: Computed[] = [];
  let runId = 0;
  // One colour per optimiser, the same as in the report and on the run pages.
  const colorOf = (name: OptimizerName) => {
    const s = colorScale(state.optimizers.map((o) => o.name));
    return s.range[s.domain.indexOf(name)] ?? s.range[0];
  };
  const player = createPlayer({
    chart: () => chart,
    plot,
    status,
    summary: () =>
      `${state.steps} steps from (${state.start.map((v) => sig(v, 4)).join(", ")}). ` +
      computed.map((p) => `${p.name} ends at f = ${sig(p.result?.values.at(-1))}`).join("; ") +
      ".",
  });

  const start = startControls(
    state,
    () => fn.start,
    () => void run(),
  );
  const runControls = stepsControls(state, () => void run());
  const redrawFunction = async (newStart = false) => {
    try {
      fn = testFunction(state.fn, state.fnParams);
    } catch (e) {
      status.textContent = (e as Error).message;
      return;
    }
    if (newStart) state.start = [...fn.start];
    start.sync();
    await engine;
    const g = await evaluateGrid(fn, 90, 90);
    if (signal.aborted) return;
    grid = { xs: g.xs, ys: g.ys, values: g.values };
    chart?.finalize();
    clear(plot);
    chart = await drawMap(plot, grid, fn, (x, y) => start.set(x, y));
    clear(surfaceBox);
    await run();
  };

  const show3d = show3dButton(surfaceBox, () =>
    grid
      ? {
          grid,
          label: `3-D surface of ${fn.name} with the optimiser paths`,
          paths: computed.flatMap((p) =>
            p.result
              ? [{ name: p.name, points: p.result.points, values: p.result.values, color: colorOf(p.name) }]
              : [],
          ),
        }
      : undefined,
  );
  const run = async () => {
    const mine = ++runId;
    history.replaceState(null, "", `#/playground?${stateToQuery(state)}`);
    if (!chart) return;
    player.stop();
    runControls.button.disabled = true;
    status.textContent = "Computing paths…";
    plot.dataset.state = "computing";
    await engine;
    const paths = await computePaths(state, fn, () => mine !== runId || signal.aborted);
    if (!paths) return;
    computed = paths;
    runControls.button.disabled = false;
    results.replaceChildren(resultsTable(paths, fn, colorOf));
    player.load(
      paths.flatMap((p) => (p.result ? [{ name: p.name, result: p.result, color: colorOf(p.name) }] : [])),
    );
  };

  layout(
    root,
    [
      functionControls(state, (newStart) => void redrawFunction(newStart)),
      start.element,
      runControls.element,
      el(
        "fieldset",
        {},
        el("legend", {}, "Optimisers"),
        optimiserList(state, colorOf, () => void run()),
      ),
    ],
    [plot, player.element, status, el("div", { class: "toolbar" }, show3d), surfaceBox, results],
  );
  signal.addEventListener("abort", () => player.stop());
  await redrawFunction();
}

/** The start point's fieldset; `set` moves the start and reruns. */
function startControls(state: State, suggested: () => [number, number], rerun: () => void) {
  const x = el("input", { type: "number", step: "any", id: "pg-start-x", "aria-label": "start x" });
  const y = el("input", { type: "number", step: "any", id: "pg-start-y", "aria-label": "start y" });
  const reset = el("button", { type: "button", class: "secondary" }, "Suggested start");
  const sync = () => {
    x.value = String(+state.start[0].toPrecision(6));
    y.value = String(+state.start[1].toPrecision(6));
  };
  const set = (a: number, b: number) => {
    state.start = [a, b];
    sync();
    rerun();
  };
  for (const input of [x, y])
    input.addEventListener("change", () => {
      const [a, b] = [Number(x.value), Number(y.value)];
      if (Number.isFinite(a) && Number.isFinite(b)) set(a, b);
    });
  reset.addEventListener("click", () => set(...suggested()));
  const element = el(
    "fieldset",
    {},
    el("legend", {}, "Start point"),
    el("div", { class: "optimiser-row" }, el("label", {}, "x ", x), el("label", {}, "y ", y)),
    el("div", { class: "toolbar" }, reset),
  );
  return { element, sync, set };
}

/** The number of steps and the Run button. */
function stepsControls(state: State, rerun: () => void) {
  const steps = slider(
    "pg-steps",
    "Steps",
    { min: 10, max: 1000, step: 10 },
    state.steps,
    (v) => String(v),
    false,
  );
  const button = el("button", { type: "button", id: "pg-run" }, "Run");
  steps.input.addEventListener("change", () => {
    state.steps = steps.value();
    rerun();
  });
  button.addEventListener("click", rerun);
  const element = el(
    "fieldset",
    {},
    el("legend", {}, "Run"),
    steps.element,
    el("div", { class: "toolbar" }, button),
  );
  return { element, button };
}

/** "Show in 3-D": the surface with the paths on it, in `box`, when there is something to show. */
function show3dButton(
  box: HTMLElement,
  what: () => { grid: Grid; label: string; paths: SurfacePath[] } | undefined,
): HTMLElement {
  const button = el("button", { type: "button", class: "secondary", id: "show-3d" }, "Show in 3-D");
  button.addEventListener("click", () => {
    const w = what();
    if (!w) return;
    clear(box);
    void import("../charts/surface3d.js").then(({ surface3d }) => surface3d(box, w.grid, w));
  });
  return button;
}

/** Every chosen optimiser's path from the start; undefined when `stale()` turns true on the way. */
async function computePaths(
  state: State,
  fn: TestFunction,
  stale: () => boolean,
): Promise<Computed[] | undefined> {
  const paths: Computed[] = [];
  for (const choice of state.optimizers) {
    try {
      const optimizer = createOptimizer(optimizerConfig(choice.name, choice.params));
      const result = await runPath({ fn, optimizer, start: state.start, steps: state.steps });
      paths.push({ name: choice.name, result });
    } catch (e) {
      paths.push({ name: choice.name, error: (e as Error).message });
    }
    if (stale()) return undefined;
  }
  return paths;
}

function layout(root: HTMLElement, controls: HTMLElement[], stage: HTMLElement[]): void {
  root.append(
    el("h1", {}, "Optimiser playground"),
    el(
      "p",
      { class: "facts" },
      "Click the map to choose a start point. The paths are computed in your browser by the same TypeScript optimisers and test functions as ",
      el("code", {}, "tiller optim path"),
      ". Play, pause or step through them below the map.",
    ),
    el(
      "div",
      { class: "playground" },
      el("div", { class: "controls" }, ...controls),
      el("div", { class: "stage" }, ...stage),
    ),
  );
}

/** The contour map of `fn`; a click on it calls `pick` with the data coordinates. */
async function drawMap(
  plot: HTMLElement,
  grid: Grid,
  fn: TestFunction,
  pick: (x: number, y: number) => void,
): Promise<ContourChart> {
  const chart = await contourChart(plot, grid, {
    label: `Contour map of ${fn.name} with optimiser paths; click to choose a start point`,
    title: `${fn.name}(x, y)`,
    width: 460,
    height: 460,
    markers: fn.minima.map(([x, y]) => ({ x, y, label: `minimum (${x}, ${y})` })),
  });
  const view = chart.view;
  view.addEventListener("click", (event) => {
    const [x, y] = pointerToData(view, event as MouseEvent);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    announce(`Start point set to ${x.toFixed(3)}, ${y.toFixed(3)}`);
    pick(x, y);
  });
  return chart;
}
