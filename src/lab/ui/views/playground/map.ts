/** Where the pointer is on the playground's map, and the Gaussians fitted to real runs to offer. */
import { api } from "../../api.js";
import type { ContourChart } from "../../charts/contour.js";
import { el } from "../../dom.js";
import { gaussianFunctionParams, LANDSCAPE_FORMAT } from "../analyses.js";

/** The data coordinates under the pointer, from the contour chart's own scales. */
export function pointerToData(view: ContourChart["view"], event: MouseEvent): [number, number] {
  const svg = (event.target as Element).closest("svg") ?? (event.currentTarget as Element);
  const box = svg.getBoundingClientRect();
  const [ox, oy] = view.origin();
  const px = event.clientX - box.left - ox;
  const py = event.clientY - box.top - oy;
  return [view.scale("x").invert(px) as number, view.scale("y").invert(py) as number];
}

/** Offers the Gaussians fitted to real runs' loss surfaces (JSON files under a run's landscape/). */
export async function fittedGaussians(
  box: HTMLElement,
  use: (params: Record<string, number>) => void,
): Promise<void> {
  const { runs } = await api.runs();
  const found: { label: string; params: Record<string, number> }[] = [];
  for (const r of runs.slice(0, 50)) {
    const detail = await api.run(r.id).catch(() => undefined);
    for (const f of detail?.files ?? []) {
      if (!/^(members\/[^/]+\/)?landscape\/[^/]+\.json$/.test(f.path)) continue;
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
