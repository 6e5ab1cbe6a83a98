/** Hessian: one of the landscape analyses (see ../analyses.ts). */
import { checkpointWeights } from "../subject.js";
import {
  HESSIAN_DEFAULTS,
  densityCurve,
  hutchinsonTrace,
  lanczosTopK,
  powerIteration,
  spectralDensity,
} from "../hessian.js";
import { writeLandscape } from "../store.js";
import { densityFigure } from "../figures.js";
import { open, provenance, iterationProgress, figure, type CommonOptions } from "./common.js";

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
