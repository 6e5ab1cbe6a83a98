/** Chapter 3 of the tour: the Adam run of chapter 2 seen through its loss landscape. */
import { join, relative } from "node:path";
import { runFit, runHessian, runInterpolation, runPaths, runSurface } from "../../landscape/analyses.js";
import { Run } from "../../runs/store.js";
import { readDynamics } from "../../train/dynamics.js";
import { dynamicsFigures } from "../../train/dynamics-figures.js";
import type { LandscapeSettings } from "../plan.js";
import {
  fixed,
  phaseProgress,
  svgFigure,
  type Chapter,
  type OutcomeFigure,
  type OutcomeTable,
  type UnitBody,
  type UnitContext,
} from "./outcome.js";

export const LANDSCAPE_CHAPTER: Chapter = {
  number: 3,
  title: "3. Landscape of the trained model",
  intro:
    "The Adam run of chapter 2 seen through its loss landscape on a fixed evaluation set: linear interpolation between checkpoints, the top of the Hessian spectrum, a 2-D surface along the top two Hessian eigenvectors with a Gaussian fitted to it and optimiser paths on the fit, and the training dynamics recorded while it trained.",
};

const CAPTIONS = {
  interpolation: (from: string, to: string) =>
    `Loss and accuracy along (1−α)·w₁ + α·w₂ from ${from} to ${to}.`,
  density: "Hessian eigenvalue density (stochastic Lanczos quadrature) with the top eigenvalues marked.",
  surface: (s: LandscapeSettings) =>
    `Loss surface along the top two Hessian eigenvectors, ${s.surfaceSteps}×${s.surfaceSteps} points in [${s.surfaceRange.join(", ")}]².`,
  fit: "Gaussian fit of the surface: data, fit and residual.",
  paths: "SGD, momentum and Adam paths on the fitted Gaussian.",
  dynamics:
    "Training dynamics of the Adam run per epoch: loss, gradient norm, parameter change, weight norm, loss improvement.",
  dynamicsSteps: "The same dynamics step by step (recorded while training).",
};

type Analyses = Awaited<ReturnType<typeof analyse>>;

/** Runs the chapter's analyses of the subject run, in the order the report tells them. */
async function analyse(ctx: UnitContext, subject: string) {
  const s = ctx.settings.landscape;
  const p = ctx.progress;
  const evaluation = { split: "test" as const, count: s.examples, offset: 0, dataDir: ctx.dataDir };
  const phases = phaseProgress(p);
  const common = { run: subject, evaluation, onProgress: phases };
  p.log("  interpolation between the first and the last checkpoint…");
  const interp = await runInterpolation({
    ...common,
    steps: s.interpolationSteps,
    name: "tour-interpolation",
  });
  phases.done();
  p.log(`  Hessian: top ${s.topK} eigenvalues (Lanczos), trace (Hutchinson), spectral density (SLQ)…`);
  const hess = await runHessian({
    ...common,
    topK: s.topK,
    method: "lanczos",
    maxIter: s.maxIter,
    traceSamples: s.traceSamples,
    density: true,
    densityIterations: s.maxIter,
    name: "tour-hessian",
  });
  phases.done();
  p.log(`  ${s.surfaceSteps}×${s.surfaceSteps} loss surface along the top two Hessian eigenvectors…`);
  const surface = await runSurface({
    ...common,
    directions: "hessian",
    count: 2,
    steps: s.surfaceSteps,
    range: s.surfaceRange,
    method: "lanczos",
    maxIter: s.maxIter,
    name: "tour-surface",
  });
  phases.done();
  const fit = await runFit({ surface: surface.files[0], offset: "max", name: "tour-surface-fit" });
  const paths = await runPaths({
    fit: fit.files[0],
    optimizers: "sgd,momentum,adam",
    steps: s.pathSteps,
    name: "tour-surface-paths",
  });
  return { interp, hess, surface, fit, paths };
}

/** The dynamics the optimiser chapter recorded while the subject trained, drawn per epoch and per step. */
async function dynamicsFiles(subject: string, subjectRel: string): Promise<string[]> {
  const subjectRun = new Run(subject);
  const dfig = dynamicsFigures(subjectRel, readDynamics(subjectRun));
  return [
    await svgFigure(subjectRun, "dynamics.svg", dfig.epochs),
    ...(dfig.steps ? [await svgFigure(subjectRun, "dynamics-steps.svg", dfig.steps)] : []),
  ];
}

/** The numbers later chapters and the report read, each with the file it came from. */
function landscapeValues(a: Analyses, s: LandscapeSettings, subjectRel: string, rel: (f: string) => string) {
  const { interp, hess, surface, fit, paths } = a;
  // The loss at the grid point nearest to α (the ends of the segment are grid points at most scales).
  const at = (alpha: number) => {
    const d = interp.slice.alpha.map((x) => Math.abs(x - alpha));
    return interp.slice.loss[d.indexOf(Math.min(...d))];
  };
  const between = interp.slice.loss.filter(
    (_, i) => interp.slice.alpha[i] >= 0 && interp.slice.alpha[i] <= 1,
  );
  return {
    subject: subjectRel,
    interpolation: {
      from: interp.from,
      to: interp.to,
      lossAt0: at(0) ?? null,
      lossAt1: at(1) ?? null,
      maxBetween: Math.max(...between),
      source: rel(interp.files[0]),
    },
    hessian: {
      eigenvalues: hess.eigen.eigenvalues,
      converged: hess.eigen.converged,
      trace: hess.trace?.trace ?? null,
      traceStderr: hess.trace?.stderr ?? null,
      loss: hess.loss,
      source: rel(hess.files[0]),
    },
    surface: {
      center: surface.record.center,
      steps: s.surfaceSteps,
      range: s.surfaceRange,
      pointsPerSecond: surface.record.pointsPerSecond,
      source: rel(surface.files[0]),
    },
    fit: { printed: fit.printed, r2: fit.fit.r2, rmse: fit.fit.rmse, source: rel(fit.files[0]) },
    paths: paths.paths.map((q) => ({
      optimizer: q.optimizer,
      final: q.values.at(-1) ?? null,
      end: q.points.at(-1) ?? null,
    })),
    pathsSource: rel(paths.files[0]),
    dynamicsSource: join(subjectRel, "dynamics.jsonl"),
  };
}

const e = (x: number) => x.toPrecision(4);

function landscapeTable(
  a: Analyses,
  values: ReturnType<typeof landscapeValues>,
  examples: number,
): OutcomeTable {
  const { hess, fit } = a;
  const fp = fit.fit.params;
  return {
    columns: ["quantity", "value"],
    rows: [
      ["evaluation set", `first ${examples} test images`],
      ["loss at the trained weights", fixed(hess.loss)],
      ...hess.eigen.eigenvalues.map((v, i): [string, string] => [`Hessian eigenvalue λ${i + 1}`, e(v)]),
      ["Hessian trace (Hutchinson)", hess.trace ? `${e(hess.trace.trace)} ± ${e(hess.trace.stderr)}` : "–"],
      [
        "interpolation: loss at α = 0 / 1",
        `${fixed(values.interpolation.lossAt0)} / ${fixed(values.interpolation.lossAt1)}`,
      ],
      [
        "Gaussian fit: offset − A·exp(−(x−x₀)²/2σx² − (y−y₀)²/2σy²)",
        `A = ${e(fp.A)}, (x₀, y₀) = (${e(fp.x0)}, ${e(fp.y0)}), (σx, σy) = (${e(fp.sigmaX)}, ${e(fp.sigmaY)}), offset ${e(fp.offset)}`,
      ],
      ["Gaussian fit R² / RMSE", `${fixed(fit.fit.r2, 3)} / ${fixed(fit.fit.rmse)}`],
      ...values.paths.map((q): [string, string] => [`path ${q.optimizer}: final f`, fixed(q.final)]),
    ],
    source: `${values.hessian.source}, ${values.interpolation.source}, ${values.fit.source}, ${values.pathsSource}`,
  };
}

function landscapeFigures(
  a: Analyses,
  dynFiles: string[],
  s: LandscapeSettings,
  rel: (f: string) => string,
): OutcomeFigure[] {
  const { interp, hess, surface, fit, paths } = a;
  const figure = (file: string, caption: string, gallery?: string): OutcomeFigure => ({
    file: rel(file),
    caption,
    ...(gallery ? { gallery } : {}),
  });
  return [
    figure(interp.files[1], CAPTIONS.interpolation(interp.from, interp.to), "tour-interpolation"),
    ...(hess.files[1] ? [figure(hess.files[1], CAPTIONS.density, "tour-hessian-density")] : []),
    figure(surface.files[1], CAPTIONS.surface(s), "tour-surface"),
    figure(fit.files[1], CAPTIONS.fit, "tour-surface-fit"),
    figure(paths.files[1], CAPTIONS.paths, "tour-surface-paths"),
    figure(dynFiles[0], CAPTIONS.dynamics),
    ...(dynFiles[1] ? [figure(dynFiles[1], CAPTIONS.dynamicsSteps, "tour-dynamics")] : []),
  ];
}

export async function landscapeUnit(ctx: UnitContext): Promise<UnitBody> {
  const s = ctx.settings.landscape;
  const subjectRel = String(ctx.deps.optimizers?.values.adamRun);
  const subject = join(ctx.root, subjectRel);
  const own = Run.create(ctx.root, ctx.id, {
    id: ctx.id,
    createdAt: new Date().toISOString(),
    command: "tour-landscape",
    subject: subjectRel,
    settings: ctx.config,
  });
  const rel = (f: string) => relative(ctx.root, f);
  try {
    const a = await analyse(ctx, subject);
    const dynFiles = await dynamicsFiles(subject, subjectRel);
    const values = landscapeValues(a, s, subjectRel, rel);
    own.writeJson("results.json", values);
    own.setStatus("done", 0);
    const { interp, hess, surface, fit } = a;
    return {
      lines: [
        `interpolation ${interp.from} → ${interp.to}: loss ${fixed(values.interpolation.lossAt0)} → ${fixed(values.interpolation.lossAt1)}`,
        `Hessian top eigenvalues ${hess.eigen.eigenvalues.map(e).join(", ")}; trace ≈ ${hess.trace ? e(hess.trace.trace) : "–"}`,
        `surface centre loss ${fixed(surface.record.center.loss)}; Gaussian fit R² ${fixed(fit.fit.r2, 3)}`,
        `paths on the fitted Gaussian: ${values.paths.map((q) => `${q.optimizer} f = ${fixed(q.final)}`).join(", ")}`,
      ],
      tables: [landscapeTable(a, values, s.examples)],
      figures: landscapeFigures(a, dynFiles, s, rel),
      values,
    };
  } catch (err) {
    own.recordFailure(err, 0);
    throw err;
  }
}
