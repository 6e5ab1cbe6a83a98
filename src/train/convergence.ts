/**
 * Convergence speed: how soon a run has made most of the progress it will make.
 *
 * Given the training loss of every optimisation step, ℓ₁ … ℓ_T (ℓ₁ is the first batch's loss at
 * the initial weights), and S steps per epoch:
 *
 *   ℓ̄_t  = mean of ℓ over the trailing window (t − w, t], w = max(1, round(S/20))  (5% of an epoch)
 *   L₀   = ℓ₁,  L_end = ℓ̄_T,  target = L₀ − f·(L₀ − L_end),  f = 0.9
 *   speed = min { t : ℓ̄_t ≤ target } / S       in epochs; smaller is faster
 *
 * It is NaN when the run made no progress (L_end ≥ L₀) or a loss is not finite (a diverged run).
 */

export type ConvergenceOptions = { fraction?: number; window?: number };

/** The trailing-window means ℓ̄_t of `losses`. */
export function smoothedLosses(losses: readonly number[], window: number): number[] {
  const out: number[] = [];
  let sum = 0;
  for (let t = 0; t < losses.length; t++) {
    sum += losses[t];
    if (t >= window) sum -= losses[t - window];
    out.push(sum / Math.min(t + 1, window));
  }
  return out;
}

export function convergenceWindow(stepsPerEpoch: number): number {
  return Math.max(1, Math.round(stepsPerEpoch / 20));
}

/** Epochs until the smoothed loss first covers `fraction` (0.9) of its total drop; NaN if none. */
export function convergenceEpochs(
  losses: readonly number[],
  stepsPerEpoch: number,
  opts: ConvergenceOptions = {},
): number {
  const fraction = opts.fraction ?? 0.9;
  if (losses.length === 0 || !losses.every(Number.isFinite)) return NaN;
  const smooth = smoothedLosses(losses, opts.window ?? convergenceWindow(stepsPerEpoch));
  const start = losses[0];
  const end = smooth[smooth.length - 1];
  if (!(end < start)) return NaN;
  const target = start - fraction * (start - end);
  const t = smooth.findIndex((l) => l <= target);
  return (t + 1) / stepsPerEpoch;
}
