/**
 * Pretraining the built-in LM on the task mixture, read top to bottom:
 *   for step = 1..steps: next batch of the seeded example stream → masked next-token loss →
 *   AdamW → every evalEvery steps greedy validation accuracy per task → every checkpointEvery
 *   steps a checkpoint (params + optimiser state + step); at the end the model and test accuracy.
 * The example stream is a pure function of the seed, so a resumed run skips what it has seen and
 * continues exactly.
 */
import { defaultDevice, jit, numpy as np, valueAndGrad } from "../engine/jax.js";
import { keyFromSeed } from "../engine/prng.js";
import { fillLike, globalNorm, treeDispose, treeMap, treeRef, type Params } from "../engine/tree.js";
import { evalSplits, parseTaskMixture, trainStream, type TaskExample } from "../data/tasks/index.js";
import { adamw, applyUpdates, type OptState } from "../optim/index.js";
import { UsageError } from "../errors.js";
import { defaultRunsRoot, newRunId, Run } from "../runs/store.js";
import type { LmPretrainRequest } from "../requests/lm.js";
import { LENGTH_BUCKET, makeBatch, type LossOn } from "./batch.js";
import { taskAccuracy } from "./evaluate.js";
import { createGenerator } from "./generate.js";
import { maskedNextTokenLoss, maskedNextTokenLossSum } from "./loss.js";
import { lmInit, lmParamCount, type LmConfig } from "./model.js";
import { presetConfig, taskTokenizer, type LmSize } from "./presets.js";
import { saveLm } from "./store.js";
import { packTrees, unpackTree } from "./checkpoint.js";
import { runSteps, scalars, type Clock } from "../train/steps.js";

/** The one sequence length of the larger LM's batches on the host backends (see pretrain()). */
const HOST_LENGTH = 192;

export type PretrainConfig = {
  tasks: string[];
  /** Mixture weights, one per task (absent: uniform). */
  taskWeights?: number[];
  size: LmSize;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  seed: number;
  lossOn: LossOn;
  evalEvery: number;
  /** Validation examples per task at each evaluation (the test split is scored in full at the end). */
  evalExamples: number;
  checkpointEvery: number;
  /** Test questions per task scored at the end (default: the whole split). */
  testExamples?: number;
};

export const PRETRAIN_DEFAULTS: Omit<PretrainConfig, "tasks" | "size"> = {
  steps: 1500,
  batchSize: 64,
  lr: 3e-3,
  weightDecay: 0.01,
  seed: 0,
  lossOn: "all",
  evalEvery: 250,
  evalExamples: 64,
  checkpointEvery: 250,
};

/** The run's config.json for a pretraining request. */
export function pretrainRunConfig(config: PretrainConfig) {
  const tok = taskTokenizer();
  const lm = presetConfig(config.size);
  return {
    kind: "lm-pretrain",
    createdAt: new Date().toISOString(),
    lm,
    paramCount: lmParamCount(lm),
    tokenizer: tok.toJSON(),
    pretrain: config,
  };
}

export type PretrainCallbacks = {
  onStart?(info: { startStep: number; steps: number; paramCount: number }): void;
  onStep?(info: { step: number; loss: number }): void;
  onEval?(info: { step: number; accuracy: Record<string, number> }): void;
};

export type PretrainResult = {
  status: "done" | "interrupted" | "diverged";
  test?: Record<string, number>;
  reason?: string;
};

function checkpointName(step: number) {
  return `step-${step}`;
}

/** The steps of a run's step checkpoints that the index vouches for, in order. */
function stepCheckpoints(run: Run): number[] {
  return Object.keys(run.checkpointIndex())
    .map((f) => /^step-(\d+)\.safetensors$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

function latestStep(run: Run): number | null {
  return stepCheckpoints(run).at(-1) ?? null;
}

/** What a pretraining run was asked for (its config.json), or a usage error for any other run. */
/**
 * The run a validated `lm pretrain` request (`requests/lm.ts`) trains: a new one, or the run named
 * by `resume` with the config it was created with.
 */
export function openPretrainRun(r: LmPretrainRequest): { run: Run; config: PretrainConfig } {
  if (r.resume) {
    const run = Run.openForWriting(r.resume, r.runs);
    return { run, config: pretrainConfigOf(run) };
  }
  const { tasks, weights } = parseTaskMixture(r.task);
  const config: PretrainConfig = {
    tasks,
    ...(weights ? { taskWeights: weights } : {}),
    size: r.size,
    steps: r.steps,
    batchSize: r.batchSize,
    lr: r.lr,
    weightDecay: r.weightDecay,
    seed: r.seed,
    lossOn: r.lossOn,
    evalEvery: r.evalEvery,
    evalExamples: r.evalExamples,
    checkpointEvery: r.checkpointEvery,
  };
  const run = Run.create(
    r.runs ?? defaultRunsRoot(),
    r.name ?? newRunId(["lm", r.size]),
    pretrainRunConfig(config),
  );
  return { run, config };
}

export function pretrainConfigOf(run: Run): PretrainConfig {
  const c = run.config<{ kind?: string; pretrain?: PretrainConfig }>();
  if (c.kind !== "lm-pretrain" || !c.pretrain)
    throw new UsageError(`run ${run.dir} is not an LM pretraining run`);
  return c.pretrain;
}

/**
 * A new pretraining run that ends at step `step` of `source`, one of its step checkpoints: the
 * learning rate is constant and the example stream a function of the seed, so it is the run that
 * `--steps <step>` would have made — a way to take an earlier model as the base for adaptation
 * without training again. `pretrain(run, config, { resume: true })` then only saves and scores it.
 */
export function forkPretrainRun(
  source: Run,
  step: number,
  root: string,
  id: string,
): { run: Run; config: PretrainConfig } {
  const pretrainConfig = pretrainConfigOf(source);
  const name = checkpointName(step);
  const steps = stepCheckpoints(source);
  if (!steps.includes(step))
    throw new UsageError(
      `run ${source.dir} has no checkpoint at step ${step}; it has steps ${steps.join(", ") || "(none)"}`,
    );
  const { tensors, metadata } = source.loadCheckpoint(name);
  const config: PretrainConfig = { ...pretrainConfig, steps: step };
  const run = Run.create(root, id, { ...pretrainRunConfig(config), forkedFrom: { run: source.dir, step } });
  // The training curve up to the fork, so the new run's plots and reports start where it began.
  for (const m of source.metrics())
    if (m.type === "step" ? m.step <= step : m.type === "eval" && m.split === "validation" && m.step < step)
      run.appendMetric(m);
  run.saveCheckpoint(name, tensors, metadata);
  run.setStatus(
    "interrupted",
    step,
    `forked from ${source.dir} at step ${step}; resume to save and score it`,
  );
  return { run, config };
}

/**
 * Sequences per forward/backward pass on the host backends. jax-js's wasm backend keeps every
 * buffer in one 4 GiB memory, and a whole-batch step of the small LM on mixtures with the long
 * `dispatch` prompts (64 × 160 tokens) needs more than that ("Allocation exceeds the 4 GiB memory32
 * limit"). Activation memory grows as B·T²·hidden·layers (attention), so batches beyond a budget
 * are split into equal micro-batches whose gradients are summed. The budget lets the tiny LM's
 * whole 64 × 176 batches through (its steps have always run whole) and gives the small LM 8
 * sequences of 192 tokens per pass (~1.5 GB). WebGPU has no such limit: there, and whenever the
 * batch fits, the step is one jitted call.
 */
export function microBatchSize(cfg: LmConfig, B: number, T: number, device: string): number {
  if (device === "webgpu") return B;
  const budget = 2.6e8;
  const cost = (m: number) => m * T * T * cfg.hiddenSize * cfg.numLayers;
  let m = B;
  while (m > 1 && cost(m) > budget) m = Math.ceil(m / 2);
  return m;
}

/** `microBatch` overrides microBatchSize (tests compare the two paths). */
export function makePretrainStep(
  cfg: LmConfig,
  optimizer: ReturnType<typeof adamw>,
  opts: { microBatch?: number } = {},
) {
  const objective = (params: Params, tokens: np.Array, mask: np.Array) =>
    maskedNextTokenLoss(params, cfg, tokens, mask);
  const whole = jit((params: Params, state: OptState, tokens: np.Array, mask: np.Array) => {
    const [loss, grads] = valueAndGrad(objective)(treeRef(params), tokens, mask);
    const gradNorm = globalNorm(treeRef(grads));
    const { updates, state: next } = optimizer.update(grads, state, params);
    return [applyUpdates(params, updates), next, loss, gradNorm] as [Params, OptState, np.Array, np.Array];
  });
  // Micro-batched: the sum (not the mean) of −log π over each micro-batch and its gradient; the
  // sums over micro-batches divided by the whole batch's token count are the whole-batch loss and
  // gradient.
  const partial = jit((params: Params, tokens: np.Array, mask: np.Array) =>
    valueAndGrad((p: Params, t: np.Array, m: np.Array) => maskedNextTokenLossSum(p, cfg, t, m))(
      params,
      tokens,
      mask,
    ),
  );
  const update = jit(
    (params: Params, state: OptState, lossSum: np.Array, gradSum: Params, count: np.Array) => {
      const grads = treeMap((g) => g.div(count.ref), gradSum);
      const loss = lossSum.div(count);
      const gradNorm = globalNorm(treeRef(grads));
      const { updates, state: next } = optimizer.update(grads, state, params);
      return [applyUpdates(params, updates), next, loss, gradNorm] as [Params, OptState, np.Array, np.Array];
    },
  );
  const step = (
    params: Params,
    state: OptState,
    tokens: np.Array,
    mask: np.Array,
  ): [Params, OptState, np.Array, np.Array] => {
    const [B, T] = tokens.shape;
    const m = opts.microBatch ?? microBatchSize(cfg, B, T, defaultDevice());
    if (m >= B) return whole(params, state, tokens, mask);
    let lossSum: np.Array | null = null;
    let gradSum: Params | null = null;
    for (let i = 0; i < B; i += m) {
      const end = Math.min(B, i + m);
      const [l, g] = partial(treeRef(params), tokens.ref.slice([i, end]), mask.ref.slice([i, end]));
      lossSum = lossSum ? lossSum.add(l) : l;
      gradSum = gradSum ? treeMap((a, b) => a.add(b), gradSum, g) : g;
    }
    tokens.dispose();
    return update(params, state, lossSum!, gradSum!, mask.sum());
  };
  return Object.assign(step, {
    dispose() {
      whole.dispose();
      partial.dispose();
      update.dispose();
    },
  });
}

export async function pretrain(
  run: Run,
  config: PretrainConfig,
  opts: { resume?: boolean; signal?: AbortSignal; callbacks?: PretrainCallbacks } = {},
): Promise<PretrainResult> {
  const cb = opts.callbacks ?? {};
  const cfg = presetConfig(config.size);
  const tok = taskTokenizer();
  const optimizer = adamw({ lr: config.lr, weightDecay: config.weightDecay });
  let params = lmInit(keyFromSeed(config.seed), cfg);
  let state = optimizer.init(params);
  const stream = trainStream(config.tasks, config.seed, config.taskWeights);
  const nextBatch = (): TaskExample[] =>
    Array.from({ length: config.batchSize }, () => stream.next().value as TaskExample);
  const step = makePretrainStep(cfg, optimizer);
  const gen = createGenerator(cfg);
  const { lengthBucket, minLength } = batchLengths(config);
  let test: Record<string, number> | undefined;

  const evaluate = async (stepNo: number, split: "validation" | "test", limit: number, clock: Clock) => {
    const accuracy: Record<string, number> = {};
    for (const task of config.tasks) {
      const examples = evalSplits(task)[split].slice(0, limit);
      const r = await taskAccuracy(gen, params, tok, examples);
      accuracy[task] = r.accuracy;
      const { n } = r;
      run.appendMetric({
        type: "eval",
        step: stepNo,
        task,
        split,
        accuracy: r.accuracy,
        n,
        elapsed_s: clock.elapsed(),
      });
    }
    return accuracy;
  };

  const result = await runSteps(
    {
      steps: config.steps,
      restore() {
        const last = latestStep(run);
        if (last === null) return null;
        const { tensors, metadata } = run.loadCheckpoint(checkpointName(last));
        const where = run.path("checkpoints", `${checkpointName(last)}.safetensors`);
        const restored = fillLike(params, unpackTree(tensors, "params"), where);
        const restoredState = fillLike(state, unpackTree(tensors, "opt"), `${where} (optimiser state)`);
        treeDispose(params);
        treeDispose(state);
        params = restored;
        state = restoredState;
        return { step: last, elapsed: Number(metadata.elapsed_s ?? 0) };
      },
      // Lines after the checkpoint go, and the final evaluations (a crash during them redoes them).
      keepMetric: (m, s) => "step" in m && m.step <= s && !(m.type === "eval" && m.step === config.steps),
      start(done) {
        for (let i = 0; i < done * config.batchSize; i++) stream.next(); // the examples already seen
        cb.onStart?.({ startStep: done, steps: config.steps, paramCount: lmParamCount(cfg) });
      },
      async step(s, clock) {
        const batch = makeBatch(tok, nextBatch(), config.lossOn, lengthBucket, minLength);
        const tokens = np.array(batch.tokens, { dtype: np.int32 }).reshape([batch.B, batch.T]);
        const mask = np.array(batch.mask).reshape([batch.B, batch.T - 1]);
        let lossArr: np.Array;
        let normArr: np.Array;
        [params, state, lossArr, normArr] = step(params, state, tokens, mask);
        const [loss, gradNorm] = await scalars(lossArr, normArr);
        cb.onStep?.({ step: s, loss });
        const logged = s % 10 === 0 || s === config.steps;
        const elapsed_s = clock.elapsed();
        return {
          loss,
          gradNorm,
          metric: logged
            ? { type: "step", epoch: 0, step: s, loss, grad_norm: gradNorm, elapsed_s }
            : undefined,
        };
      },
      async after(s, clock) {
        if (s % config.evalEvery === 0 && s !== config.steps)
          cb.onEval?.({ step: s, accuracy: await evaluate(s, "validation", config.evalExamples, clock) });
        if (s % config.checkpointEvery !== 0 && s !== config.steps) return false;
        run.saveCheckpoint(checkpointName(s), await packTrees({ params, opt: state }), {
          step: String(s),
          elapsed_s: String(clock.elapsed()),
        });
        return true;
      },
      async finish(clock) {
        // The model is saved before the final evaluation, so an evaluation that fails loses nothing.
        await saveLm(run, params, { steps: String(config.steps) });
        const validation = await finalEvaluation(run, async () => {
          const v = await evaluate(config.steps, "validation", config.evalExamples, clock);
          cb.onEval?.({ step: config.steps, accuracy: v });
          test = await evaluate(config.steps, "test", config.testExamples ?? Infinity, clock);
          return v;
        });
        const results = { validation, test, elapsed_s: clock.elapsed(), paramCount: lmParamCount(cfg) };
        run.writeJson("results.json", results);
      },
      dispose() {
        step.dispose();
        gen.dispose();
        treeDispose(params);
        treeDispose(state);
      },
    },
    { run, resume: opts.resume, signal: opts.signal },
  );
  return { status: result.status, test, reason: result.reason };
}

/**
 * jax-js's wasm allocator reuses a freed buffer only for a request of the same size class (64 kB
 * pages above 64 kB, no coalescing: src/engine/NOTES.md), so every new sequence length adds a
 * step's worth of memory for good, and the small LM ran out of the 4 GiB after two lengths.
 * On the host backends the larger LM's batches are therefore padded to one length, 192 tokens
 * (longer than any built-in task example; padding is masked out, so the loss is the same). The
 * tiny LM's steps fit many times over and WebGPU has no such limit: both keep the 16-token buckets.
 */
function batchLengths(config: PretrainConfig): { lengthBucket: number; minLength: number } {
  const fixedLength = defaultDevice() !== "webgpu" && config.size !== "tiny";
  return {
    lengthBucket: fixedLength ? HOST_LENGTH : LENGTH_BUCKET,
    minLength: fixedLength ? HOST_LENGTH : 0,
  };
}

/**
 * The final evaluation, with the way out of jax-js's wasm allocator, which never merges freed
 * buffers of different sizes (src/engine/NOTES.md): after thousands of training steps of the larger
 * LM, generation's new shapes can find the 4 GiB full. A fresh process has only generation's shapes
 * and finishes the evaluation.
 */
async function finalEvaluation<T>(run: Run, evaluate: () => Promise<T>): Promise<T> {
  try {
    return await evaluate();
  } catch (e) {
    if (e instanceof RangeError && /4 GiB/.test(e.message))
      throw new Error(
        `${e.message} during the final evaluation; the trained model is saved — run \`tiller lm pretrain --resume ${run.dir}\` to evaluate it in a fresh process (or use --device webgpu)`,
      );
    throw e;
  }
}
