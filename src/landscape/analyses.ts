/**
 * Whole analyses of a run, as the CLI and the lab start them: open the run and its checkpoints,
 * build the objective on the evaluation subset, compute, and store the result (JSON with
 * provenance) and its figure in the run's folder. Each returns what it computed and the files.
 */
import { existsSync } from "node:fs";
import { renderSvg } from "../report/vega.js";
import { UsageError } from "../errors.js";
import { createObjective, type Objective } from "./objective.js";
import {
  checkpointWeights,
  DEFAULT_EVALUATION,
  evaluationSet,
  openSubject,
  type EvaluationChoice,
  type Subject,
} from "./subject.js";
import { hessianDirections, randomDirections, trajectoryDirections, type Directions } from "./directions.js";
import {
  HESSIAN_DEFAULTS,
  densityCurve,
  hutchinsonTrace,
  lanczosTopK,
  powerIteration,
  spectralDensity,
  type IterationProgress,
} from "./hessian.js";
import { interpolate, linspace, slice1d, surface2d, type Grid2D, type Slice1D } from "./surface.js";
import { pca, tsne } from "./projection.js";
import { readLandscape, writeDirections, writeFigure, writeLandscape } from "./store.js";
import {
  contourPanel,
  densityFigure,
  panels,
  persistenceFigure,
  projectionFigure,
  sliceFigure,
  heatmapPanel,
  barChart,
  type Overlay,
} from "./figures.js";
import { describeFit, fitGaussian, gaussian, gridPoints, type GaussianFit } from "./gaussian-fit.js";
import { detailMagnitude, roughness, toRows, wavedec2, type WaveletName } from "./wavelets.js";
import { bottleneckDistance, persistence, summarize } from "./topology.js";
import { Run } from "../runs/store.js";
import { createOptimizer, optimizerConfig } from "../optim/index.js";
import { testFunction } from "./functions.js";
import { runPath } from "./paths.js";
import type { Vector } from "./vector.js";

export type Progress = (done: number, total: number, label: string, detail?: string) => void;

export type CommonOptions = {
  run: string;
  runsRoot?: string;
  epoch?: number;
  evaluation?: Partial<EvaluationChoice>;
  batchSize?: number;
  name?: string;
  onProgress?: Progress;
};

type Opened = { subject: Subject; objective: Objective; evaluation: EvaluationChoice };

function open(o: CommonOptions): Opened {
  const subject = openSubject(o.run, o.runsRoot);
  const evaluation = { ...DEFAULT_EVALUATION, ...o.evaluation };
  const data = evaluationSet(subject.config, evaluation);
  return {
    subject,
    evaluation,
    objective: createObjective(subject.model, subject.layout, data, o.batchSize ?? 256),
  };
}

const provenance = (s: Subject, epoch: number, evaluation: EvaluationChoice) => ({
  run: s.run.id,
  model: s.config.model,
  epoch,
  evaluation: { split: evaluation.split, count: evaluation.count, offset: evaluation.offset },
  params: s.layout.size,
});

const iterationProgress =
  (p?: Progress): IterationProgress =>
  ({ phase, iteration, of, estimate }) =>
    p?.(iteration, of, phase, `estimate ${estimate.toPrecision(6)}`);

async function figure(run: Run, file: string, spec: Parameters<typeof renderSvg>[0]): Promise<string> {
  return writeFigure(run, file, await renderSvg(spec));
}

// ── 1. interpolation ──────────────────────────────────────────────────────────────────────────

export async function runInterpolation(
  o: CommonOptions & {
    toRun?: string;
    fromEpoch?: number;
    toEpoch?: number;
    range?: [number, number];
    steps?: number;
  },
) {
  const { subject, objective, evaluation } = open(o);
  try {
    const epochs = subject.run.epochCheckpoints();
    const a = await checkpointWeights(subject, o.fromEpoch ?? epochs[0]);
    const other = o.toRun ? openSubject(o.toRun, o.runsRoot) : subject;
    if (
      other.layout.size !== subject.layout.size ||
      other.layout.entries.some(
        (e, i) => e.name !== subject.layout.entries[i]?.name || e.size !== subject.layout.entries[i]?.size,
      )
    )
      throw new UsageError(`runs ${subject.run.id} and ${other.run.id} have models of different shapes`);
    const b = await checkpointWeights(other, o.toEpoch);
    const [lo, hi] = o.range ?? [-0.25, 1.25];
    const alphas = linspace(lo, hi, o.steps ?? 31);
    const s = await interpolate(objective, a.w, b.w, alphas, (d, t, e) =>
      o.onProgress?.(d, t, "interpolation", `loss ${e.loss.toFixed(4)}`),
    );
    const name =
      o.name ?? `interpolation-${a.epoch}-${other === subject ? "" : other.run.id + "-"}${b.epoch}`;
    const from = `${subject.run.id}@${a.epoch}`;
    const to = `${other.run.id}@${b.epoch}`;
    const json = writeLandscape(subject.run, name, "interpolation", {
      from: provenance(subject, a.epoch, evaluation),
      to: provenance(other, b.epoch, evaluation),
      ...s,
    });
    const svg = await figure(
      subject.run,
      `${name}.svg`,
      sliceFigure(s, `Linear interpolation ${from} → ${to}`, "interpolation coefficient α", [
        { alpha: 0, label: `epoch ${a.epoch}` },
        { alpha: 1, label: `epoch ${b.epoch}` },
      ]),
    );
    return { slice: s, from, to, files: [json, svg] };
  } finally {
    objective.dispose();
  }
}

// ── 2. weight-space projection ────────────────────────────────────────────────────────────────

export async function runProjection(
  o: Omit<CommonOptions, "evaluation" | "batchSize"> & {
    epochs?: number[];
    method?: "pca" | "tsne" | "both";
    perplexity?: number;
    iterations?: number;
    seed?: number;
  },
) {
  const subject = openSubject(o.run, o.runsRoot);
  const epochs = o.epochs ?? subject.run.epochCheckpoints();
  if (epochs.length < 3)
    throw new UsageError(
      `a projection needs at least 3 checkpoints; run ${subject.run.id} has ${epochs.length}`,
    );
  const points: Vector[] = [];
  for (const [i, e] of epochs.entries()) {
    points.push((await checkpointWeights(subject, e)).w);
    o.onProgress?.(i + 1, epochs.length, "loading checkpoints");
  }
  const method = o.method ?? "both";
  const name = o.name ?? "projection";
  const out: Record<string, unknown> = { run: subject.run.id, epochs, params: subject.layout.size };
  const files: string[] = [];
  if (method !== "tsne") {
    const p = pca(points, 2);
    out.pca = {
      coordinates: p.coordinates,
      explainedVarianceRatio: p.explainedVarianceRatio,
      singularValues: p.singularValues,
    };
    const pts = p.coordinates.map((c, i) => ({ x: c[0], y: c[1], epoch: epochs[i] }));
    files.push(
      await figure(
        subject.run,
        `${name}-pca.svg`,
        projectionFigure(pts, `PCA of the weights of ${subject.run.id}`, "PCA"),
      ),
    );
  }
  if (method !== "pca") {
    const t = tsne(points, {
      perplexity: o.perplexity ?? 1,
      iterations: o.iterations ?? 1000,
      seed: o.seed ?? 0,
    });
    out.tsne = t;
    const pts = t.coordinates.map((c, i) => ({ x: c[0], y: c[1], epoch: epochs[i] }));
    files.push(
      await figure(
        subject.run,
        `${name}-tsne.svg`,
        projectionFigure(pts, `t-SNE of the weights of ${subject.run.id}`, "t-SNE"),
      ),
    );
  }
  files.unshift(writeLandscape(subject.run, name, "projection", out));
  return {
    result: out as {
      pca?: { coordinates: number[][]; explainedVarianceRatio: number[] };
      tsne?: { coordinates: number[][] };
    },
    epochs,
    files,
  };
}

// ── 3. Hessian ────────────────────────────────────────────────────────────────────────────────

export type HessianRequest = CommonOptions & {
  topK?: number;
  method?: "lanczos" | "power";
  maxIter?: number;
  tol?: number;
  trace?: boolean;
  traceSamples?: number;
  traceTol?: number;
  density?: boolean;
  densityIterations?: number;
  densityRuns?: number;
  seed?: number;
};

export async function runHessian(o: HessianRequest) {
  const { subject, objective, evaluation } = open(o);
  const at = await checkpointWeights(subject, o.epoch);
  const op = objective.hessianAt(at.w);
  const progress = iterationProgress(o.onProgress);
  const t0 = performance.now();
  try {
    const base = await objective.evaluate(at.w);
    const method = o.method ?? "power";
    const run = method === "power" ? powerIteration : lanczosTopK;
    const eigen = await run(op, {
      k: o.topK ?? HESSIAN_DEFAULTS.topK,
      maxIter: o.maxIter ?? HESSIAN_DEFAULTS.maxIter,
      tol: o.tol ?? HESSIAN_DEFAULTS.tol,
      seed: o.seed ?? 0,
      onProgress: progress,
    });
    const trace =
      o.trace === false
        ? null
        : await hutchinsonTrace(op, {
            maxIter: o.traceSamples ?? HESSIAN_DEFAULTS.traceSamples,
            minIter: Math.min(20, o.traceSamples ?? HESSIAN_DEFAULTS.traceSamples),
            tol: o.traceTol ?? HESSIAN_DEFAULTS.traceTol,
            seed: (o.seed ?? 0) + 1,
            onProgress: progress,
          });
    const density = o.density
      ? await spectralDensity(op, {
          iterations: o.densityIterations ?? HESSIAN_DEFAULTS.densityIterations,
          runs: o.densityRuns ?? 1,
          seed: (o.seed ?? 0) + 2,
          onProgress: progress,
        })
      : null;
    const name = o.name ?? `hessian-epoch-${at.epoch}`;
    const files: string[] = [];
    const curve = density ? densityCurve(density) : null;
    files.push(
      writeLandscape(subject.run, name, "hessian", {
        subject: provenance(subject, at.epoch, evaluation),
        loss: base.loss,
        accuracy: base.accuracy,
        eigen: {
          method,
          eigenvalues: eigen.eigenvalues,
          iterations: eigen.iterations,
          converged: eigen.converged,
          tol: o.tol ?? HESSIAN_DEFAULTS.tol,
          maxIter: o.maxIter ?? HESSIAN_DEFAULTS.maxIter,
        },
        trace: trace && {
          estimate: trace.trace,
          stderr: trace.stderr,
          samples: trace.samples.length,
          converged: trace.converged,
        },
        density: density && { ...density, integral: curve!.integral },
        elapsed_s: (performance.now() - t0) / 1000,
      }),
    );
    if (density && curve) {
      const thin = Math.max(1, Math.floor(curve.grid.length / 800));
      const small = {
        grid: curve.grid.filter((_, i) => i % thin === 0),
        density: curve.density.filter((_, i) => i % thin === 0),
      };
      files.push(
        await figure(
          subject.run,
          `${name}-density.svg`,
          densityFigure(
            small,
            eigen.eigenvalues,
            `Hessian eigenvalue density (SLQ), ${subject.run.id} epoch ${at.epoch}`,
          ),
        ),
      );
    }
    return {
      epoch: at.epoch,
      loss: base.loss,
      eigen,
      trace,
      density,
      densityIntegral: curve?.integral,
      files,
    };
  } finally {
    op.dispose();
    objective.dispose();
  }
}

// ── 4. surfaces ───────────────────────────────────────────────────────────────────────────────

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

export async function runSurface(o: SurfaceRequest) {
  const { subject, objective, evaluation } = open(o);
  const kind = o.directions ?? "hessian";
  const t0 = performance.now();
  try {
    let at = await checkpointWeights(subject, o.epoch);
    let directions: Directions;
    let trajectory: { epoch: number; x: number; y: number }[] | undefined;
    let range = o.range ?? [-0.2, 0.2];
    if (kind === "pca") {
      const epochs = subject.run.epochCheckpoints().filter((e) => o.epoch === undefined || e <= o.epoch);
      const checkpoints = [];
      for (const e of epochs) checkpoints.push({ epoch: e, w: (await checkpointWeights(subject, e)).w });
      const t = trajectoryDirections(checkpoints);
      at = checkpoints[checkpoints.length - 1];
      directions = t;
      trajectory = t.coordinates;
      if (!o.range) {
        const reach = Math.max(...t.coordinates.flatMap((c) => [Math.abs(c.x), Math.abs(c.y)])) * 1.2 || 1;
        range = [-reach, reach];
      }
    } else if (kind === "random") {
      directions = randomDirections(at.w, subject.layout, {
        count: o.count ?? 2,
        seed: o.seed ?? 0,
        ignoreBiasAndNorm: o.ignoreBiasAndNorm ?? true,
      });
    } else {
      const op = objective.hessianAt(at.w);
      try {
        directions = await hessianDirections(op, {
          count: o.count ?? 2,
          method: o.method ?? "lanczos",
          maxIter: o.maxIter ?? 100,
          tol: o.tol ?? 1e-3,
          seed: o.seed ?? 0,
          onProgress: iterationProgress(o.onProgress),
        });
      } finally {
        op.dispose();
      }
    }
    const name = o.name ?? `surface-${kind}-epoch-${at.epoch}`;
    const directionsFile = writeDirections(subject.run, name, directions.vectors, subject.layout);
    const center = await objective.evaluate(at.w);
    const steps = o.steps ?? 40;
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
    const gridSeconds = (performance.now() - tGrid) / 1000;
    let slices: SurfaceRecord["slices"];
    if (o.slices) {
      slices = [];
      for (const [k, d] of directions.vectors.entries()) {
        const line = objective.subspace(at.w, [d]);
        try {
          slices.push({ direction: k, ...(await slice1d(line, linspace(range[0], range[1], steps))) });
        } finally {
          line.dispose();
        }
      }
    }
    const record: SurfaceRecord = {
      subject: provenance(subject, at.epoch, evaluation),
      center,
      panels: results,
      ...(slices ? { slices } : {}),
      directions: directions.provenance,
      directionsFile,
      elapsed_s: (performance.now() - t0) / 1000,
      pointsPerSecond: total / gridSeconds,
    };
    const files = [writeLandscape(subject.run, name, "surface", record)];
    const label = (i: number) =>
      directions.provenance.kind === "hessian"
        ? `eigenvector ${i + 1} (λ = ${directions.provenance.eigenvalues[i].toPrecision(4)})`
        : directions.provenance.kind === "pca"
          ? `PC ${i + 1} (${(100 * directions.provenance.explainedVarianceRatio[i]).toFixed(1)}%)`
          : `random direction ${i + 1}`;
    const specs = results.map((r) =>
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
    files.push(
      await figure(
        subject.run,
        `${name}.svg`,
        panels(`Loss landscape of ${subject.run.id.split("/").pop()} at epoch ${at.epoch}`, specs),
      ),
    );
    if (slices) {
      const slicePanels = slices.map((s) => ({ ...(sliceFigure(s, label(s.direction), "λ") as object) }));
      files.push(
        await figure(
          subject.run,
          `${name}-slices.svg`,
          panels(`1-D slices of ${subject.run.id}`, slicePanels as never),
        ),
      );
    }
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

// ── 5. Gaussian fit ───────────────────────────────────────────────────────────────────────────

export async function runFit(o: {
  surface: string;
  runsRoot?: string;
  surfaceName?: string;
  panel?: number;
  offset?: "fit" | "max";
  name?: string;
}) {
  const { run, name: surfaceName, record } = loadSurface(o.surface, o.runsRoot, o.surfaceName);
  const panel = record.panels[o.panel ?? 0];
  if (!panel) throw new UsageError(`surface ${surfaceName} has no panel ${o.panel}`);
  const fit = fitGaussian(gridPoints(panel.grid), { offset: o.offset ?? "max" });
  const name = o.name ?? `${surfaceName}-fit`;
  const fitted = panel.grid.y.map((y) => panel.grid.x.map((x) => gaussian(fit.params, x, y)));
  const all = [...panel.grid.loss.flat(), ...fitted.flat()];
  const domain: [number, number] = [Math.min(...all), Math.max(...all)];
  const files = [
    writeLandscape(run, name, "fit", {
      surface: surfaceName,
      panel: o.panel ?? 0,
      ...fit,
      printed: describeFit(fit),
    }),
    await figure(
      run,
      `${name}.svg`,
      panels(`Gaussian fit of ${surfaceName}`, [
        contourPanel(panel.grid, { title: "loss surface (data)", domain }),
        contourPanel({ ...panel.grid, loss: fitted }, { title: "fitted Gaussian", domain }),
        contourPanel(
          { ...panel.grid, loss: panel.grid.loss.map((r, j) => r.map((v, i) => v - fitted[j][i])) },
          { title: "residual (data − fit)", colorTitle: "residual" },
        ),
      ]),
    ),
  ];
  return { fit, printed: describeFit(fit), files, run, name, grid: panel.grid };
}

// ── 6. wavelets ───────────────────────────────────────────────────────────────────────────────

export async function runWavelets(o: {
  surface: string;
  runsRoot?: string;
  surfaceName?: string;
  panel?: number;
  wavelet?: WaveletName;
  levels?: number;
  name?: string;
}) {
  const { run, name: surfaceName, record } = loadSurface(o.surface, o.runsRoot, o.surfaceName);
  const panel = record.panels[o.panel ?? 0];
  if (!panel) throw new UsageError(`surface ${surfaceName} has no panel ${o.panel}`);
  const wavelet = o.wavelet ?? "haar";
  const dec = wavedec2(panel.grid.loss, wavelet, o.levels ?? 2);
  const step = panel.grid.x.length > 1 ? panel.grid.x[1] - panel.grid.x[0] : 1;
  const rough = roughness(dec, step);
  const name = o.name ?? `${surfaceName}-wavelets-${wavelet}`;
  const files = [
    writeLandscape(run, name, "wavelets", {
      surface: surfaceName,
      wavelet,
      levels: dec.details.length,
      approximation: toRows(dec.approximation),
      details: dec.details.map((d, i) => ({
        level: dec.details.length - i,
        H: toRows(d.H),
        V: toRows(d.V),
        D: toRows(d.D),
      })),
      roughness: rough,
    }),
    await figure(
      run,
      `${name}.svg`,
      panels(`Multi-scale analysis of ${surfaceName} (${wavelet})`, [
        heatmapPanel(toRows(dec.approximation), "approximation", "coefficient"),
        ...dec.details.map((d, i) =>
          heatmapPanel(toRows(detailMagnitude(d)), `detail level ${dec.details.length - i}`, "√(H²+V²+D²)"),
        ),
      ]),
    ),
    await figure(
      run,
      `${name}-roughness.svg`,
      barChart(
        rough.map((r) => ({ label: `${r.level} (${r.scale.toPrecision(2)})`, value: r.rms })),
        `Roughness per scale of ${surfaceName}`,
        "RMS of detail coefficients",
      ),
    ),
  ];
  return { roughness: rough, files };
}

// ── 7. topology ───────────────────────────────────────────────────────────────────────────────

export async function runTopology(o: {
  surface: string;
  runsRoot?: string;
  surfaceName?: string;
  panel?: number;
  threshold?: number;
  normalize?: boolean;
  compare?: string;
  compareName?: string;
  name?: string;
}) {
  const { run, name: surfaceName, record } = loadSurface(o.surface, o.runsRoot, o.surfaceName);
  const panel = record.panels[o.panel ?? 0];
  if (!panel) throw new UsageError(`surface ${surfaceName} has no panel ${o.panel}`);
  // As the book, on the loss normalised to [0, 1] so thresholds and distances compare across surfaces.
  const prepare = (z: number[][]) => {
    if (o.normalize === false) return z;
    const flat = z.flat();
    const lo = Math.min(...flat);
    const span = Math.max(...flat) - lo || 1;
    return z.map((r) => r.map((v) => (v - lo) / span));
  };
  const p = persistence(prepare(panel.grid.loss));
  const summary = summarize(p, o.threshold ?? 0.01);
  let bottleneck: { other: string; h0: number; h1: number } | undefined;
  if (o.compare) {
    const other = loadSurface(o.compare, o.runsRoot, o.compareName);
    const q = persistence(prepare(other.record.panels[0].grid.loss));
    const dims = (x: typeof p, d: 0 | 1) => [
      ...x.pairs.filter((e) => e.dimension === d),
      ...(d === 0 ? [x.essential] : []),
    ];
    bottleneck = {
      other: `${other.run.id}/${other.name}`,
      h0: bottleneckDistance(dims(p, 0), dims(q, 0)),
      h1: bottleneckDistance(dims(p, 1), dims(q, 1)),
    };
  }
  const at = (ij: [number, number]) => ({ x: panel.grid.x[ij[1]], y: panel.grid.y[ij[0]] });
  const name = o.name ?? `${surfaceName}-topology`;
  const files = [
    writeLandscape(run, name, "topology", {
      surface: surfaceName,
      normalized: o.normalize !== false,
      pairs: p.pairs.map((q) => ({ ...q, ...at(q.at) })),
      essential: { ...p.essential, death: null, ...at(p.essential.at) },
      summary: {
        ...summary,
        significantMinima: summary.significantMinima.map((m) => ({
          ...m,
          ...at(m.at),
          persistence: Number.isFinite(m.persistence) ? m.persistence : null,
        })),
      },
      ...(bottleneck ? { bottleneck } : {}),
    }),
    await figure(run, `${name}.svg`, persistenceFigure(p.pairs, `Persistence diagram of ${surfaceName}`)),
  ];
  return { summary, bottleneck, files, locate: at };
}

export type { GaussianFit, Overlay };

// ── 8. optimiser paths on the fitted Gaussian ─────────────────────────────────────────────────

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
