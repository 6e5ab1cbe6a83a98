/**
 * Strategy 3, few-shot adaptation: search α for z′ = Σ_k α_k z_k by the cross-entropy method on a
 * few labelled examples of the target task. The fitness of α is the greedy exact-match accuracy
 * of W′(z′) on the shots, ties broken by the mean log-likelihood of the shots' answers under W′
 * (teacher forcing). The shots only steer the search: test prompts stay as they are.
 */
import { jit, numpy as np } from "../../../engine/jax.js";
import { treeDispose, treeRef, type Params } from "../../../engine/tree.js";
import { answerTokens, isCorrect, type TaskExample } from "../../../data/tasks/index.js";
import { makeBatch } from "../../../lm/batch.js";
import type { Generator } from "../../../lm/generate.js";
import { nextTokenLogProbs } from "../../../lm/loss.js";
import { cem, type CemGeneration, type CemOptions, type CemResult, type Fitness } from "./cem.js";
import type { Composer, ExpertLibrary } from "./library.js";
import { alphaDim, mixExperts, type MixOptions } from "./mix.js";
import { answer } from "./two-pass.js";

export type FewShotOptions = Omit<CemOptions, "dim" | "init"> & MixOptions & { shots: number };

/** The few-shot settings beyond CEM's own (CEM_DEFAULTS). */
export const FEWSHOT_DEFAULTS: MixOptions & { shots: number } = {
  shots: 16,
  perLayer: false,
  normalise: false,
};

export type FewShotResult = CemResult & { alpha: number[]; evaluations: number; seconds: number };

/** Mean log π(answer | prompt) per example under params. Consumes params, tokens and mask. */
function answerLogLikelihood(
  params: Params,
  cfg: ExpertLibrary["lm"]["cfg"],
  tokens: np.Array,
  mask: np.Array,
) {
  const B = tokens.shape[0];
  const { chosen, logp } = nextTokenLogProbs(params, cfg, tokens);
  logp.dispose();
  return chosen.mul(mask).sum().div(B);
}

export async function fewShotSearch(
  lib: ExpertLibrary,
  compose: Composer,
  gen: Generator,
  shots: TaskExample[],
  opts: FewShotOptions,
  onGeneration?: (g: CemGeneration) => void,
): Promise<FewShotResult> {
  const { lm, zs, targets } = lib;
  const K = zs.length;
  const mix: MixOptions = { perLayer: opts.perLayer, normalise: opts.normalise };
  const batch = makeBatch(lm.tokenizer, shots, "answer");
  const likelihood = jit((params: Params, tokens: np.Array, mask: np.Array) =>
    answerLogLikelihood(params, lm.cfg, tokens, mask),
  );
  const maxNewTokens = answerTokens(shots.map((s) => s.family));
  const t0 = performance.now();
  let evaluations = 0;
  const score = async (alpha: number[]): Promise<Fitness> => {
    const params = compose.params(mixExperts(zs, targets, alpha, mix));
    const { texts } = await answer(
      gen,
      params,
      lm.tokenizer,
      shots.map((s) => s.question),
      { maxNewTokens, batchSize: shots.length },
    );
    const ll = likelihood(
      treeRef(params),
      np.array(batch.tokens, { dtype: np.int32 }).reshape([batch.B, batch.T]),
      np.array(batch.mask).reshape([batch.B, batch.T - 1]),
    );
    const tiebreak = (await ll.data())[0];
    treeDispose(params);
    evaluations++;
    return { score: texts.filter((t, i) => isCorrect(t, shots[i].answer)).length / shots.length, tiebreak };
  };
  try {
    const result = await cem(
      async (points) => {
        const out: Fitness[] = [];
        for (const p of points) out.push(await score(p));
        return out;
      },
      { ...opts, dim: alphaDim(K, targets, opts.perLayer), init: opts.normalise ? 1 / K : 0.5 },
      onGeneration,
    );
    return { ...result, alpha: result.best, evaluations, seconds: (performance.now() - t0) / 1000 };
  } finally {
    likelihood.dispose();
  }
}
