/** A training run's progress on its page (no DOM: tested in Node). */
import type { RunDetail } from "../api.js";

/**
 * Where a training run is: the later of what the server last read and what the event stream
 * brought since, so the bar never lags the curves ("epoch 0/3" beside "Epoch 1: 71.56%").
 */
export function progressOf(
  d: Pick<RunDetail, "progress">,
  seen: { step?: { step: number; epoch: number }; epoch?: { epoch: number }; stepsPerEpoch?: number },
) {
  const p = d.progress;
  if (!p) return undefined;
  const epoch = Math.max(p.epoch, seen.epoch?.epoch ?? 0, seen.step ? seen.step.epoch - 1 : 0);
  const perEpoch = p.steps ? p.steps / p.epochs : seen.stepsPerEpoch;
  const step = Math.max(p.step, seen.step?.step ?? 0, perEpoch ? (seen.epoch?.epoch ?? 0) * perEpoch : 0);
  const fraction = p.steps ? Math.min(1, step / p.steps) : Math.min(1, epoch / p.epochs);
  return { fraction: Math.max(p.fraction, fraction), epoch, epochs: p.epochs, step, steps: p.steps };
}
