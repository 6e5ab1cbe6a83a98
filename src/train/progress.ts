/**
 * A training run's progress for whoever shows it (the CLI's bars, the tour's): one bar per epoch
 * over its steps, and one line when the epoch ends. Written once for `train`, the comparisons'
 * members and the tour.
 */
import { MISSING, percent } from "../report/format.js";
import type { TrainCallbacks } from "./loop.js";

/** What draws the bars: cli/progress.ts's createProgress and the tour's progress both are one. */
export type ProgressSink = {
  start(total: number, label: string): void;
  update(done: number, fields: Record<string, string>): void;
  stop(summary?: string): void;
  log(line: string): void;
};

/** A loss for a progress line; "–" where a run has none (an empty test set, NaN). */
const num = (x: number | null) => (x === null || !Number.isFinite(x) ? MISSING : x.toFixed(4));

/**
 * Callbacks that draw a bar per epoch and print the epoch's losses and accuracies at its end.
 * `label` names the run among others (a comparison's member; read at each epoch), `indent` sets
 * the line off under a heading.
 */
export function epochProgress(
  p: ProgressSink,
  label: string | (() => string) = "",
  indent = "",
): TrainCallbacks {
  let total = 0;
  const name = () => {
    const l = typeof label === "string" ? label : label();
    return l ? `${l} ` : "";
  };
  return {
    onStart: (info) => {
      total = info.stepsPerEpoch;
    },
    onStep: (e) => {
      if (e.stepInEpoch === 1) p.start(total, `${name()}epoch ${e.epoch}`);
      p.update(e.stepInEpoch, { loss: num(e.loss) });
    },
    onEpoch: (e) =>
      p.stop(
        `${indent}${name()}epoch ${e.epoch}: train loss ${num(e.train_loss)} acc ${percent(e.train_accuracy)} · ` +
          `test loss ${num(e.test_loss)} acc ${percent(e.test_accuracy)} · ${e.elapsed_s.toFixed(1)} s`,
      ),
  };
}
