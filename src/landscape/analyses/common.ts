/** What every analysis shares: opening a run on its evaluation set, provenance, progress, figures. */
import { renderSvg } from "../../report/vega.js";
import { createObjective, type Objective } from "../objective.js";
import {
  DEFAULT_EVALUATION,
  evaluationSet,
  openSubject,
  type EvaluationChoice,
  type Subject,
} from "../subject.js";
import { type IterationProgress } from "../hessian.js";
import { writeFigure } from "../store.js";
import { Run } from "../../runs/store.js";

export type Progress = (done: number, total: number, label: string, detail?: string) => void;

export type CommonOptions = {
  run: string;
  runsRoot?: string;
  epoch?: number;
  evaluation?: Partial<EvaluationChoice>;
  batchSize?: number;
  name?: string;
  onProgress?: Progress;
};

export type Opened = { subject: Subject; objective: Objective; evaluation: EvaluationChoice };

export function open(o: CommonOptions): Opened {
  const subject = openSubject(o.run, o.runsRoot);
  const evaluation = { ...DEFAULT_EVALUATION, ...o.evaluation };
  const data = evaluationSet(subject.config, evaluation);
  return {
    subject,
    evaluation,
    objective: createObjective(subject.model, subject.layout, data, o.batchSize ?? 256),
  };
}

export const provenance = (s: Subject, epoch: number, evaluation: EvaluationChoice) => ({
  run: s.run.id,
  model: s.config.model,
  epoch,
  evaluation: { split: evaluation.split, count: evaluation.count, offset: evaluation.offset },
  params: s.layout.size,
});

export const iterationProgress =
  (p?: Progress): IterationProgress =>
  ({ phase, iteration, of, estimate }) =>
    p?.(iteration, of, phase, `estimate ${estimate.toPrecision(6)}`);

export async function figure(run: Run, file: string, spec: Parameters<typeof renderSvg>[0]): Promise<string> {
  return writeFigure(run, file, await renderSvg(spec));
}
