/** Interpolation: one of the landscape analyses (see ../analyses.ts). */
import { UsageError } from "../../errors.js";
import { checkpointWeights, openSubject } from "../subject.js";
import { interpolate, linspace } from "../surface.js";
import { writeLandscape } from "../store.js";
import { sliceFigure } from "../figures.js";
import { open, provenance, figure, type CommonOptions } from "./common.js";

export async function runInterpolation(
  o: CommonOptions & {
    toRun?: string;
    fromEpoch?: number;
    toEpoch?: number;
    range?: [number, number];
    steps?: number;
  },
) {
  const { subject, objective, evaluation } = open(o);
  try {
    const epochs = subject.run.epochCheckpoints();
    const a = await checkpointWeights(subject, o.fromEpoch ?? epochs[0]);
    const other = o.toRun ? openSubject(o.toRun, o.runsRoot) : subject;
    if (
      other.layout.size !== subject.layout.size ||
      other.layout.entries.some(
        (e, i) => e.name !== subject.layout.entries[i]?.name || e.size !== subject.layout.entries[i]?.size,
      )
    )
      throw new UsageError(`runs ${subject.run.id} and ${other.run.id} have models of different shapes`);
    const b = await checkpointWeights(other, o.toEpoch);
    const [lo, hi] = o.range ?? [-0.25, 1.25];
    const alphas = linspace(lo, hi, o.steps ?? 31);
    const s = await interpolate(objective, a.w, b.w, alphas, (d, t, e) =>
      o.onProgress?.(d, t, "interpolation", `loss ${e.loss.toFixed(4)}`),
    );
    const name =
      o.name ?? `interpolation-${a.epoch}-${other === subject ? "" : other.run.id + "-"}${b.epoch}`;
    const from = `${subject.run.id}@${a.epoch}`;
    const to = `${other.run.id}@${b.epoch}`;
    const json = writeLandscape(subject.run, name, "interpolation", {
      from: provenance(subject, a.epoch, evaluation),
      to: provenance(other, b.epoch, evaluation),
      ...s,
    });
    const svg = await figure(
      subject.run,
      `${name}.svg`,
      sliceFigure(s, `Linear interpolation ${from} → ${to}`, "interpolation coefficient α", [
        { alpha: 0, label: `epoch ${a.epoch}` },
        { alpha: 1, label: `epoch ${b.epoch}` },
      ]),
    );
    return { slice: s, from, to, files: [json, svg] };
  } finally {
    objective.dispose();
  }
}
