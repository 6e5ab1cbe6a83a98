/**
 * Views of a run's analysis files, chosen by where the analysis wrote them. Each reader checks the
 * shape it expects and says so when a file does not match, instead of drawing nonsense. Figures
 * (figures/*.svg) need no reader: the run page shows every one of them.
 */
import { api, type RunDetail } from "../api.js";
import { contourChart, type Grid, type PathSeries } from "../charts/contour.js";
import { surface3d } from "../charts/surface3d.js";
import { el } from "../dom.js";

type Reader = {
  /** Which files this view reads. */
  matches(path: string): boolean;
  title(path: string): string;
  render(container: HTMLElement, data: unknown, path: string): Promise<void>;
};

const READERS: Reader[] = [
  {
    matches: (p) => /^landscape\/[^/]+\.json$/.test(p),
    title: (p) =>
      `Loss surface: ${p
        .split("/")
        .pop()!
        .replace(/\.json$/, "")}`,
    render: renderSurface,
  },
];

export async function analysisViews(section: HTMLElement, d: RunDetail): Promise<void> {
  for (const f of d.files) {
    const reader = READERS.find((r) => r.matches(f.path));
    if (!reader) continue;
    const body = el("div", { class: "analysis-body" });
    const card = el(
      "section",
      { class: "card analysis", "data-file": f.path },
      el("h2", {}, reader.title(f.path)),
      body,
    );
    section.append(card);
    try {
      await reader.render(body, await api.json(d.id, f.path), f.path);
    } catch (e) {
      body.append(el("p", { class: "problem" }, `Cannot draw ${f.path}: ${(e as Error).message}`));
    }
  }
}

/** A stored surface: axes, values (rows along the second axis), and optional paths over it. */
export function readSurface(data: unknown): {
  grid: Grid;
  paths: PathSeries[];
  xTitle: string;
  yTitle: string;
} {
  const o = data as Record<string, unknown>;
  const axis = (...keys: string[]) => {
    for (const k of keys)
      if (Array.isArray(o[k]) && (o[k] as unknown[]).every((v) => typeof v === "number"))
        return o[k] as number[];
    throw new Error(`no numeric axis (looked for ${keys.join(", ")})`);
  };
  const xs = axis("xs", "alphas", "x");
  const ys = axis("ys", "betas", "y");
  const raw = o.values ?? o.loss ?? o.z;
  const values = Array.isArray(raw) ? (raw as unknown[]).flat(1) : [];
  if (values.length !== xs.length * ys.length || !values.every((v) => typeof v === "number" || v === null))
    throw new Error(`expected ${ys.length}×${xs.length} values`);
  const paths = Array.isArray(o.paths)
    ? (o.paths as { name?: string; points?: [number, number][] }[])
        .filter((p) => Array.isArray(p.points))
        .map((p, i) => ({ name: p.name ?? `path ${i + 1}`, points: p.points! }))
    : [];
  return {
    grid: { xs, ys, values: values.map((v) => (v === null ? NaN : (v as number))) },
    paths,
    xTitle: typeof o.xTitle === "string" ? o.xTitle : "direction 1",
    yTitle: typeof o.yTitle === "string" ? o.yTitle : "direction 2",
  };
}

async function renderSurface(container: HTMLElement, data: unknown, path: string): Promise<void> {
  const { grid, paths, xTitle, yTitle } = readSurface(data);
  const contour = el("div", { class: "contour" });
  const surface = el("div", { class: "surface" });
  container.append(el("div", { class: "pair" }, contour, surface));
  const chart = await contourChart(contour, grid, {
    label: `Contour map of ${path}`,
    xTitle,
    yTitle,
    names: paths.map((p) => p.name),
  });
  await chart.setPaths(paths);
  await surface3d(surface, grid, { label: `3-D surface of ${path}`, xTitle, yTitle });
}
