/**
 * The progress of a Curvature Tuning comparison for whoever shows it (the CLI, the tour): the β
 * search as one bar, then a bar per fine-tuning epoch of each method and its validation accuracy.
 */
import type { ProgressSink } from "../../train/progress.js";
import { percent as pct } from "../../report/format.js";
import type { BetaScore } from "./search.js";

/** `finetune` goes into the request's fine-tuning options; `onMethod` and `onBeta` beside them. */
export function compareProgress(p: ProgressSink, betas: number, indent = "") {
  let label = "";
  return {
    finetune: {
      onStep: (s: { epoch: number; step: number; steps: number; loss: number }) => {
        if (s.step === 1) p.start(s.steps, `${label} epoch ${s.epoch}`);
        p.update(s.step, { loss: s.loss.toFixed(4) });
      },
      onEpoch: (e: { epoch: number; valAccuracy: number }) =>
        p.stop(`${indent}${label} epoch ${e.epoch}: val ${pct(e.valAccuracy)}`),
    },
    onMethod: (m: string) => {
      label = m;
      p.log(`${indent}${m}…`);
      if (m.startsWith("linear probe")) p.start(betas, "β search");
    },
    onBeta: (s: BetaScore, i: number) => p.update(i + 1, { beta: String(s.beta), val: pct(s.valAccuracy) }),
  };
}
