/**
 * The training-dynamics recorder (the book's `visualize_training_dynamics`, as a callback over
 * `train`): per epoch, and optionally per step, the loss, the gradient norm, the parameter change
 * ‖θₜ − θₜ₋₁‖ (and from the start, ‖θₜ − θ₀‖, the book's), the weight norm ‖θₜ‖, the loss
 * improvement, and per layer the gradient, weight and change norms. Records are appended to
 * `dynamics.jsonl` in the run, line by line, so the lab can draw them live.
 *
 * Gradient norms: the epoch's global one is the mean of the per-step norms of the batches trained
 * on (the book's average); the per-layer ones are measured at the epoch's end on a fixed probe set
 * of training examples (one extra gradient per epoch, instead of one per step).
 */
import { grad, jit, numpy as np } from "../engine/jax.js";
import { namedLeaves, treeRef, type Params } from "../engine/tree.js";
import type { ImageSplit } from "../data/dataset.js";
import type { Model } from "../nn/models/index.js";
import { MAX_LOG_BYTES } from "../runs/files.js";
import { Run } from "../runs/store.js";
import { keyFromSeed } from "../engine/prng.js";
import { createModel } from "../nn/models/index.js";
import type { TrainConfig } from "./config.js";
import { batchLossAndCorrect } from "./evaluate.js";
import type { TrainCallbacks } from "./loop.js";

export type LayerDynamics = { grad_norm?: number; weight_norm: number; param_change: number };

export type DynamicsRecord = {
  type: "epoch" | "step";
  epoch: number;
  /** Global step (step records, and the last step of an epoch record). */
  step: number;
  loss: number;
  grad_norm: number | null;
  param_change: number;
  param_change_from_start: number;
  weight_norm: number;
  loss_improvement: number;
  layers?: Record<string, LayerDynamics>;
};

export const DYNAMICS_FILE = "dynamics.jsonl";

type HostParams = { names: string[]; data: Float64Array[] };

/** Host copy of a param tree; takes ownership (callers pass `treeRef(params)`, taken synchronously). */
async function snapshot(owned: Params): Promise<HostParams> {
  const leaves = namedLeaves(owned);
  const data: Float64Array[] = [];
  for (const [, x] of leaves) data.push(Float64Array.from(await x.data()));
  return { names: leaves.map(([n]) => n), data };
}

function norms(a: HostParams, b?: HostParams) {
  const per: number[] = a.data.map((x, k) => {
    let s = 0;
    const y = b?.data[k];
    for (let i = 0; i < x.length; i++) s += (x[i] - (y ? y[i] : 0)) ** 2;
    return s;
  });
  return { total: Math.sqrt(per.reduce((p, q) => p + q, 0)), per: per.map(Math.sqrt) };
}

/** The gradient norm of each parameter leaf of the mean loss on a batch, jitted. */
function layerGradNorms(model: Model) {
  const objective = batchLossAndCorrect(model);
  return jit((params: Params, x: np.Array, y: np.Array) => {
    const n = x.shape[0];
    const g = grad((p: Params) => {
      const [loss, correct] = objective(p, x, y.ref);
      correct.dispose();
      return loss.div(n);
    })(params);
    y.dispose();
    return np.stack(namedLeaves(g).map(([, t]) => np.sqrt(np.square(t).sum())));
  });
}

/** Per leaf: gradient norm (when probed), weight norm and change since the last record. */
function layerDynamics(
  names: string[],
  gradNorms: number[] | null,
  weightNorms: number[],
  changes: number[],
): Record<string, LayerDynamics> {
  const layers: Record<string, LayerDynamics> = {};
  names.forEach((name, k) => {
    layers[name] = {
      ...(gradNorms ? { grad_norm: gradNorms[k] } : {}),
      weight_norm: weightNorms[k],
      param_change: changes[k],
    };
  });
  return layers;
}

export type RecorderOptions = {
  run: Run;
  model: Model;
  /** "epoch" (default) or "step" (also one record per step: global norms only). */
  every?: "epoch" | "step";
  /** Training examples for the per-layer gradient norms at each epoch's end (none: skip them). */
  probe?: ImageSplit | null;
  /** Called with each epoch record (progress lines). */
  onRecord?(record: DynamicsRecord): void;
};

/**
 * Callbacks to pass to `train` (merge them with others via `mergeCallbacks`), and `dispose()`.
 */
export function createDynamicsRecorder(o: RecorderOptions): TrainCallbacks & { dispose(): void } {
  const run = o.run;
  const layerGrads = layerGradNorms(o.model);
  const probe = o.probe
    ? {
        x: np.array(o.probe.images).reshape([o.probe.n, ...o.probe.shape]),
        y: np.array(o.probe.labels, { dtype: np.int32 }),
      }
    : null;
  // onStart is not awaited by the loop: its snapshot is a promise the later hooks wait for.
  let started: Promise<HostParams> | null = null;
  let start: HostParams | null = null;
  let lastEpochParams: HostParams | null = null;
  let lastStepParams: HostParams | null = null;
  const ready = async () => {
    if (!start && started) {
      start = await started;
      lastEpochParams ??= start;
      lastStepParams ??= start;
    }
  };
  let lastEpochLoss: number | null = null;
  let lastStepLoss: number | null = null;
  let gradSum = 0;
  let gradCount = 0;
  let lastStep = 0;

  return {
    onStart({ startEpoch, params }) {
      // A resume redoes the epochs from `startEpoch`: their records (a killed epoch's too) go.
      const kept = keepRecordsBefore(o.run, startEpoch);
      if (startEpoch === 1) {
        started = snapshot(treeRef(params));
        return;
      }
      // The restored params end the last kept epoch; θ₀ is rebuilt (the seeded init or --from).
      const restored = snapshot(treeRef(params));
      lastEpochLoss = kept.findLast((r) => r.type === "epoch")?.loss ?? null;
      lastStepLoss = kept.findLast((r) => r.type === "step")?.loss ?? null;
      started = (async () => {
        lastEpochParams = lastStepParams = await restored;
        return snapshot(await initialParams(o.run));
      })();
    },
    onStep(e) {
      if (e.stepInEpoch === 1) {
        gradSum = 0;
        gradCount = 0;
      }
      if (e.grad_norm !== undefined && Number.isFinite(e.grad_norm)) {
        gradSum += e.grad_norm;
        gradCount++;
      }
      lastStep = e.step;
    },
    async onStepParams(params, e) {
      if (o.every !== "step") return;
      const owned = treeRef(params);
      await ready();
      const now = await snapshot(owned);
      const change = norms(now, lastStepParams ?? now).total;
      const record: DynamicsRecord = {
        type: "step",
        epoch: e.epoch,
        step: e.step,
        loss: e.loss,
        grad_norm: e.grad_norm ?? null,
        param_change: change,
        param_change_from_start: norms(now, start ?? now).total,
        weight_norm: norms(now).total,
        loss_improvement: lastStepLoss === null ? 0 : lastStepLoss - e.loss,
      };
      lastStepParams = now;
      lastStepLoss = e.loss;
      run.appendLine(DYNAMICS_FILE, record);
    },
    async onEpoch(e, params) {
      const owned = treeRef(params);
      const grads = probe ? layerGrads(treeRef(params), probe.x.ref, probe.y.ref) : null;
      await ready();
      const now = await snapshot(owned);
      const change = norms(now, lastEpochParams ?? now);
      const fromStart = norms(now, start ?? now);
      const weights = norms(now);
      let gradsPerLayer: number[] | null = null;
      if (grads) gradsPerLayer = Array.from(await grads.data());
      const layers = layerDynamics(now.names, gradsPerLayer, weights.per, change.per);
      const record: DynamicsRecord = {
        type: "epoch",
        epoch: e.epoch,
        step: lastStep,
        loss: e.train_loss,
        grad_norm: gradCount ? gradSum / gradCount : null,
        param_change: change.total,
        param_change_from_start: fromStart.total,
        weight_norm: weights.total,
        loss_improvement: lastEpochLoss === null ? 0 : lastEpochLoss - e.train_loss,
        layers,
      };
      lastEpochParams = now;
      lastEpochLoss = e.train_loss;
      run.appendLine(DYNAMICS_FILE, record);
      o.onRecord?.(record);
    },
    dispose() {
      layerGrads.dispose();
      probe?.x.dispose();
      probe?.y.dispose();
    },
  };
}

/** Calls every set of callbacks in order (awaiting async ones). */
export function mergeCallbacks(...sets: TrainCallbacks[]): TrainCallbacks {
  return {
    onStart: (info) => sets.forEach((s) => s.onStart?.(info)),
    onStep: (e) => sets.forEach((s) => s.onStep?.(e)),
    async onStepParams(params, e) {
      for (const s of sets) await s.onStepParams?.(params, e);
    },
    async onEpoch(e, params) {
      for (const s of sets) await s.onEpoch?.(e, params);
    },
  };
}

/** The run's recorded dynamics (a truncated last line, from a crash, is skipped). */
/** Rewrites dynamics.jsonl with the records of epochs before `epoch` only; returns them. */
function keepRecordsBefore(run: Run, epoch: number): DynamicsRecord[] {
  const records = readDynamics(run);
  const kept = records.filter((r) => r.epoch < epoch);
  if (kept.length !== records.length || run.has(DYNAMICS_FILE))
    run.writeFile(DYNAMICS_FILE, kept.map((r) => JSON.stringify(r) + "\n").join(""));
  return kept;
}

/** θ₀ of a run: the checkpoint a --from run loaded, or the seeded init. */
async function initialParams(run: Run): Promise<Params> {
  const { loadParamsFromCheckpoint } = await import("./loop.js");
  const config = run.config<TrainConfig & { initFrom?: { run: string; epoch: number } }>();
  return config.initFrom
    ? loadParamsFromCheckpoint(new Run(config.initFrom.run), config.initFrom.epoch)
    : createModel(config.model).init(keyFromSeed(config.seed));
}

export function readDynamics(run: Run): DynamicsRecord[] {
  if (!run.has(DYNAMICS_FILE)) return [];
  const out: DynamicsRecord[] = [];
  for (const line of run.readText(DYNAMICS_FILE, MAX_LOG_BYTES).split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a half-written last line
    }
  }
  return out;
}

/**
 * Dynamics of a run trained without the recorder, from what it stored: the loss per epoch, the
 * mean of the logged step gradient norms (every `logEvery`-th step only), and the parameter and
 * weight norms from the epoch checkpoints, θ₀ rebuilt from the seed (or the --from checkpoint).
 * No per-layer gradient norms.
 */
export async function dynamicsFromCheckpoints(run: Run): Promise<DynamicsRecord[]> {
  const { loadParamsFromCheckpoint } = await import("./loop.js");
  const metrics = run.metrics();
  const epochs = run.epochCheckpoints();
  const out: DynamicsRecord[] = [];
  // θ₀ is not stored, but it is reproducible: the seeded init, or the checkpoint a --from run loaded.
  const first = await snapshot(await initialParams(run));
  let previous: HostParams = first;
  let previousLoss: number | null = null;
  for (const epoch of epochs) {
    const now = await snapshot(loadParamsFromCheckpoint(run, epoch));
    const event = metrics.find((m) => m.type === "epoch" && m.epoch === epoch);
    const steps = metrics.filter((m) => m.type === "step" && m.epoch === epoch && m.grad_norm !== undefined);
    const loss = event && event.type === "epoch" ? event.train_loss : NaN;
    const change = norms(now, previous);
    const weights = norms(now);
    out.push({
      type: "epoch",
      epoch,
      step: steps.at(-1)?.type === "step" ? (steps.at(-1) as { step: number }).step : 0,
      loss,
      grad_norm: steps.length
        ? steps.reduce((a, m) => a + ((m as { grad_norm?: number }).grad_norm ?? 0), 0) / steps.length
        : null,
      param_change: change.total,
      param_change_from_start: norms(now, first).total,
      weight_norm: weights.total,
      loss_improvement: previousLoss === null ? 0 : previousLoss - loss,
      layers: Object.fromEntries(
        now.names.map((n, k) => [n, { weight_norm: weights.per[k], param_change: change.per[k] }]),
      ),
    });
    previous = now;
    previousLoss = loss;
  }
  return out;
}
