/** Optimiser paths on the fitted Gaussian: one of the landscape analyses (see ../analyses.ts). */
import { existsSync } from "node:fs";
import { UsageError } from "../../errors.js";
import { readLandscape, writeLandscape } from "../store.js";
import { contourPanel, type Overlay } from "../figures.js";
import { gaussian, type GaussianFit } from "../gaussian-fit.js";
import { Run } from "../../runs/store.js";
import { createOptimizer, optimizerConfig } from "../../optim/index.js";
import { testFunction } from "../functions.js";
import { runPath } from "../paths.js";
import { figure, type Progress } from "./common.js";
import { loadSurface } from "./surface.js";

/** The book's settings for its three paths; others start from the suite's default learning rate. */
export const BOOK_PATH_SETTINGS: Record<string, Record<string, number>> = {
  sgd: { lr: 0.1 },
  momentum: { lr: 0.05, momentum: 0.8 },
  adam: { lr: 0.1 },
};

/** "sgd,momentum:lr=0.05:momentum=0.8,adam" → names with their key=value settings. */
export function parseOptimizerList(
  spec: string,
): { label: string; name: string; params: Record<string, string | number> }[] {
  return spec
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [name, ...pairs] = item.split(":");
      const params: Record<string, string | number> = { ...(BOOK_PATH_SETTINGS[name] ?? {}) };
      for (const pair of pairs) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new UsageError(`optimizer settings are key=value, got "${pair}" in "${item}"`);
        params[pair.slice(0, eq)] = pair.slice(eq + 1);
      }
      return { label: item, name, params };
    });
}

/** A start at 10 % of the grid's width and 70 % of its height: away from both diagonals. */
export function defaultPathStart(grid: { x: number[]; y: number[] }): [number, number] {
  const at = (v: number[], f: number) => v[0] + f * (v[v.length - 1] - v[0]);
  return [at(grid.x, 0.1), at(grid.y, 0.7)];
}

/**
 * The book's learning rates for SGD and heavy-ball momentum, lowered where the fitted Gaussian is
 * steeper than the book's: gradient descent on a quadratic of curvature L diverges into a
 * zig-zag for lr·L > 2 (SGD) or lr·L > 2(1 + β) (heavy ball), so keep lr·L at half of that. A
 * learning rate given on the command line is kept as it is.
 */
export function stableParams(
  spec: { label: string; name: string; params: Record<string, string | number> },
  curvature: number,
): Record<string, string | number> {
  if (/(^|:)lr=/.test(spec.label) || !(curvature > 0)) return spec.params;
  const lr = Number(spec.params.lr);
  if (!Number.isFinite(lr)) return spec.params;
  if (spec.name === "sgd") return { ...spec.params, lr: Math.min(lr, 1 / curvature) };
  if (spec.name === "momentum" || spec.name === "nesterov") {
    const beta = Number(spec.params.momentum ?? 0.9);
    return { ...spec.params, lr: Math.min(lr, (1 + beta) / curvature) };
  }
  return spec.params;
}

export async function runPaths(o: {
  fit: string;
  runsRoot?: string;
  fitName?: string;
  optimizers?: string;
  steps?: number;
  start?: [number, number];
  name?: string;
  onProgress?: Progress;
}) {
  let run: Run;
  let fitRecord: GaussianFit & { name: string; surface: string; panel: number };
  if (existsSync(o.fit) && o.fit.endsWith(".json")) {
    fitRecord = readLandscape(o.fit, undefined, "fit");
    run = new Run(o.fit.replace(/\/landscape\/[^/]+\.json$/, ""));
  } else {
    run = Run.open(o.fit, o.runsRoot);
    if (!o.fitName)
      throw new UsageError("name the fit with --fit-name <name> (see the run's landscape/ folder)");
    fitRecord = readLandscape(o.fitName, run, "fit");
  }
  const surface = loadSurface(run.dir, undefined, fitRecord.surface).record.panels[fitRecord.panel ?? 0];
  const p = fitRecord.params;
  const fn = testFunction("gaussian", {
    A: p.A,
    x0: p.x0,
    y0: p.y0,
    sigma1: Math.abs(p.sigmaX),
    sigma2: Math.abs(p.sigmaY),
    offset: p.offset,
  });
  const grid = surface.grid;
  // Off the grid's diagonal: on a near-round bowl every optimiser would run down the same line.
  const start = o.start ?? defaultPathStart(grid);
  const curvature = Math.abs(p.A) / Math.min(p.sigmaX ** 2, p.sigmaY ** 2);
  const steps = o.steps ?? 100;
  const overlays: Overlay[] = [];
  const paths: {
    optimizer: string;
    config: object;
    points: [number, number][];
    values: number[];
    diverged?: object;
  }[] = [];
  for (const [k, spec] of parseOptimizerList(o.optimizers ?? "sgd,momentum,adam").entries()) {
    const config = optimizerConfig(spec.name, stableParams(spec, curvature));
    const r = await runPath({ fn, optimizer: createOptimizer(config), start, steps });
    paths.push({ optimizer: spec.label, config, ...r });
    overlays.push({ label: spec.label, points: r.points.map(([x, y]) => ({ x, y })) });
    o.onProgress?.(
      k + 1,
      (o.optimizers ?? "sgd,momentum,adam").split(",").length,
      "paths",
      `${spec.label}: f = ${r.values.at(-1)?.toFixed(4)}`,
    );
  }
  const fitted = grid.y.map((y) => grid.x.map((x) => gaussian(p, x, y)));
  const name = o.name ?? `${fitRecord.name}-paths`;
  const files = [
    writeLandscape(run, name, "paths", {
      fit: fitRecord.name,
      function: { name: "gaussian", params: fn.params },
      start,
      steps,
      paths,
    }),
    await figure(run, `${name}.svg`, {
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      ...(contourPanel(
        { ...grid, loss: fitted },
        { title: `Optimiser paths on the fitted Gaussian (${fitRecord.surface})`, overlays },
      ) as object),
    } as never),
  ];
  return { paths, start, files };
}
