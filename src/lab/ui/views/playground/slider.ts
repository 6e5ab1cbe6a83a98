/** A labelled range input that shows the value it holds. */
import { el } from "../../dom.js";

/** A labelled range input with its value shown; `log` ranges move in powers of ten. Unset shows "default". */
export function slider(
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
  // The value as given (0.05 from the URL), not as the slider's grid rounds it (10^-1.30 = 0.0501).
  let current = value;
  input.value = String(
    toPos(value ?? (range.log ? Math.sqrt(range.min * range.max) : (range.min + range.max) / 2)),
  );
  const fromSlider = () => {
    const v = fromPos(Number(input.value));
    return range.log ? +v.toPrecision(3) : v;
  };
  const show = () => {
    output.textContent = isSet && current !== undefined ? format(current) : "default";
    input.setAttribute("aria-valuetext", output.textContent);
    reset.hidden = !isSet || !resettable;
  };
  input.addEventListener("input", () => {
    isSet = true;
    current = fromSlider();
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
    current = undefined;
    show();
    resetHandlers.forEach((h) => h());
  });
  return {
    element,
    input,
    value: () => current ?? fromSlider(),
    onReset: (h: () => void) => resetHandlers.push(h),
  };
}
