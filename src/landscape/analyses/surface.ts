/** Surfaces: one of the landscape analyses (see ../analyses.ts). */
import { existsSync } from "node:fs";
import { UsageError } from "../../errors.js";
import { checkpointWeights } from "../subject.js";
import { hessianDirections, randomDirections, trajectoryDirections, type Directions } from "../directions.js";
import { linspace, slice1d, surface2d, type Grid2D, type Slice1D } from "../surface.js";
import { readLandscape, writeDirections, writeLandscape } from "../store.js";
import { contourPanel, panels, sliceFigure } from "../figures.js";
import { Run } from "../../runs/store.js";
import { open, provenance, iterationProgress, figure, type CommonOptions, type Opened } from "./common.js";
import type { Objective } from "../objective.js";

export type SurfaceRequest = CommonOptions & {
  directions?: "hessian" | "random" | "pca";
  /** Number of directions: pairs make panels (hessian top_n = 4 → 2 panels). */
  count?: number;
  steps?: number;
  range?: [number, number];
  seed?: number;
  method?: "lanczos" | "power";
  maxIter?: number;
  tol?: number;
  slices?: boolean;
  ignoreBiasAndNorm?: boolean;
};

export type SurfaceRecord = {
  subject: ReturnType<typeof provenance>;
  center: { loss: number; accuracy: number };
  panels: {
    directions: [number, number];
    grid: Grid2D;
    trajectory?: { epoch: number; x: number; y: number }[];
  }[];
  slices?: (Slice1D & { direction: number })[];
  directions: Directions["provenance"];
  directionsFile: string;
  elapsed_s: number;
  pointsPerSecond: number;
};

type Placed = {
  at: Awaited<ReturnType<typeof checkpointWeights>>;
  directions: Directions;
  trajectory?: { epoch: number; x: number; y: number }[];
  range: [number, number];
};

/** The checkpoint to centre on and the directions of the plane(s), as the request asks. */
async function placeSurface(o: SurfaceRequest, { subject, objective }: Opened): Promise<Placed> {
  const kind = o.directions ?? "hessian";
  const at = await checkpointWeights(subject, o.epoch);
  const range = o.range ?? [-0.2, 0.2];
  if (kind === "pca") {
    const epochs = subject.run.epochCheckpoints().filter((e) => o.epoch === undefined || e <= o.epoch);
    const checkpoints = [];
    for (const e of epochs) checkpoints.push({ epoch: e, w: (await checkpointWeights(subject, e)).w });
    const t = trajectoryDirections(checkpoints);
    const reach = Math.max(...t.coordinates.flatMap((c) => [Math.abs(c.x), Math.abs(c.y)])) * 1.2 || 1;
    return {
      at: checkpoints[checkpoints.length - 1],
      directions: t,
      trajectory: t.coordinates,
      range: o.range ?? [-reach, reach],
    };
  }
  if (kind === "random") {
    const directions = randomDirections(at.w, subject.layout, {
      count: o.count ?? 2,
      seed: o.seed ?? 0,
      ignoreBiasAndNorm: o.ignoreBiasAndNorm ?? true,
    });
    return { at, directions, range };
  }
  const op = objective.hessianAt(at.w);
  try {
    const directions = await hessianDirections(op, {
      count: o.count ?? 2,
      method: o.method ?? "lanczos",
      maxIter: o.maxIter ?? 100,
      tol: o.tol ?? 1e-3,
      seed: o.seed ?? 0,
      onProgress: iterationProgress(o.onProgress),
    });
    return { at, directions, range };
  } finally {
    op.dispose();
  }
}

/** The loss on a grid over each pair of directions (d0×d1, d2×d3, …), and the grid points per second. */
async function gridPanels(o: SurfaceRequest, objective: Objective, place: Placed, steps: number) {
  const { at, directions, trajectory, range } = place;
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < directions.vectors.length; i += 2) pairs.push([i, i + 1]);
  const total = pairs.length * steps * steps;
  let done = 0;
  const tGrid = performance.now();
  const results: SurfaceRecord["panels"] = [];
  for (const [i, j] of pairs) {
    const plane = objective.subspace(at.w, [directions.vectors[i], directions.vectors[j]]);
    try {
      const grid = await surface2d(plane, {
        steps,
        xRange: range,
        onProgress: (_, __, e) =>
          o.onProgress?.(++done, total, `surface d${i}×d${j}`, `loss ${e.loss.toFixed(4)}`),
      });
      results.push({ directions: [i, j], grid, ...(trajectory ? { trajectory } : {}) });
    } finally {
      plane.dispose();
    }
  }
  return { panels: results, pointsPerSecond: total / ((performance.now() - tGrid) / 1000) };
}

/** 1-D slices of the loss along each direction on its own. */
async function directionSlices(objective: Objective, place: Placed, steps: number) {
  const slices: NonNullable<SurfaceRecord["slices"]> = [];
  for (const [k, d] of place.directions.vectors.entries()) {
    const line = objective.subspace(place.at.w, [d]);
    try {
      slices.push({
        direction: k,
        ...(await slice1d(line, linspace(place.range[0], place.range[1], steps))),
      });
    } finally {
      line.dispose();
    }
  }
  return slices;
}

/** The contour panels (and slices) of a surface record, as SVG files in the run. */
async function surfaceFigures(
  run: Run,
  name: string,
  kind: string,
  record: SurfaceRecord,
): Promise<string[]> {
  const provenance = record.directions;
  const label = (i: number) =>
    provenance.kind === "hessian"
      ? `eigenvector ${i + 1} (λ = ${provenance.eigenvalues[i].toPrecision(4)})`
      : provenance.kind === "pca"
        ? `PC ${i + 1} (${(100 * provenance.explainedVarianceRatio[i]).toFixed(1)}%)`
        : `random direction ${i + 1}`;
  const specs = record.panels.map((r) =>
    contourPanel(r.grid, {
      title:
        kind === "hessian"
          ? `along Hessian eigenvectors ${r.directions[0] + 1} and ${r.directions[1] + 1}`
          : kind === "pca"
            ? `along principal components ${r.directions[0] + 1} and ${r.directions[1] + 1}`
            : `along random directions ${r.directions[0] + 1} and ${r.directions[1] + 1}`,
      xTitle: label(r.directions[0]),
      yTitle: label(r.directions[1]),
      overlays: r.trajectory
        ? [{ label: "training trajectory", points: r.trajectory.map((c) => ({ x: c.x, y: c.y })) }]
        : [],
    }),
  );
  const epoch = record.subject.epoch;
  const files = [
    await figure(
      run,
      `${name}.svg`,
      panels(`Loss landscape of ${run.id.split("/").pop()} at epoch ${epoch}`, specs),
    ),
  ];
  if (record.slices) {
    const slicePanels = record.slices.map((s) => ({
      ...(sliceFigure(s, label(s.direction), "λ") as object),
    }));
    files.push(
      await figure(run, `${name}-slices.svg`, panels(`1-D slices of ${run.id}`, slicePanels as never)),
    );
  }
  return files;
}

export async function runSurface(o: SurfaceRequest) {
  const opened = open(o);
  const { subject, objective, evaluation } = opened;
  const kind = o.directions ?? "hessian";
  const t0 = performance.now();
  try {
    const place = await placeSurface(o, opened);
    const { at, directions } = place;
    const name = o.name ?? `surface-${kind}-epoch-${at.epoch}`;
    const directionsFile = writeDirections(subject.run, name, directions.vectors, subject.layout);
    const center = await objective.evaluate(at.w);
    const steps = o.steps ?? 40;
    const grid = await gridPanels(o, objective, place, steps);
    const slices = o.slices ? await directionSlices(objective, place, steps) : undefined;
    const record: SurfaceRecord = {
      subject: provenance(subject, at.epoch, evaluation),
      center,
      panels: grid.panels,
      ...(slices ? { slices } : {}),
      directions: directions.provenance,
      directionsFile,
      elapsed_s: (performance.now() - t0) / 1000,
      pointsPerSecond: grid.pointsPerSecond,
    };
    const files = [writeLandscape(subject.run, name, "surface", record)];
    files.push(...(await surfaceFigures(subject.run, name, kind, record)));
    return { name, record, files };
  } finally {
    objective.dispose();
  }
}

/** A stored surface by path, or by name in a run. */
export function loadSurface(
  ref: string,
  runsRoot?: string,
  name?: string,
): { run: Run; name: string; record: SurfaceRecord } {
  if (existsSync(ref) && ref.endsWith(".json")) {
    const record = readLandscape<SurfaceRecord & { name: string }>(ref, undefined, "surface");
    const runDir = ref.replace(/\/landscape\/[^/]+\.json$/, "");
    return { run: new Run(runDir), name: record.name, record };
  }
  const run = Run.open(ref, runsRoot);
  if (!name) throw new UsageError("name the surface with --surface <name> (see the run's landscape/ folder)");
  const record = readLandscape<SurfaceRecord & { name: string }>(name, run, "surface");
  return { run, name, record };
}

/** Which stored surface an analysis reads (a file, or a name in a run) and which of its panels. */
export type StoredSurface = {
  surface: string;
  runsRoot?: string;
  surfaceName?: string;
  panel?: number;
  name?: string;
};

/** The stored surface's run, name, record and the panel asked for (a usage error if it has none). */
export function loadPanel(o: StoredSurface) {
  const { run, name: surfaceName, record } = loadSurface(o.surface, o.runsRoot, o.surfaceName);
  const panel = record.panels[o.panel ?? 0];
  if (!panel) throw new UsageError(`surface ${surfaceName} has no panel ${o.panel}`);
  return { run, surfaceName, record, panel };
}
