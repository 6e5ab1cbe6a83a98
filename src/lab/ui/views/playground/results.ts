/** Where each optimiser ends: a row per path with its end point, f there and the nearest minimum. */
import type { TestFunction } from "../../../../landscape/functions.js";
import type { PathResult } from "../../../../landscape/paths.js";
import type { OptimizerName } from "../../../../optim/index.js";
import { el, sig } from "../../dom.js";

export type Computed = { name: OptimizerName; result?: PathResult; error?: string };

export function resultsTable(paths: Computed[], fn: TestFunction, colorOf: (n: OptimizerName) => string) {
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
        { class: "text" },
        el("span", { class: "swatch", style: `background:${colorOf(p.name)}`, "aria-hidden": "true" }),
        " ",
        p.name,
      ),
      el("td", { class: "num" }, r ? String(r.points.length - 1) : "–"),
      el("td", { class: "num" }, last ? `(${sig(last[0], 4)}, ${sig(last[1], 4)})` : "–"),
      el("td", { class: "num" }, r ? sig(r.values.at(-1)) : "–"),
      el("td", { class: "num" }, nearest !== undefined ? sig(nearest) : "–"),
      el("td", { class: "text note" }, p.error ?? r?.diverged?.message ?? ""),
    );
  });
  return el(
    "table",
    { class: "results" },
    el("caption", {}, "Where each optimiser ends"),
    el(
      "thead",
      {},
      el(
        "tr",
        {},
        ...["Optimiser", "Steps", "End point", "f(end)", "Distance to nearest minimum", "Note"].map((h, i) =>
          el("th", { scope: "col", class: i === 0 || i === 5 ? "text" : "num" }, h),
        ),
      ),
    ),
    el("tbody", {}, ...rows),
  );
}
