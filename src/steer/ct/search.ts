/**
 * Curvature Tuning's β search: evaluate the model with every ReLU replaced by CTU(β, c) for each β
 * of a grid on a validation split, keep the best (β = 1, the untouched model, is always a
 * candidate, so CT never does worse than the base model on validation), report test accuracy.
 *
 * Two settings:
 * - "direct": the downstream task has the model's own classes (e.g. a corrupted test set): no
 *   weight changes at all, the model is only evaluated.
 * - "probe": the task has other classes (transfer): the backbone stays frozen and a new linear head
 *   is fitted per β on the task's training split (the paper's linear probe + CT).
 */
import { jit } from "../../engine/jax.js";
import { treeDispose, treeRef, type Params } from "../../engine/tree.js";
import type { ImageSplit } from "../../data/dataset.js";
import { createModel, type ModelConfig } from "../../nn/models/index.js";
import { batchLossAndCorrect, evaluate } from "../../train/evaluate.js";
import { UsageError } from "../../errors.js";
export { parseBetaGrid } from "../../requests/ct.js";
import { ctuParams, replaceActivations, withCtuParams } from "./replace.js";
import { extractFeatures, fitHead, headAccuracy, type HeadOptions } from "./probe.js";

export type BetaScore = { beta: number; valAccuracy: number; testAccuracy: number };

export type SearchResult = {
  mode: "direct" | "probe";
  c: number;
  scores: BetaScore[];
  /** β = 1: the base model (with its linear probe in "probe" mode). */
  base: BetaScore;
  /** The β chosen on validation. */
  best: BetaScore;
};

/** The best score: highest validation accuracy, ties to the β closest to 1 (the least change). */
export function pickBest(scores: BetaScore[]): BetaScore {
  return scores.reduce((a, b) =>
    b.valAccuracy > a.valAccuracy || (b.valAccuracy === a.valAccuracy && b.beta > a.beta) ? b : a,
  );
}

export type SearchData = { train?: ImageSplit; val: ImageSplit; test: ImageSplit; classes: number };

export type SearchOptions = {
  betas: number[];
  c?: number;
  head?: HeadOptions;
  batchSize?: number;
  onBeta?(score: BetaScore, index: number, total: number): void;
};

/**
 * Runs the search. Borrows `params`. "direct" mode when `data.classes` equals the model's classes
 * and no training split is given; "probe" mode otherwise (needs `data.train`).
 */
export async function searchBeta(
  config: ModelConfig,
  params: Params,
  data: SearchData,
  opts: SearchOptions,
): Promise<SearchResult> {
  const c = opts.c ?? 0.5;
  const direct = !data.train;
  if (direct && data.classes !== config.classes)
    throw new UsageError(
      `the task has ${data.classes} classes but the model ${config.classes}: a transfer needs a training split for the new head`,
    );
  const scores: BetaScore[] = [];
  const ct = replaceActivations(config, treeRef(params), { beta: 0.5, c });
  const ctModel = createModel(ct.config);
  const step = jit(batchLossAndCorrect(ctModel));
  const batch = opts.batchSize ?? 250;
  try {
    for (const [i, beta] of opts.betas.entries()) {
      // β = 1 is the base model itself; others swap the CTU parameters into the replaced tree.
      const nodes = beta === 1 ? null : ctuParams(config, { beta, c });
      const cfg = nodes ? ct.config : config;
      const p = nodes ? withCtuParams(ct.params, nodes) : params;
      let score: BetaScore;
      if (direct) {
        const evalStep = nodes ? step : undefined;
        const m = nodes ? ctModel : createModel(config);
        score = {
          beta,
          valAccuracy: (await evaluate(m, p, data.val, batch, evalStep)).accuracy,
          testAccuracy: (await evaluate(m, p, data.test, batch, evalStep)).accuracy,
        };
      } else {
        const [train, val, test] = await extractFeatures(cfg, p, [data.train!, data.val, data.test], batch);
        const fitted = await fitHead(train, val, data.classes, opts.head);
        score = {
          beta,
          valAccuracy: fitted.valAccuracy,
          testAccuracy: await headAccuracy(fitted.head, test),
        };
        treeDispose(fitted.head as unknown as Params);
      }
      if (nodes) treeDispose(nodes);
      scores.push(score);
      opts.onBeta?.(score, i, opts.betas.length);
    }
  } finally {
    step.dispose();
    treeDispose(ct.params); // the reference taken above, and the placeholder CTU nodes
  }
  const base = scores.find((s) => s.beta === 1)!;
  return { mode: direct ? "direct" : "probe", c, scores, base, best: pickBest(scores) };
}
