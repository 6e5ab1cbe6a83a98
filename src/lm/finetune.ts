/**
 * Fine-tuning an adapter (SVF or LoRA) on one task, read top to bottom:
 *
 *   evaluate the starting point on validation (step 0, the first "best")
 *   for step = 1..steps:
 *     draw a batch of training prompts (seeded by run seed and step: a resumed run draws the same)
 *     rl:  W′ = apply(trainable); answers ŷ ~ π_W′ (greedy at temperature 0, as the official code);
 *          r = +1/−1 by exact match (optionally normalised over the batch);
 *          loss = −(1/B) Σ_b r_b · log π_W′(ŷ_b|x_b) + λ · (1/B) Σ_b Σ_t KL_t
 *     sft: loss = mean −log π_W′(answer|x) over answer tokens (teacher forcing)
 *     gradient through W′ to the trainable vectors; clip by global norm; Adam
 *     every evalEvery steps: validation accuracy; keep the best trainable values
 *   test accuracy of the best; the adapter file.
 *
 * KL_t is computed over the whole vocabulary at every generated position, against the base model
 * π_W: "policy-ref" = KL(π_W′ ‖ π_W) (the paper's formula), "ref-policy" = KL(π_W ‖ π_W′) (what
 * the official code's F.kl_div(log π_W′, log π_W, log_target=True) computes).
 */
import { jit, numpy as np, valueAndGrad } from "../engine/jax.js";
import { yieldToEventLoop } from "../engine/yield.js";
import {
  countParams,
  fillLike,
  globalNorm,
  toHost,
  treeDispose,
  treeRef,
  type Params,
} from "../engine/tree.js";
import { answerTokens, evalSplits, isCorrect, trainSplit, type TaskExample } from "../data/tasks/index.js";
import { createRng, hashSeed } from "../data/tasks/rng.js";
import { adam, applyUpdates, chain, type OptState } from "../optim/index.js";
import { clipByGlobalNorm } from "../steer/svf/clip.js";
import type { Run } from "../runs/store.js";
import type { Adapter } from "./adapter.js";
import { makeBatch } from "./batch.js";
import { packTrees, unpackTree } from "./checkpoint.js";
import { answerText, promptIds, taskAccuracy } from "./evaluate.js";
import { createGenerator, leftPad } from "./generate.js";
import { maskedNextTokenLoss, nextTokenLogProbs } from "./loss.js";
import type { LmConfig } from "./model.js";
import type { TextTokenizer } from "./tokenizer.js";

export type Objective = "rl" | "sft";
export type KlDirection = "policy-ref" | "ref-policy";

export type FinetuneConfig = {
  task: string;
  objective: Objective;
  steps: number;
  batchSize: number;
  lr: number;
  maxGradNorm: number;
  klCoef: number;
  klDirection: KlDirection;
  /** Rollout temperature (0 = greedy, the official setting). */
  temperature: number;
  /** Normalise rewards over the batch: (r − mean) / std (official rw_norm). */
  rewardNorm: boolean;
  /**
   * Rollouts per prompt (default 1, as the official code). With k > 1 (and temperature > 0) each
   * prompt appears k times in the batch and reward normalisation is per prompt (a group baseline).
   */
  samplesPerPrompt?: number;
  trainExamples: number;
  evalEvery: number;
  evalExamples: number;
  seed: number;
  /** Test questions scored at the end (default: the whole split). */
  testExamples?: number;
};

export const FINETUNE_DEFAULTS: Omit<FinetuneConfig, "task" | "objective"> = {
  steps: 60,
  batchSize: 32,
  lr: 2e-3,
  maxGradNorm: 1e-3,
  klCoef: 0,
  klDirection: "policy-ref",
  temperature: 0,
  rewardNorm: false,
  trainExamples: 2048,
  evalEvery: 10,
  evalExamples: 128,
  seed: 0,
};

export type FinetuneCallbacks = {
  onStart?(info: { startStep: number; steps: number; trainable: number }): void;
  onStep?(info: { step: number; loss: number; reward?: number; accuracy?: number; kl?: number }): void;
  onEval?(info: { step: number; accuracy: number; best: number; bestStep: number }): void;
};

export type FinetuneResult = {
  status: "done" | "interrupted";
  bestStep: number;
  validation: number;
  test?: number;
  best: Params;
};

/** RL batch tensors: left-padded prompts followed by the generated tokens, padded to P + G. */
export function rolloutBatch(prompts: number[][], generated: number[][], padId: number, G: number) {
  const { ids, pads, P } = leftPad(prompts, padId);
  const B = prompts.length;
  const T = P + G;
  const tokens = new Int32Array(B * T).fill(padId);
  const valid = new Array<boolean>(B * T).fill(true);
  const positions = new Int32Array(B * T);
  const mask = new Float32Array(B * (T - 1));
  for (let b = 0; b < B; b++) {
    tokens.set(ids.subarray(b * P, (b + 1) * P), b * T);
    tokens.set(generated[b].slice(0, G), b * T + P);
    for (let s = 0; s < T; s++) {
      valid[b * T + s] = s >= pads[b];
      positions[b * T + s] = Math.max(0, s - pads[b]);
    }
    for (let j = 0; j < Math.min(generated[b].length, G); j++) mask[b * (T - 1) + P - 1 + j] = 1;
  }
  return { tokens, valid, positions, mask, B, T };
}

function klPerPosition(logp: np.Array, ref: np.Array, direction: KlDirection): np.Array {
  return direction === "policy-ref"
    ? np.exp(logp.ref).mul(logp.sub(ref)).sum(-1)
    : np.exp(ref.ref).mul(ref.sub(logp)).sum(-1);
}

/**
 * The REINFORCE objective with a KL penalty, as a function of the trainable values:
 *   −(1/B) Σ_b r_b Σ_t mask·log π_W′(y_t) + λ (1/B) Σ_b Σ_t mask·KL_t(π_W′, π_W)
 * `ref` holds the base model's next-token log-distributions [B, T−1, V] (unused when λ = 0).
 * Returns [loss, mean KL per sequence]. Consumes everything.
 */
export function reinforceLoss(
  apply: Adapter["apply"],
  cfg: LmConfig,
  klCoef: number,
  klDirection: KlDirection,
) {
  return (
    trainable: Params,
    frozen: Params,
    tokens: np.Array,
    positions: np.Array,
    keyValid: np.Array,
    mask: np.Array,
    rewards: np.Array,
    ref: np.Array,
  ): [np.Array, np.Array] => {
    const B = tokens.shape[0];
    const params = apply(trainable, frozen);
    const { chosen, logp } = nextTokenLogProbs(params, cfg, tokens, { positions, keyValid });
    const seqLogp = chosen.mul(mask.ref).sum(-1);
    let loss = seqLogp.mul(rewards).sum().neg().div(B);
    let kl: np.Array;
    if (klCoef > 0) {
      kl = klPerPosition(logp, ref, klDirection).mul(mask).sum().div(B);
      loss = loss.add(kl.ref.mul(klCoef));
    } else {
      logp.dispose();
      ref.dispose();
      mask.dispose();
      kl = np.array(0);
    }
    return [loss, kl];
  };
}

export async function finetune(
  run: Run,
  lm: { cfg: LmConfig; tokenizer: TextTokenizer },
  adapter: Adapter,
  config: FinetuneConfig,
  opts: { resume?: boolean; signal?: AbortSignal; callbacks?: FinetuneCallbacks } = {},
): Promise<FinetuneResult> {
  const { cfg, tokenizer: tok } = lm;
  const cb = opts.callbacks ?? {};
  const optimizer = chain(clipByGlobalNorm(config.maxGradNorm), adam({ lr: config.lr }));
  let trainable = adapter.trainable;
  let state = optimizer.init(trainable);
  let best = treeRef(trainable);
  let bestVal = -1;
  let bestStep = 0;
  let startStep = 0;
  let elapsedBefore = 0;
  if (opts.resume && "latest.safetensors" in run.checkpointIndex()) {
    run.repairMetrics();
    const { tensors, metadata } = run.loadCheckpoint("latest");
    const where = run.path("checkpoints", "latest.safetensors");
    const restored = fillLike(trainable, unpackTree(tensors, "trainable"), where);
    const restoredState = fillLike(state, unpackTree(tensors, "opt"), `${where} (optimiser state)`);
    const restoredBest = fillLike(trainable, unpackTree(tensors, "best"), `${where} (best)`);
    treeDispose(trainable);
    treeDispose(state);
    treeDispose(best);
    trainable = restored;
    state = restoredState;
    best = restoredBest;
    startStep = Number(metadata.step);
    bestVal = Number(metadata.best_val);
    bestStep = Number(metadata.best_step);
    elapsedBefore = Number(metadata.elapsed_s ?? 0);
  }
  const frozen = adapter.frozen;
  const trainPool = trainSplit(config.task, config.trainExamples, config.seed);
  const { validation, test: testSplit } = evalSplits(config.task);
  const test = testSplit.slice(0, config.testExamples ?? testSplit.length);
  const valSet = validation.slice(0, config.evalExamples);
  const gen = createGenerator(cfg);
  const apply = jit(adapter.apply);
  const G = answerTokens([config.task]);
  const base = frozen.base as Params;

  const rlLoss = reinforceLoss(adapter.apply, cfg, config.klCoef, config.klDirection);
  const rlStep = jit(
    (
      trainable: Params,
      state: OptState,
      frozen: Params,
      tokens: np.Array,
      positions: np.Array,
      keyValid: np.Array,
      mask: np.Array,
      rewards: np.Array,
      ref: np.Array,
    ) => {
      const [[loss, kl], grads] = valueAndGrad(rlLoss, { hasAux: true })(
        treeRef(trainable),
        frozen,
        tokens,
        positions,
        keyValid,
        mask,
        rewards,
        ref,
      );
      const gradNorm = globalNorm(treeRef(grads));
      const { updates, state: next } = optimizer.update(grads, state, trainable);
      return [applyUpdates(trainable, updates), next, loss, kl, gradNorm] as [
        Params,
        OptState,
        np.Array,
        np.Array,
        np.Array,
      ];
    },
  );
  const refLogp = jit((base: Params, tokens: np.Array, positions: np.Array, keyValid: np.Array) => {
    const { chosen, logp } = nextTokenLogProbs(base, cfg, tokens, { positions, keyValid });
    chosen.dispose();
    return logp;
  });
  const sftStep = jit(
    (trainable: Params, state: OptState, frozen: Params, tokens: np.Array, mask: np.Array) => {
      const objective = (t: Params, f: Params, x: np.Array, m: np.Array) =>
        maskedNextTokenLoss(adapter.apply(t, f), cfg, x, m);
      const [loss, grads] = valueAndGrad(objective)(treeRef(trainable), frozen, tokens, mask);
      const gradNorm = globalNorm(treeRef(grads));
      const { updates, state: next } = optimizer.update(grads, state, trainable);
      return [applyUpdates(trainable, updates), next, loss, gradNorm] as [
        Params,
        OptState,
        np.Array,
        np.Array,
      ];
    },
  );

  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  const adapted = () => apply(treeRef(trainable), treeRef(frozen));
  const validate = async (step: number) => {
    const params = adapted();
    const r = await taskAccuracy(gen, params, tok, valSet);
    treeDispose(params);
    run.appendMetric({
      type: "eval",
      step,
      task: config.task,
      split: "validation",
      accuracy: r.accuracy,
      n: r.n,
      elapsed_s: elapsed(),
    });
    if (r.accuracy > bestVal) {
      bestVal = r.accuracy;
      bestStep = step;
      treeDispose(best);
      best = treeRef(trainable);
    }
    cb.onEval?.({ step, accuracy: r.accuracy, best: bestVal, bestStep });
  };
  const saveLatest = async (step: number) => {
    const tensors = await packTrees({ trainable, opt: state, best });
    run.saveCheckpoint("latest", tensors, {
      step: String(step),
      best_val: String(bestVal),
      best_step: String(bestStep),
      elapsed_s: String(elapsed()),
    });
  };

  cb.onStart?.({ startStep, steps: config.steps, trainable: countParams(trainable) });
  run.setStatus("running", startStep);
  try {
    if (startStep === 0) {
      await validate(0);
      await saveLatest(0);
    }
    for (let s = startStep + 1; s <= config.steps; s++) {
      await yieldToEventLoop(); // so a Ctrl-C can be seen (engine/yield.ts)
      if (opts.signal?.aborted) {
        run.setStatus("interrupted", s - 1, "stopped by the user; resume with --resume");
        return { status: "interrupted", bestStep, validation: bestVal, best };
      }
      const rng = createRng(hashSeed(`${config.seed}/step/${s}`));
      const batch: TaskExample[] = rng.shuffle(trainPool).slice(0, config.batchSize);
      if (config.objective === "sft") {
        const b = makeBatch(tok, batch, "answer");
        const [t, st, lossArr, normArr] = sftStep(
          trainable,
          state,
          treeRef(frozen),
          np.array(b.tokens, { dtype: np.int32 }).reshape([b.B, b.T]),
          np.array(b.mask).reshape([b.B, b.T - 1]),
        );
        trainable = t;
        state = st;
        const loss = (await lossArr.data())[0];
        const gradNorm = (await normArr.data())[0];
        run.appendMetric({
          type: "step",
          epoch: 0,
          step: s,
          loss,
          grad_norm: gradNorm,
          elapsed_s: elapsed(),
        });
        cb.onStep?.({ step: s, loss });
      } else {
        const k = config.samplesPerPrompt ?? 1;
        const group = batch.flatMap((e) => Array.from({ length: k }, () => e));
        const prompts = group.map((e) => promptIds(tok, e.question));
        const params = adapted();
        const rollout = await gen.generate(params, prompts, {
          maxNewTokens: G,
          temperature: config.temperature,
          eosId: tok.eosId,
          padId: tok.padId,
          seed: hashSeed(`${config.seed}/rollout/${s}`),
        });
        treeDispose(params);
        const raw = rollout.tokens.map((t, i) => (isCorrect(answerText(tok, t), group[i].answer) ? 1 : -1));
        const accuracy = raw.filter((r) => r > 0).length / raw.length;
        const rewards = config.rewardNorm
          ? Array.from({ length: raw.length / (k > 1 ? k : raw.length) }, (_, g) => {
              const size = k > 1 ? k : raw.length;
              return normalise(raw.slice(g * size, (g + 1) * size));
            }).flat()
          : raw;
        const rb = rolloutBatch(prompts, rollout.tokens, tok.padId, G);
        const tokens = np.array(rb.tokens, { dtype: np.int32 }).reshape([rb.B, rb.T]);
        const positions = np.array(rb.positions, { dtype: np.int32 }).reshape([rb.B, rb.T]);
        const keyValid = np.array(rb.valid).reshape([rb.B, rb.T]);
        const ref =
          config.klCoef > 0 ? refLogp(treeRef(base), tokens.ref, positions.ref, keyValid.ref) : np.zeros([1]);
        const [t, st, lossArr, klArr, normArr] = rlStep(
          trainable,
          state,
          treeRef(frozen),
          tokens,
          positions,
          keyValid,
          np.array(rb.mask).reshape([rb.B, rb.T - 1]),
          np.array(rewards),
          ref,
        );
        trainable = t;
        state = st;
        const loss = (await lossArr.data())[0];
        const kl = (await klArr.data())[0];
        const gradNorm = (await normArr.data())[0];
        const reward = rewards.reduce((a, b) => a + b, 0) / rewards.length;
        run.appendMetric({
          type: "rl_step",
          step: s,
          loss,
          reward_mean: reward,
          accuracy,
          ...(config.klCoef > 0 ? { kl } : {}),
          grad_norm: gradNorm,
          elapsed_s: elapsed(),
        });
        cb.onStep?.({ step: s, loss, reward, accuracy, kl });
      }
      if (s % config.evalEvery === 0 || s === config.steps) await validate(s);
      await saveLatest(s);
      run.setStatus("running", s);
    }
    const bestParams = apply(treeRef(best), treeRef(frozen));
    const testAcc = await taskAccuracy(gen, bestParams, tok, test);
    treeDispose(bestParams);
    run.appendMetric({
      type: "eval",
      step: bestStep,
      task: config.task,
      split: "test",
      accuracy: testAcc.accuracy,
      n: testAcc.n,
      elapsed_s: elapsed(),
    });
    const trainableCount = countParams(best);
    run.saveCheckpoint("expert", await toHost(treeRef(best)), {
      format: "tiller-adapter-v1",
      adapter: adapter.kind,
      task: config.task,
      objective: config.objective,
      best_step: String(bestStep),
      validation_accuracy: String(bestVal),
      test_accuracy: String(testAcc.accuracy),
      trainable_params: String(trainableCount),
      ...Object.fromEntries(Object.entries(adapter.describe).map(([k, v]) => [k, String(v)])),
    });
    run.writeJson("results.json", {
      task: config.task,
      adapter: adapter.kind,
      objective: config.objective,
      trainable_params: trainableCount,
      best_step: bestStep,
      validation_accuracy: bestVal,
      test_accuracy: testAcc.accuracy,
      elapsed_s: elapsed(),
    });
    run.setStatus("done", config.steps);
    return { status: "done", bestStep, validation: bestVal, test: testAcc.accuracy, best };
  } catch (e) {
    run.recordFailure(e, startStep);
    throw e;
  } finally {
    for (const f of [gen, apply, rlStep, refLogp, sftStep]) f.dispose();
    treeDispose(trainable);
    treeDispose(state);
  }
}

/** (r − mean) / max(std, 1e-7), the official rw_norm. */
export function normalise(rewards: number[]): number[] {
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.max(Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / rewards.length), 1e-7);
  return rewards.map((r) => (r - mean) / std);
}
