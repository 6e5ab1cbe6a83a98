/** The optimiser picker: a checkbox per optimiser, its colour, and sliders for its hyper-parameters. */
import {
  DEFAULT_LR,
  OPTIMIZER_DESCRIPTIONS,
  OPTIMIZER_PARAMS,
  OPTIMIZERS,
  type OptimizerName,
} from "../../../../optim/index.js";
import { clear, el } from "../../dom.js";
import { slider } from "./slider.js";
import { FALLBACK_RANGE, PLAYGROUND_LR, RANGES, type Choice, type State } from "./state.js";

/** The hyper-parameter controls of one chosen optimiser; `changed` reruns the paths. */
function paramControls(name: OptimizerName, choice: Choice, changed: () => void): HTMLElement[] {
  const out: HTMLElement[] = [];
  const more = el("details", {}, el("summary", {}, "more hyper-parameters"));
  for (const key of ["lr", ...Object.keys(OPTIMIZER_PARAMS[name])]) {
    const kind = key === "lr" ? "number" : OPTIMIZER_PARAMS[name][key];
    const add = (e: HTMLElement) => (key === "lr" ? out.push(e) : more.append(e));
    if (kind === "boolean") {
      const cb = el("input", { type: "checkbox", id: `pg-${name}-${key}` });
      cb.checked = choice.params[key] === true;
      cb.addEventListener("change", () => {
        choice.params[key] = cb.checked;
        changed();
      });
      add(el("label", { class: "optimiser-row" }, cb, key));
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
      changed();
    });
    s.onReset(() => {
      delete choice.params[key];
      if (key === "lr") choice.params.lr = DEFAULT_LR[name];
      changed();
    });
    add(s.element);
  }
  if (more.childElementCount > 1) out.push(more);
  return out;
}

export function optimiserList(
  state: State,
  colorOf: (name: OptimizerName) => string,
  changed: () => void,
): HTMLElement {
  const list = el("div", { id: "pg-optimisers" });
  const swatches = new Map<OptimizerName, HTMLElement>();
  const paintSwatches = () => {
    for (const [n, sw] of swatches)
      sw.style.background = state.optimizers.some((o) => o.name === n) ? colorOf(n) : "transparent";
  };
  for (const name of OPTIMIZERS) {
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatches.set(name, swatch);
    const box = el("input", { type: "checkbox", id: `pg-opt-${name}` });
    box.checked = state.optimizers.some((o) => o.name === name);
    const details = el("div", { class: "optimiser-params" });
    const renderParams = () => {
      clear(details);
      const choice = state.optimizers.find((o) => o.name === name);
      if (choice) details.append(...paramControls(name, choice, changed));
    };
    box.addEventListener("change", () => {
      if (box.checked)
        state.optimizers.push({ name, params: { lr: PLAYGROUND_LR[name] ?? DEFAULT_LR[name] } });
      else state.optimizers = state.optimizers.filter((o) => o.name !== name);
      state.optimizers.sort((a, b) => OPTIMIZERS.indexOf(a.name) - OPTIMIZERS.indexOf(b.name));
      renderParams();
      paintSwatches();
      changed();
    });
    renderParams();
    list.append(
      el(
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
      ),
    );
  }
  paintSwatches();
  return list;
}
