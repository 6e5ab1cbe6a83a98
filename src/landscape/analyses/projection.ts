/** Weight-space projection: one of the landscape analyses (see ../analyses.ts). */
import { UsageError } from "../../errors.js";
import { checkpointWeights, openSubject } from "../subject.js";
import { pca, tsne } from "../projection.js";
import { writeLandscape } from "../store.js";
import { projectionFigure } from "../figures.js";
import type { Vector } from "../vector.js";
import { figure, type CommonOptions } from "./common.js";

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
