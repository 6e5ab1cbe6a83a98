/**
 * The training loop, read top to bottom like the algorithm box:
 *   for each epoch: visit the data in the epoch's seeded order, one jitted step per batch
 *   (loss → gradients → optimiser → new params), then evaluate, log, checkpoint.
 * Everything that matters for an exact resume (params, optimiser state, epoch) is in the checkpoint.
 */
import { jit, numpy as np } from "../engine/jax.js";
import { keyFromSeed, type Key } from "../engine/prng.js";
import {
  fillLike,
  fromHost,
  isLeaf,
  namedLeaves,
  toHost,
  treeDispose,
  treeRef,
  type HostTensors,
  type Params,
} from "../engine/tree.js";
import { batchCount, gatherBatch } from "../data/batches.js";
import type { Dataset } from "../data/dataset.js";
import { epochPermutation } from "../data/order.js";
import { createModel, type Model } from "../nn/models/index.js";
import {
  createOptimizer,
  gaussNewtonBartlett,
  hutchinson,
  rademacherLike,
  sampleLabels,
  treeBytes,
  type GradientTransformation,
  type OptState,
} from "../optim/index.js";
import type { EpochEvent, Run, SkipEvent, StepEvent } from "../runs/store.js";
import { DEFAULT_MAX_SKIPS, type TrainConfig } from "./config.js";
import {
  DivergedError,
  divergence,
  runSteps,
  scalars,
  stepFunction,
  type Clock,
  type StepOutput,
  type StepReport,
} from "./steps.js";
import { batchLossAndCorrect, evaluate } from "./evaluate.js";

/** `params` arguments are borrowed: valid during the call only (take `treeRef` to keep them). */
export type TrainCallbacks = {
  onStart?(info: { startEpoch: number; epochs: number; stepsPerEpoch: number; params: Params }): void;
  onStep?(event: StepEvent & { stepInEpoch: number }): void;
  /** After each step with the updated params, awaited (the dynamics recorder's per-step mode). */
  onStepParams?(params: Params, event: StepEvent): void | Promise<void>;
  onEpoch?(event: EpochEvent, params: Params): void | Promise<void>;
  /** A step left unapplied (`onDivergence: "skip"`); `onStep` is not called for it. */
  onSkip?(event: SkipEvent): void;
};

export type TrainResult = {
  status: "done" | "diverged" | "interrupted";
  params: Params;
  epochs: EpochEvent[];
  reason?: string;
};

/** Memory at a step: the optimiser state's exact bytes and the whole process's resident set. */
export type MemoryFields = { opt_state_bytes: number; rss_bytes: number };

export { DivergedError } from "./steps.js";

/** What one training step may be told: where it is, and the randomness of a curvature estimate. */
export type StepContext = {
  /** Updates applied before this one (0-based); decides the curvature steps. Default: the step's own count. */
  step?: number;
  /** Randomness for the curvature probe (consumed). Default: derived from the seed and `step`. */
  key?: Key;
  /** An explicit curvature probe (consumed): a Rademacher tree (Hutchinson) or sampled labels (GNB). */
  probe?: Params | np.Array;
};

export type TrainStep = {
  (params: Params, state: OptState, x: np.Array, y: np.Array, ctx?: StepContext): StepOutput;
  dispose(): void;
};

/**
 * One optimisation step: takes ownership of params, state and the batch. For an optimiser that
 * asks for curvature (Sophia), every k-th step also estimates the Hessian diagonal of the same
 * mean loss at the same params, inside the same jitted call, and hands it to the optimiser.
 */
export function makeTrainStep(
  model: Model,
  optimizer: GradientTransformation,
  opts: { seed?: number } = {},
): TrainStep {
  const objective = batchLossAndCorrect(model);
  const meanLoss = (params: Params, x: np.Array, y: np.Array): [np.Array, np.Array] => {
    const n = x.shape[0];
    const [loss, correct] = objective(params, x, y);
    return [loss.div(n), correct];
  };
  const update = stepFunction(meanLoss, optimizer);
  const plain = jit((params: Params, state: OptState, x: np.Array, y: np.Array) =>
    update(params, state, [x, y]),
  );
  const curvature = optimizer.curvature;
  if (!curvature)
    return Object.assign((p: Params, s: OptState, x: np.Array, y: np.Array) => plain(p, s, x, y), {
      dispose: () => plain.dispose(),
    });

  const lossOnly = (params: Params, x: np.Array, y: np.Array) => {
    const [loss, correct] = meanLoss(params, x, y);
    correct.dispose();
    return loss;
  };
  const withCurvature = jit(
    (params: Params, state: OptState, x: np.Array, y: np.Array, probe: Params | np.Array) => {
      const hessian =
        curvature.estimator === "hutchinson"
          ? hutchinson((p) => lossOnly(p, x.ref, y.ref), treeRef(params), probe as Params)
          : gaussNewtonBartlett((p) => model.apply(p, x.ref), treeRef(params), probe as np.Array);
      return update(params, state, [x, y], hessian);
    },
  );
  const sample =
    curvature.estimator === "gauss-newton-bartlett"
      ? jit((params: Params, x: np.Array, key: Key) => sampleLabels(key, model.apply(params, x)))
      : null;
  let next = 0;
  const step = (params: Params, state: OptState, x: np.Array, y: np.Array, ctx: StepContext = {}) => {
    const index = ctx.step ?? next;
    next = index + 1;
    if (index % curvature.every !== 0) {
      ctx.key?.dispose();
      if (ctx.probe) treeDispose(isLeaf(ctx.probe) ? { probe: ctx.probe } : ctx.probe);
      return plain(params, state, x, y);
    }
    let probe = ctx.probe;
    if (probe) ctx.key?.dispose();
    else {
      const key = ctx.key ?? keyFromSeed(curvatureSeed(opts.seed ?? 0, index));
      probe = sample ? sample(treeRef(params), x.ref, key) : rademacherLike(key, params);
    }
    return withCurvature(params, state, x, y, probe);
  };
  return Object.assign(step, {
    dispose() {
      plain.dispose();
      withCurvature.dispose();
      sample?.dispose();
    },
  });
}

/** A 32-bit seed for the curvature probe of step `index` (a finaliser hash: resumes draw the same probes). */
function curvatureSeed(seed: number, index: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ index) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Params and optimiser state as one checkpoint (names prefixed "params." and "opt."). Borrows both. */
async function checkpointTensors(params: Params, state: OptState): Promise<HostTensors> {
  const p = await toHost(treeRef(params));
  const s = await toHost(treeRef(state));
  return {
    ...Object.fromEntries(Object.entries(p).map(([k, v]) => [`params.${k}`, v])),
    ...Object.fromEntries(Object.entries(s).map(([k, v]) => [`opt.${k}`, v])),
  };
}

function splitCheckpoint(tensors: HostTensors): { params: HostTensors; opt: HostTensors } {
  const params: HostTensors = {};
  const opt: HostTensors = {};
  for (const [k, v] of Object.entries(tensors)) {
    if (k.startsWith("params.")) params[k.slice(7)] = v;
    else if (k.startsWith("opt.")) opt[k.slice(4)] = v;
  }
  return { params, opt };
}

/** Restores the latest verified epoch checkpoint, checking it fits the model and optimiser. */
function restore(run: Run, fresh: Params, freshState: OptState) {
  const epochs = run.epochCheckpoints();
  const last = epochs.at(-1);
  if (last === undefined) return null;
  const { tensors } = run.loadCheckpoint(`epoch-${last}`);
  const parts = splitCheckpoint(tensors);
  const where = `${run.path("checkpoints", `epoch-${last}.safetensors`)}`;
  const params = fillLike(fresh, parts.params, where);
  const state = fillLike(freshState, parts.opt, `${where} (optimiser state)`);
  return { epoch: last, params, state };
}

/**
 * The params of an epoch checkpoint (default: the last), checked against the model in the run's
 * config.json: a tensor missing, extra or of another shape, or NaN/Inf weights, are refused by name.
 */
export function loadParamsFromCheckpoint(run: Run, epoch?: number): Params {
  const e = epoch ?? run.epochCheckpoints().at(-1);
  if (e === undefined) throw new Error(`run ${run.id} has no checkpoint yet`);
  const where = run.path("checkpoints", `epoch-${e}.safetensors`);
  const { params } = splitCheckpoint(run.loadCheckpoint(`epoch-${e}`).tensors);
  const { model } = run.config<Partial<TrainConfig>>();
  if (!model) return fromHost(params, where);
  const template = createModel(model).init(keyFromSeed(0));
  try {
    return fillLike(template, params, where);
  } finally {
    treeDispose(template);
  }
}

export type TrainOptions = {
  resume?: boolean;
  callbacks?: TrainCallbacks;
  signal?: AbortSignal;
  /** Start from these params (consumed) instead of the seeded init, e.g. a loaded model; a resume still wins. */
  initialParams?: Params;
};

/**
 * Epochs of minibatch steps on the shared loop (steps.ts): each epoch visits the data in its
 * seeded order, then evaluates on the test split, logs, and checkpoints params + optimiser state.
 */
export async function train(
  config: TrainConfig,
  dataset: Dataset,
  run: Run,
  opts: TrainOptions = {},
): Promise<TrainResult> {
  const model = createModel(config.model);
  const optimizer = createOptimizer(config.optimizer);
  const ctx: EpochContext = {
    config,
    data: dataset.train,
    run,
    cb: opts.callbacks ?? {},
    params: opts.initialParams ?? model.init(keyFromSeed(config.seed)),
    state: {},
    history: [],
    skips: 0,
    sums: { order: new Uint32Array(0), lossSum: 0, correct: 0, seen: 0 },
    stepsPerEpoch: batchCount(dataset.train.n, config.batchSize),
  };
  ctx.state = optimizer.init(ctx.params);
  const step = makeTrainStep(model, optimizer, { seed: config.seed });
  const evalStep = jit(batchLossAndCorrect(model));
  const optStateBytes = treeBytes(ctx.state);
  const spe = ctx.stepsPerEpoch;
  const result = await runSteps(
    {
      steps: config.epochs * spe,
      progress: (s) => Math.floor(s / spe),
      restore: () => restoreEpoch(ctx),
      keepMetric: (m, s) => !("epoch" in m) || m.epoch <= s / spe,
      start: (done) =>
        ctx.cb.onStart?.({
          startEpoch: done / spe + 1,
          epochs: config.epochs,
          stepsPerEpoch: spe,
          params: ctx.params,
        }),
      step: (s, clock) => trainStep(ctx, step, s, clock, optStateBytes),
      async after(s, clock) {
        if (s % spe !== 0) return false;
        // In batches of the training batch, which is known to fit: a jitted forward pass holds all
        // its intermediates, and a ResNet's at 1000 images pass jax-js's 4 GiB wasm memory.
        const test = await evaluate(model, ctx.params, dataset.test, config.batchSize, evalStep);
        await endEpoch(ctx, s / spe, test, clock);
        return true;
      },
      diverged: async (s, r) =>
        `${divergence(r)} at epoch ${Math.ceil(s / spe)}, step ${s}; ${await offendingParams(ctx.params)}`,
      dispose() {
        step.dispose();
        evalStep.dispose();
        treeDispose(ctx.state);
      },
    },
    { run, resume: opts.resume, signal: opts.signal },
  );
  return {
    status: result.status,
    params: ctx.params,
    epochs: ctx.history.filter(Boolean),
    reason: result.reason,
  };
}

/** What train's step and epoch functions share: the params and state they replace, the epoch's sums. */
type EpochContext = {
  config: TrainConfig;
  data: Dataset["train"];
  run: Run;
  cb: TrainCallbacks;
  params: Params;
  state: OptState;
  history: EpochEvent[];
  skips: number;
  sums: { order: Uint32Array; lossSum: number; correct: number; seen: number };
  stepsPerEpoch: number;
};

/** Resume: the latest verified epoch checkpoint, with the epochs and skips logged up to it. */
function restoreEpoch(ctx: EpochContext): { step: number; elapsed: number } | null {
  const restored = restore(ctx.run, ctx.params, ctx.state);
  if (!restored) return null;
  treeDispose(ctx.params);
  treeDispose(ctx.state);
  ({ params: ctx.params, state: ctx.state } = restored);
  for (const m of ctx.run.metrics()) {
    if (m.type === "epoch" && m.epoch <= restored.epoch) ctx.history[m.epoch - 1] = m;
    if (m.type === "skip" && m.epoch <= restored.epoch) ctx.skips++;
  }
  return { step: restored.epoch * ctx.stepsPerEpoch, elapsed: ctx.history.at(-1)?.elapsed_s ?? 0 };
}

/** Global step `s` (1-based): the next batch of the epoch's order through one jitted step. */
async function trainStep(
  ctx: EpochContext,
  step: TrainStep,
  s: number,
  clock: Clock,
  optStateBytes: number,
): Promise<StepReport> {
  const { config, data, stepsPerEpoch } = ctx;
  const i = (s - 1) % stepsPerEpoch;
  const epoch = Math.floor((s - 1) / stepsPerEpoch) + 1;
  if (i === 0)
    ctx.sums = { order: epochPermutation(data.n, config.seed, epoch - 1), lossSum: 0, correct: 0, seen: 0 };
  const batch = gatherBatch(data, ctx.sums.order, i * config.batchSize, config.batchSize);
  const x = np.array(batch.x).reshape([batch.size, ...data.shape]);
  const y = np.array(batch.y, { dtype: np.int32 });
  // Skipping needs the params and state from before the step: the step gets references.
  const skipBad = config.onDivergence === "skip";
  const out = step(
    skipBad ? treeRef(ctx.params) : ctx.params,
    skipBad ? treeRef(ctx.state) : ctx.state,
    x,
    y,
    { step: s - 1 },
  );
  const [loss, batchCorrect, gradNorm] = await scalars(out[2], out[3], out[4]);
  if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
    if (skipBad) return skipStep(ctx, out, s, epoch, { loss, gradNorm }, clock);
    [ctx.params, ctx.state] = out; // the divergence message names the params after the step
    return { loss, gradNorm };
  }
  if (skipBad) {
    treeDispose(ctx.params);
    treeDispose(ctx.state);
  }
  [ctx.params, ctx.state] = out;
  ctx.sums.correct += batchCorrect;
  ctx.sums.seen += batch.size;
  ctx.sums.lossSum += loss * batch.size;
  const event: StepEvent & MemoryFields = {
    type: "step",
    epoch,
    step: s,
    loss,
    grad_norm: gradNorm,
    elapsed_s: clock.elapsed(),
    opt_state_bytes: optStateBytes,
    rss_bytes: process.memoryUsage.rss(),
  };
  ctx.cb.onStep?.({ ...event, stepInEpoch: i + 1 });
  await ctx.cb.onStepParams?.(ctx.params, event);
  const logged = (i + 1) % config.logEvery === 0 || i === stepsPerEpoch - 1;
  return { loss, gradNorm, metric: logged ? event : undefined };
}

/** Skip mode: the step's params and state go, the ones from before it stay; too many skips end the run. */
async function skipStep(
  ctx: EpochContext,
  out: StepOutput,
  s: number,
  epoch: number,
  r: { loss: number; gradNorm: number },
  clock: Clock,
): Promise<StepReport> {
  const where = `${divergence(r)} at epoch ${epoch}, step ${s}; ${await offendingParams(out[0])}`;
  treeDispose(out[0]);
  treeDispose(out[1]);
  const skips = ++ctx.skips;
  const skip: SkipEvent = {
    type: "skip",
    epoch,
    step: s,
    loss: Number.isFinite(r.loss) ? r.loss : null,
    grad_norm: Number.isFinite(r.gradNorm) ? r.gradNorm : null,
    reason: where,
    skips,
    elapsed_s: clock.elapsed(),
  };
  ctx.run.appendMetric(skip);
  ctx.cb.onSkip?.(skip);
  const maxSkips = ctx.config.maxSkips ?? DEFAULT_MAX_SKIPS;
  if (skips > maxSkips)
    throw new DivergedError(`${skips} steps skipped, more than the ${maxSkips} allowed; last: ${where}`);
  return { ...r, skipped: true };
}

/**
 * The epoch's line, the callbacks (the dynamics recorder's line), then the checkpoint: a crash
 * before the checkpoint is indexed redoes the epoch, and the resume drops its lines again; the
 * other order could lose them.
 */
async function endEpoch(
  ctx: EpochContext,
  epoch: number,
  test: { loss: number; accuracy: number },
  clock: Clock,
): Promise<void> {
  const { sums, run, config } = ctx;
  const event: EpochEvent = {
    type: "epoch",
    epoch,
    train_loss: sums.lossSum / sums.seen,
    train_accuracy: sums.correct / sums.seen,
    test_loss: test.loss,
    test_accuracy: test.accuracy,
    elapsed_s: clock.elapsed(),
  };
  run.appendMetric(event);
  ctx.history[epoch - 1] = event;
  await ctx.cb.onEpoch?.(event, ctx.params);
  run.saveCheckpoint(`epoch-${epoch}`, await checkpointTensors(ctx.params, ctx.state), {
    epoch: String(epoch),
    run: config.id,
    format: "tiller-checkpoint-v1",
  });
}

/**
 * For the divergence message: the params holding NaN/Inf after the step, or else the three
 * largest, each with its L2 norm (in float64, so a huge but finite tensor shows its size). Borrows params.
 */
async function offendingParams(params: Params): Promise<string> {
  const rows: { name: string; norm: number; finite: boolean }[] = [];
  for (const [name, x] of namedLeaves(params)) {
    const data = await x.ref.data();
    let sq = 0;
    for (const v of data) sq += Number(v) * Number(v);
    rows.push({ name, norm: Math.sqrt(sq), finite: data.every(Number.isFinite) });
  }
  const show = (r: (typeof rows)[number]) => `${r.name} (norm ${r.norm.toPrecision(3)})`;
  const bad = rows.filter((r) => !r.finite);
  if (bad.length) return `non-finite params after the step: ${bad.map(show).join(", ")}`;
  const largest = [...rows].sort((a, b) => b.norm - a.norm).slice(0, 3);
  return `all params finite after the step; largest: ${largest.map(show).join(", ")}`;
}
