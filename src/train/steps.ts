/**
 * The one step loop every trainer runs (train, LM pretraining, adapter fine-tuning, CT's
 * fine-tuning and linear probe), read top to bottom like nanoGPT's:
 *
 *   resume: restore the last checkpoint, cut metrics.jsonl back to it
 *   for step = start + 1 .. steps:
 *     stop here if asked                      → status interrupted (a resume continues)
 *     one optimisation step (the trainer's: batch → loss → gradients → update)
 *     a non-finite loss or gradient norm      → status diverged, naming the step
 *     the step's metrics line
 *     the trainer's boundary work: evaluate, keep the best, checkpoint → status running
 *   the trainer's finish (final evaluation, saved model) → status done
 *
 * Any error marks the run failed with its message and is rethrown; the trainer's resources are
 * disposed whatever happens. A trainer keeps only its objective and its data.
 */
import { jit, numpy as np, valueAndGrad } from "../engine/jax.js";
import { yieldToEventLoop } from "../engine/yield.js";
import { globalNorm, treeRef, type Params } from "../engine/tree.js";
import { applyUpdates, type GradientTransformation, type OptState } from "../optim/index.js";
import type { MetricEvent, Run } from "../runs/store.js";

/** A run that must stop as diverged (thrown by a trainer, e.g. past its allowed skipped steps). */
export class DivergedError extends Error {
  override name = "DivergedError";
}

/** [params, optimiser state, loss, auxiliary output, global gradient norm] of one step. */
export type StepOutput = [params: Params, state: OptState, loss: np.Array, aux: np.Array, gradNorm: np.Array];

/**
 * One optimisation step as a pure function: (loss, aux) and gradients of `objective` at `params`,
 * the optimiser's update (given the Hessian diagonal when it asks for curvature), the new params.
 * Consumes params, state and the arguments. Jit it (`jitStep`) or call it inside a jitted function.
 */
export function stepFunction<A extends unknown[]>(
  objective: (params: Params, ...args: A) => [loss: np.Array, aux: np.Array],
  optimizer: GradientTransformation,
) {
  // jax-js types a function's arguments as array trees; A is ours, so the call is typed here once.
  const lossAndGrad = valueAndGrad(objective, { hasAux: true }) as unknown as (
    params: Params,
    ...args: A
  ) => [[np.Array, np.Array], Params];
  return (params: Params, state: OptState, args: A, hessian?: Params): StepOutput => {
    const [[loss, aux], grads] = lossAndGrad(treeRef(params), ...args);
    const gradNorm = globalNorm(treeRef(grads));
    const { updates, state: next } = optimizer.update(
      grads,
      state,
      params,
      hessian ? { hessian } : undefined,
    );
    return [applyUpdates(params, updates), next, loss, aux, gradNorm];
  };
}

/** A compiled step: `step(params, state, ...args)`; `step.dispose()` frees the compiled code. */
export type JitStep<A extends unknown[]> = {
  (params: Params, state: OptState, ...args: A): StepOutput;
  dispose(): void;
};

/** `stepFunction` compiled. */
export function jitStep<A extends unknown[]>(
  objective: (params: Params, ...args: A) => [loss: np.Array, aux: np.Array],
  optimizer: GradientTransformation,
): JitStep<A> {
  const f = stepFunction(objective, optimizer);
  return jit((params: Params, state: OptState, ...args: A) =>
    f(params, state, args),
  ) as unknown as JitStep<A>;
}

/** What one step tells the loop. */
export type StepReport = {
  loss: number;
  gradNorm: number;
  /** The step's metrics line, appended by the loop after a finite step. */
  metric?: MetricEvent;
  /** The trainer left a non-finite step unapplied and logged it (train's skip mode): the loop goes on. */
  skipped?: boolean;
};

/** Seconds of training so far, the restored run's included. */
export type Clock = { elapsed(): number };

export type Trainer = {
  /** The last step. */
  steps: number;
  /** Resume: loads the latest checkpoint into the trainer; returns its step and elapsed seconds (null: none). */
  restore?(): { step: number; elapsed: number } | null;
  /** Resume: whether a metrics line survives a restore to `step` (default: its step, or epoch, is not later). */
  keepMetric?(m: MetricEvent, step: number): boolean;
  /** Called once, before the first step to run (from the restored step on a resume). */
  start?(first: number): void;
  /** Step `s` (1-based): batch → loss → gradients → update. */
  step(s: number, clock: Clock): Promise<StepReport>;
  /** After step `s`: evaluation, best-keeping, checkpoints. Returns true when a checkpoint was saved. */
  after?(s: number, clock: Clock): Promise<boolean>;
  /** After the last step: final evaluation, saved model, results. */
  finish?(clock: Clock): Promise<void>;
  /** status.json's count after step `s`: steps by default, epochs for an epoch trainer. */
  progress?(s: number): number;
  /** The divergence message of a non-finite step. */
  diverged?(s: number, r: StepReport): Promise<string>;
  dispose(): void;
};

export type LoopResult = { status: "done" | "interrupted" | "diverged"; step: number; reason?: string };

export type LoopOptions = {
  /** The run whose status, metrics and checkpoints the loop keeps (absent: a trainer inside another run). */
  run?: Run;
  resume?: boolean;
  signal?: AbortSignal;
};

export const INTERRUPTED = "stopped by the user; resume with --resume";

export async function runSteps(t: Trainer, opts: LoopOptions = {}): Promise<LoopResult> {
  const { run, signal } = opts;
  const progress = (s: number) => (t.progress ? t.progress(s) : s);
  let done = 0;
  let before = 0;
  try {
    if (opts.resume) ({ done, before } = resume(t, run));
    const t0 = performance.now();
    const clock: Clock = { elapsed: () => before + (performance.now() - t0) / 1000 };
    t.start?.(done);
    run?.setStatus("running", progress(done));
    for (let s = done + 1; s <= t.steps; s++) {
      await yieldToEventLoop(); // so a Ctrl-C can be seen (engine/yield.ts)
      if (signal?.aborted) return stop(run, "interrupted", progress(s - 1), s - 1, INTERRUPTED);
      const r = await t.step(s, clock);
      if (!r.skipped && !(Number.isFinite(r.loss) && Number.isFinite(r.gradNorm))) {
        const reason = t.diverged ? await t.diverged(s, r) : `${divergence(r)} at step ${s}`;
        return stop(run, "diverged", progress(s - 1), s - 1, reason);
      }
      if (r.metric) run?.appendMetric(r.metric);
      if ((await t.after?.(s, clock)) && run) run.setStatus("running", progress(s));
      done = s;
    }
    await t.finish?.(clock);
    run?.setStatus("done", progress(t.steps));
    return { status: "done", step: t.steps };
  } catch (e) {
    if (e instanceof DivergedError) return stop(run, "diverged", progress(done), done, e.message);
    // Never throws: a status write that fails too (a full disk) must not hide this error.
    run?.recordFailure(e, progress(done));
    throw e;
  } finally {
    t.dispose();
  }
}

/** The restored step and elapsed time; metrics.jsonl repaired and cut back to that step. */
function resume(t: Trainer, run: Run | undefined): { done: number; before: number } {
  run?.repairMetrics();
  const restored = t.restore?.() ?? null;
  const step = restored?.step ?? 0;
  const keep = t.keepMetric ?? ((m: MetricEvent, s: number) => metricStep(m) <= s);
  run?.keepMetricsWhere((m) => keep(m, step));
  return { done: step, before: restored?.elapsed ?? 0 };
}

/** A metrics line's step (an epoch line's epoch when it has no step). */
function metricStep(m: MetricEvent): number {
  return "step" in m ? m.step : m.epoch;
}

function stop(
  run: Run | undefined,
  status: "interrupted" | "diverged",
  progress: number,
  step: number,
  reason: string,
): LoopResult {
  run?.setStatus(status, progress, reason);
  return { status, step, reason };
}

/** "loss became NaN (gradient norm 3.1)", or the gradient norm when the loss is finite. */
export function divergence(r: { loss: number; gradNorm: number }): string {
  return Number.isFinite(r.loss)
    ? `gradient norm became ${r.gradNorm} (loss ${r.loss})`
    : `loss became ${r.loss} (gradient norm ${r.gradNorm})`;
}

/**
 * The scalars of a step's outputs on the host. Consumes them. Float32 scalars are stacked and read
 * back once: on a GPU every read is a round trip (bench/NOTES.md), and a step reports two or three.
 */
export async function scalars(...xs: np.Array[]): Promise<number[]> {
  const stackable = xs.length > 1 && xs.every((x) => x.dtype === np.float32 && x.shape.length === 0);
  if (stackable) return Array.from(await np.stack(xs).data(), Number);
  const out: number[] = [];
  for (const x of xs) out.push((await x.data())[0]);
  return out;
}
