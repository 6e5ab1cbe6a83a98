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
import { jit, numpy as np, type OwnedFunction } from "../engine/jax.js";
import { countParams, fillLike, toHost, treeDispose, treeRef, type Params } from "../engine/tree.js";
import { answerTokens, evalSplits, isCorrect, trainSplit, type TaskExample } from "../data/tasks/index.js";
import { createRng, hashSeed } from "../engine/rng.js";
import { adam, chain, clipByGlobalNorm, type GradientTransformation, type OptState } from "../optim/index.js";
import type { Run } from "../runs/store.js";
import type { Adapter } from "./adapter.js";
import { makeBatch } from "../lm/batch.js";
import { packTrees, unpackTree } from "../lm/checkpoint.js";
import { answerText, promptIds, taskAccuracy } from "../lm/evaluate.js";
import { createGenerator, leftPad } from "../lm/generate.js";
import { maskedNextTokenLoss, nextTokenLogProbs } from "../lm/loss.js";
import type { LmConfig } from "../lm/model.js";
import type { TextTokenizer } from "../lm/tokenizer.js";
import { jitStep, runSteps, scalars, type Clock, type StepReport } from "../train/steps.js";

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
  status: "done" | "interrupted" | "diverged";
  reason?: string;
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
  build: Adapter["build"],
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
    const params = build(trainable, frozen);
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

/** The trainable values, their optimiser state and the best so far: what a checkpoint holds. */
type FinetuneState = {
  trainable: Params;
  state: OptState;
  best: Params;
  bestVal: number;
  bestStep: number;
};

export async function finetune(
  run: Run,
  lm: { cfg: LmConfig; tokenizer: TextTokenizer },
  adapter: Adapter,
  config: FinetuneConfig,
  opts: { resume?: boolean; signal?: AbortSignal; callbacks?: FinetuneCallbacks } = {},
): Promise<FinetuneResult> {
  const { cfg, tokenizer: tok } = lm;
  const cb = opts.callbacks ?? {};
  const optimizer = chain(clipByGlobalNorm(config.maxGradNorm, { eps: 1e-6 }), adam({ lr: config.lr }));
  const st: FinetuneState = {
    trainable: adapter.trainable,
    state: optimizer.init(adapter.trainable),
    best: treeRef(adapter.trainable),
    bestVal: -1,
    bestStep: 0,
  };
  const frozen = adapter.frozen;
  const trainPool = trainSplit(config.task, config.trainExamples, config.seed);
  const valSet = evalSplits(config.task).validation.slice(0, config.evalExamples);
  const gen = createGenerator(cfg);
  const build = jit(adapter.build);
  const steps = adapterSteps(adapter, cfg, config, optimizer);
  const ctx: RolloutContext = { gen, tok, config, steps, build, frozen, st };
  let test: number | undefined;

  const validate = async (step: number, clock: Clock) => {
    const params = build(treeRef(st.trainable), treeRef(frozen));
    const r = await taskAccuracy(gen, params, tok, valSet);
    treeDispose(params);
    run.appendMetric({
      type: "eval",
      step,
      task: config.task,
      split: "validation",
      accuracy: r.accuracy,
      n: r.n,
      elapsed_s: clock.elapsed(),
    });
    if (r.accuracy > st.bestVal) {
      st.bestVal = r.accuracy;
      st.bestStep = step;
      treeDispose(st.best);
      st.best = treeRef(st.trainable);
    }
    cb.onEval?.({ step, accuracy: r.accuracy, best: st.bestVal, bestStep: st.bestStep });
  };
  const saveLatest = async (step: number, clock: Clock) => {
    const tensors = await packTrees({ trainable: st.trainable, opt: st.state, best: st.best });
    run.saveCheckpoint("latest", tensors, {
      step: String(step),
      best_val: String(st.bestVal),
      best_step: String(st.bestStep),
      elapsed_s: String(clock.elapsed()),
    });
  };

  const result = await runSteps(
    {
      steps: config.steps,
      restore: () => restoreLatest(run, st),
      // The test line is written after the last step: a crash before "done" redoes it.
      keepMetric: (m, s) => "step" in m && m.step <= s && !(m.type === "eval" && m.split === "test"),
      start: (done) =>
        cb.onStart?.({ startStep: done, steps: config.steps, trainable: countParams(st.trainable) }),
      async step(s, clock) {
        if (s === 1 && st.bestVal < 0) {
          await validate(0, clock); // the starting point is the first "best"
          await saveLatest(0, clock);
        }
        const rng = createRng(hashSeed(`${config.seed}/step/${s}`));
        const batch: TaskExample[] = rng.shuffle(trainPool).slice(0, config.batchSize);
        const r =
          config.objective === "sft"
            ? await sftStep(ctx, batch, s, clock)
            : await rlStep(ctx, batch, s, clock);
        cb.onStep?.(r.progress);
        return r.report;
      },
      async after(s, clock) {
        if (s % config.evalEvery === 0 || s === config.steps) await validate(s, clock);
        await saveLatest(s, clock);
        return true;
      },
      async finish(clock) {
        test = await finishAdapter(run, ctx, adapter, clock);
      },
      dispose() {
        for (const f of [gen, build]) f.dispose();
        steps.dispose();
        treeDispose(st.trainable);
        treeDispose(st.state);
      },
    },
    { run, resume: opts.resume, signal: opts.signal },
  );
  return {
    status: result.status,
    bestStep: st.bestStep,
    validation: st.bestVal,
    test,
    best: st.best,
    reason: result.reason,
  };
}

/** Resume: the "latest" checkpoint's trainable values, optimiser state and best so far. */
function restoreLatest(run: Run, st: FinetuneState): { step: number; elapsed: number } | null {
  if (!("latest.safetensors" in run.checkpointIndex())) return null;
  const { tensors, metadata } = run.loadCheckpoint("latest");
  const where = run.path("checkpoints", "latest.safetensors");
  const restored = fillLike(st.trainable, unpackTree(tensors, "trainable"), where);
  const restoredState = fillLike(st.state, unpackTree(tensors, "opt"), `${where} (optimiser state)`);
  const restoredBest = fillLike(st.trainable, unpackTree(tensors, "best"), `${where} (best)`);
  treeDispose(st.trainable);
  treeDispose(st.state);
  treeDispose(st.best);
  st.trainable = restored;
  st.state = restoredState;
  st.best = restoredBest;
  st.bestVal = Number(metadata.best_val);
  st.bestStep = Number(metadata.best_step);
  return { step: Number(metadata.step), elapsed: Number(metadata.elapsed_s ?? 0) };
}

/** The compiled steps of both objectives and the base model's reference log-probabilities (for KL). */
function adapterSteps(
  adapter: Adapter,
  cfg: LmConfig,
  config: FinetuneConfig,
  optimizer: GradientTransformation,
) {
  const rl = jitStep(reinforceLoss(adapter.build, cfg, config.klCoef, config.klDirection), optimizer);
  const sft = jitStep(
    (t: Params, f: Params, x: np.Array, m: np.Array): [np.Array, np.Array] => [
      maskedNextTokenLoss(adapter.build(t, f), cfg, x, m),
      np.zeros([]),
    ],
    optimizer,
  );
  const refLogp = jit((base: Params, tokens: np.Array, positions: np.Array, keyValid: np.Array) => {
    const { chosen, logp } = nextTokenLogProbs(base, cfg, tokens, { positions, keyValid });
    chosen.dispose();
    return logp;
  });
  return { rl, sft, refLogp, dispose: () => [rl, sft, refLogp].forEach((f) => f.dispose()) };
}

type RolloutContext = {
  gen: ReturnType<typeof createGenerator>;
  tok: TextTokenizer;
  config: FinetuneConfig;
  steps: ReturnType<typeof adapterSteps>;
  build: OwnedFunction<Adapter["build"]>;
  frozen: Params;
  st: FinetuneState;
};

type AdapterStep = { report: StepReport; progress: Parameters<NonNullable<FinetuneCallbacks["onStep"]>>[0] };

/** Supervised: mean −log π(answer | question) by teacher forcing. */
async function sftStep(
  c: RolloutContext,
  batch: TaskExample[],
  s: number,
  clock: Clock,
): Promise<AdapterStep> {
  const b = makeBatch(c.tok, batch, "answer");
  const tokens = np.array(b.tokens, { dtype: np.int32 }).reshape([b.B, b.T]);
  const mask = np.array(b.mask).reshape([b.B, b.T - 1]);
  const [t, st, lossArr, aux, normArr] = c.steps.sft(
    c.st.trainable,
    c.st.state,
    treeRef(c.frozen),
    tokens,
    mask,
  );
  [c.st.trainable, c.st.state] = [t, st];
  aux.dispose();
  const [loss, gradNorm] = await scalars(lossArr, normArr);
  const metric = {
    type: "step" as const,
    epoch: 0,
    step: s,
    loss,
    grad_norm: gradNorm,
    elapsed_s: clock.elapsed(),
  };
  return { report: { loss, gradNorm, metric }, progress: { step: s, loss } };
}

/** REINFORCE: rollouts of the adapted model, ±1 rewards by exact match, the policy-gradient step. */
async function rlStep(
  c: RolloutContext,
  batch: TaskExample[],
  s: number,
  clock: Clock,
): Promise<AdapterStep> {
  const { config, tok } = c;
  const k = config.samplesPerPrompt ?? 1;
  const group = batch.flatMap((e) => Array.from({ length: k }, () => e));
  const prompts = group.map((e) => promptIds(tok, e.question));
  const G = answerTokens([config.task]);
  const params = c.build(treeRef(c.st.trainable), treeRef(c.frozen));
  const rollout = await c.gen.generate(params, prompts, {
    maxNewTokens: G,
    temperature: config.temperature,
    eosId: tok.eosId,
    padId: tok.padId,
    seed: hashSeed(`${config.seed}/rollout/${s}`),
  });
  treeDispose(params);
  const raw = rollout.tokens.map((t, i) => (isCorrect(answerText(tok, t), group[i].answer) ? 1 : -1));
  const accuracy = raw.filter((r) => r > 0).length / raw.length;
  const size = k > 1 ? k : raw.length;
  const rewards = config.rewardNorm
    ? Array.from({ length: raw.length / size }, (_, g) =>
        normalise(raw.slice(g * size, (g + 1) * size)),
      ).flat()
    : raw;
  const rb = rolloutBatch(prompts, rollout.tokens, tok.padId, G);
  const tokens = np.array(rb.tokens, { dtype: np.int32 }).reshape([rb.B, rb.T]);
  const positions = np.array(rb.positions, { dtype: np.int32 }).reshape([rb.B, rb.T]);
  const keyValid = np.array(rb.valid).reshape([rb.B, rb.T]);
  const base = c.frozen.base as Params;
  const ref =
    config.klCoef > 0
      ? c.steps.refLogp(treeRef(base), tokens.ref, positions.ref, keyValid.ref)
      : np.zeros([1]);
  const mask = np.array(rb.mask).reshape([rb.B, rb.T - 1]);
  const out = c.steps.rl(
    c.st.trainable,
    c.st.state,
    treeRef(c.frozen),
    tokens,
    positions,
    keyValid,
    mask,
    np.array(rewards),
    ref,
  );
  [c.st.trainable, c.st.state] = [out[0], out[1]];
  const [loss, kl, gradNorm] = await scalars(out[2], out[3], out[4]);
  const reward = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const metric = {
    type: "rl_step" as const,
    step: s,
    loss,
    reward_mean: reward,
    accuracy,
    ...(config.klCoef > 0 ? { kl } : {}),
    grad_norm: gradNorm,
    elapsed_s: clock.elapsed(),
  };
  return { report: { loss, gradNorm, metric }, progress: { step: s, loss, reward, accuracy, kl } };
}

/** Test accuracy of the best values, the expert file and results.json; returns the test accuracy. */
async function finishAdapter(run: Run, c: RolloutContext, adapter: Adapter, clock: Clock): Promise<number> {
  const { config, st } = c;
  const testSplit = evalSplits(config.task).test;
  const test = testSplit.slice(0, config.testExamples ?? testSplit.length);
  const bestParams = c.build(treeRef(st.best), treeRef(c.frozen));
  const testAcc = await taskAccuracy(c.gen, bestParams, c.tok, test);
  treeDispose(bestParams);
  run.appendMetric({
    type: "eval",
    step: st.bestStep,
    task: config.task,
    split: "test",
    accuracy: testAcc.accuracy,
    n: testAcc.n,
    elapsed_s: clock.elapsed(),
  });
  const trainableCount = countParams(st.best);
  run.saveCheckpoint("expert", await toHost(treeRef(st.best)), {
    format: "tiller-adapter-v1",
    adapter: adapter.kind,
    task: config.task,
    objective: config.objective,
    best_step: String(st.bestStep),
    validation_accuracy: String(st.bestVal),
    test_accuracy: String(testAcc.accuracy),
    trainable_params: String(trainableCount),
    ...Object.fromEntries(Object.entries(adapter.describe).map(([k, v]) => [k, String(v)])),
  });
  run.writeJson("results.json", {
    task: config.task,
    adapter: adapter.kind,
    objective: config.objective,
    trainable_params: trainableCount,
    best_step: st.bestStep,
    validation_accuracy: st.bestVal,
    test_accuracy: testAcc.accuracy,
    elapsed_s: clock.elapsed(),
  });
  return testAcc.accuracy;
}

/** (r − mean) / max(std, 1e-7), the official rw_norm. */
export function normalise(rewards: number[]): number[] {
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const std = Math.max(Math.sqrt(rewards.reduce((a, r) => a + (r - mean) ** 2, 0) / rewards.length), 1e-7);
  return rewards.map((r) => (r - mean) / std);
}
