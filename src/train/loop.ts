/**
 * The training loop, read top to bottom like the algorithm box:
 *   for each epoch: visit the data in the epoch's seeded order, one jitted step per batch
 *   (loss → gradients → optimiser → new params), then evaluate, log, checkpoint.
 * Everything that matters for an exact resume (params, optimiser state, epoch) is in the checkpoint.
 */
import { jit, numpy as np, valueAndGrad } from "../engine/jax.js";
import { yieldToEventLoop } from "../engine/yield.js";
import { keyFromSeed, type Key } from "../engine/prng.js";
import {
  fillLike,
  fromHost,
  globalNorm,
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
  applyUpdates,
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

export class DivergedError extends Error {
  override name = "DivergedError";
}

/** What one training step may be told: where it is, and the randomness of a curvature estimate. */
export type StepContext = {
  /** Updates applied before this one (0-based); decides the curvature steps. Default: the step's own count. */
  step?: number;
  /** Randomness for the curvature probe (consumed). Default: derived from the seed and `step`. */
  key?: Key;
  /** An explicit curvature probe (consumed): a Rademacher tree (Hutchinson) or sampled labels (GNB). */
  probe?: Params | np.Array;
};

export type StepOutput = [
  params: Params,
  state: OptState,
  loss: np.Array,
  correct: np.Array,
  gradNorm: np.Array,
];

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
  const update = (
    params: Params,
    state: OptState,
    x: np.Array,
    y: np.Array,
    hessian?: Params,
  ): StepOutput => {
    const [[loss, correct], grads] = valueAndGrad(meanLoss, { hasAux: true })(treeRef(params), x, y);
    const gradNorm = globalNorm(treeRef(grads));
    const { updates, state: next } = optimizer.update(
      grads,
      state,
      params,
      hessian ? { hessian } : undefined,
    );
    return [applyUpdates(params, updates), next, loss, correct, gradNorm];
  };
  const plain = jit((params: Params, state: OptState, x: np.Array, y: np.Array) =>
    update(params, state, x, y),
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
      return update(params, state, x, y, hessian);
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
  if (!model) {
    for (const [name, t] of Object.entries(params))
      if (!t.data.every(Number.isFinite)) throw new Error(`${where}: "${name}" contains NaN or Inf`);
    return fromHost(params);
  }
  const template = createModel(model).init(keyFromSeed(0));
  try {
    return fillLike(template, params, where);
  } finally {
    treeDispose(template);
  }
}

export async function train(
  config: TrainConfig,
  dataset: Dataset,
  run: Run,
  opts: {
    resume?: boolean;
    callbacks?: TrainCallbacks;
    signal?: AbortSignal;
    /** Start from these params (consumed) instead of the seeded init, e.g. a loaded model; a resume still wins. */
    initialParams?: Params;
  } = {},
): Promise<TrainResult> {
  const cb = opts.callbacks ?? {};
  const model = createModel(config.model);
  const optimizer = createOptimizer(config.optimizer);
  let params = opts.initialParams ?? model.init(keyFromSeed(config.seed));
  let state = optimizer.init(params);
  let startEpoch = 1;
  let elapsedBefore = 0;
  const history: EpochEvent[] = [];
  const skipBad = config.onDivergence === "skip";
  const maxSkips = config.maxSkips ?? DEFAULT_MAX_SKIPS;
  let skips = 0;
  if (opts.resume) {
    run.repairMetrics();
    const restored = restore(run, params, state);
    run.keepMetricsUpTo(restored?.epoch ?? 0);
    if (restored) {
      treeDispose(params);
      treeDispose(state);
      ({ params, state } = restored);
      startEpoch = restored.epoch + 1;
      for (const m of run.metrics()) {
        if (m.type === "epoch" && m.epoch <= restored.epoch) history[m.epoch - 1] = m;
        if (m.type === "skip" && m.epoch <= restored.epoch) skips++;
      }
      elapsedBefore = history.at(-1)?.elapsed_s ?? 0;
    }
  }

  const { train: trainSplit, test: testSplit } = dataset;
  const stepsPerEpoch = batchCount(trainSplit.n, config.batchSize);
  cb.onStart?.({ startEpoch, epochs: config.epochs, stepsPerEpoch, params });
  const step = makeTrainStep(model, optimizer, { seed: config.seed });
  const optStateBytes = treeBytes(state);
  const evalStep = jit(batchLossAndCorrect(model));
  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  run.setStatus("running", startEpoch - 1);

  try {
    for (let epoch = startEpoch; epoch <= config.epochs; epoch++) {
      const order = epochPermutation(trainSplit.n, config.seed, epoch - 1);
      let lossSum = 0;
      let correct = 0;
      let seen = 0; // samples of the applied steps (all of them unless steps were skipped)
      for (let i = 0; i < stepsPerEpoch; i++) {
        await yieldToEventLoop(); // so a Ctrl-C can be seen (engine/yield.ts)
        if (opts.signal?.aborted) {
          run.setStatus("interrupted", epoch - 1, "stopped by the user; resume with --resume");
          return { status: "interrupted", params, epochs: history.filter(Boolean) };
        }
        const batch = gatherBatch(trainSplit, order, i * config.batchSize, config.batchSize);
        const x = np.array(batch.x).reshape([batch.size, ...trainSplit.shape]);
        const y = np.array(batch.y, { dtype: np.int32 });
        const globalStep = (epoch - 1) * stepsPerEpoch + i + 1;
        // Skipping needs the params and state from before the step: the step gets references.
        const [nextParams, nextState, lossArr, correctArr, gradNormArr] = step(
          skipBad ? treeRef(params) : params,
          skipBad ? treeRef(state) : state,
          x,
          y,
          { step: globalStep - 1 },
        );
        const loss = (await lossArr.data())[0];
        const batchCorrect = (await correctArr.data())[0];
        const gradNorm = (await gradNormArr.data())[0];
        if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
          const what = Number.isFinite(loss)
            ? `gradient norm became ${gradNorm} (loss ${loss})`
            : `loss became ${loss} (gradient norm ${gradNorm})`;
          const where = `${what} at epoch ${epoch}, step ${globalStep}; ${await offendingParams(nextParams)}`;
          if (!skipBad) {
            params = nextParams;
            state = nextState;
            run.setStatus("diverged", epoch - 1, where);
            return { status: "diverged", params, epochs: history.filter(Boolean), reason: where };
          }
          // Not applied: the step's params and state go; the ones from before it stay.
          treeDispose(nextParams);
          treeDispose(nextState);
          skips++;
          const skip: SkipEvent = {
            type: "skip",
            epoch,
            step: globalStep,
            loss: Number.isFinite(loss) ? loss : null,
            grad_norm: Number.isFinite(gradNorm) ? gradNorm : null,
            reason: where,
            skips,
            elapsed_s: elapsed(),
          };
          run.appendMetric(skip);
          cb.onSkip?.(skip);
          if (skips > maxSkips) {
            const reason = `${skips} steps skipped, more than the ${maxSkips} allowed; last: ${where}`;
            run.setStatus("diverged", epoch - 1, reason);
            return { status: "diverged", params, epochs: history.filter(Boolean), reason };
          }
          continue;
        }
        if (skipBad) {
          treeDispose(params);
          treeDispose(state);
        }
        params = nextParams;
        state = nextState;
        correct += batchCorrect;
        seen += batch.size;
        lossSum += loss * batch.size;
        const event: StepEvent & MemoryFields = {
          type: "step",
          epoch,
          step: globalStep,
          loss,
          grad_norm: gradNorm,
          elapsed_s: elapsed(),
          opt_state_bytes: optStateBytes,
          rss_bytes: process.memoryUsage.rss(),
        };
        if ((i + 1) % config.logEvery === 0 || i === stepsPerEpoch - 1) run.appendMetric(event);
        cb.onStep?.({ ...event, stepInEpoch: i + 1 });
        await cb.onStepParams?.(params, event);
      }
      const test = await evaluate(model, params, testSplit, 1000, evalStep);
      const event: EpochEvent = {
        type: "epoch",
        epoch,
        train_loss: lossSum / seen,
        train_accuracy: correct / seen,
        test_loss: test.loss,
        test_accuracy: test.accuracy,
        elapsed_s: elapsed(),
      };
      // The epoch's line first: a crash before the checkpoint is indexed redoes the epoch, and the
      // resume drops the line again; the other order could lose it.
      run.appendMetric(event);
      run.saveCheckpoint(`epoch-${epoch}`, await checkpointTensors(params, state), {
        epoch: String(epoch),
        run: config.id,
        format: "tiller-checkpoint-v1",
      });
      history[epoch - 1] = event;
      run.setStatus("running", epoch);
      await cb.onEpoch?.(event, params);
    }
  } catch (e) {
    run.recordFailure(e, history.filter(Boolean).length);
    throw e;
  } finally {
    step.dispose();
    evalStep.dispose();
    treeDispose(state);
  }
  run.setStatus("done", config.epochs);
  return { status: "done", params, epochs: history.filter(Boolean) };
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
