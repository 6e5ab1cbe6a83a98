/**
 * A run's live training curves: loss per step, loss and accuracy per epoch (train vs test),
 * gradient norm per step — fed by the server's event stream, drawn with the page's curve settings
 * (smoothing, log scale, x by step, epoch or wall time), and the line of text that says where the
 * run is.
 */
import type { EpochEvent, MetricEvent, StepEvent } from "../api.js";
import { curveChart, curveTools, loadSettings, type Curve, type CurveChart } from "../charts/curves.js";
import { splitColor } from "../charts/vega.js";
import { el, pct, sig } from "../dom.js";

export type LiveCurves = {
  element: HTMLElement;
  add(events: MetricEvent[]): void;
  reset(): void;
  /** Steps and epochs seen so far, for the progress line. */
  seen(): { step?: StepEvent; epoch?: EpochEvent; stepsPerEpoch?: number };
  finalize(): void;
};

const CURVES: Record<"stepLoss" | "loss" | "accuracy" | "gradNorm", Curve> = {
  stepLoss: {
    title: "Training loss per step",
    label: "Training loss per logged step",
    y: { field: "loss", title: "Loss", scalable: true },
  },
  loss: {
    title: "Loss per epoch",
    label: "Train and test loss per epoch",
    y: { field: "loss", title: "Loss", scalable: true },
    color: splitColor,
    points: true,
  },
  accuracy: {
    title: "Accuracy per epoch",
    label: "Train and test accuracy per epoch",
    y: { field: "accuracy", title: "Accuracy", format: ".1%" },
    color: splitColor,
    points: true,
  },
  gradNorm: {
    title: "Gradient norm per step",
    label: "Global gradient norm per logged step",
    y: { field: "grad_norm", title: "‖g‖₂", scalable: true },
  },
};

/** Steps per epoch from the log: the last step of the first finished epoch, over its number. */
function stepsPerEpoch(steps: StepEvent[], epochs: Map<number, EpochEvent>): number | undefined {
  const done = [...epochs.keys()].sort((a, b) => a - b)[0];
  if (done === undefined) return undefined;
  const inFirst = steps.filter((s) => s.epoch === done);
  return inFirst.length ? Math.max(...inFirst.map((s) => s.step)) / done : undefined;
}

/** The rows of each curve: step rows carry a fractional epoch, epoch rows a step, both the wall time. */
function curveRows(steps: StepEvent[], epochs: Map<number, EpochEvent>) {
  const perEpoch = stepsPerEpoch(steps, epochs);
  const stepRows = steps.map((s) => ({
    step: s.step,
    epoch: perEpoch ? s.step / perEpoch : s.epoch,
    elapsed_s: s.elapsed_s,
    loss: s.loss,
    grad_norm: s.grad_norm,
  }));
  const ep = [...epochs.values()].sort((a, b) => a.epoch - b.epoch);
  const long = ep.flatMap((e) => {
    const at = { epoch: e.epoch, elapsed_s: e.elapsed_s, ...(perEpoch ? { step: e.epoch * perEpoch } : {}) };
    return [
      { ...at, split: "train", loss: e.train_loss, accuracy: e.train_accuracy },
      { ...at, split: "test", loss: e.test_loss, accuracy: e.test_accuracy },
    ];
  });
  return { stepLoss: stepRows, loss: long, accuracy: long, gradNorm: stepRows };
}

export function liveCurves(onShown: () => void): LiveCurves {
  const steps: StepEvent[] = [];
  const epochs = new Map<number, EpochEvent>();
  const charts: Partial<Record<keyof typeof CURVES, CurveChart>> = {};
  let settings = loadSettings();
  const grid = el("div", { class: "chart-grid" });
  const summary = el("p", {
    class: "chart-summary",
    role: "status",
    "aria-live": "polite",
    id: "live-summary",
  });
  const tools = curveTools(settings, (s) => {
    settings = s;
    for (const c of Object.values(charts)) void c?.apply(s);
  });
  let drawing = Promise.resolve();
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    drawing = drawing.then(async () => {
      pending = false;
      const rows = curveRows(steps, epochs);
      for (const key of Object.keys(CURVES) as (keyof typeof CURVES)[]) {
        const chart = charts[key];
        if (chart) await chart.update(rows[key]);
        else if (
          rows[key].some((r) => typeof (r as Record<string, unknown>)[CURVES[key].y.field] === "number")
        ) {
          onShown(); // before drawing: a chart sized to its container measures it now
          const slot = grid.appendChild(
            el("div", { id: `chart-${key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}` }),
          );
          charts[key] = await curveChart(slot, CURVES[key], rows[key], settings);
        }
      }
      summary.textContent = summaryLine(
        steps.at(-1),
        [...epochs.values()].sort((a, b) => a.epoch - b.epoch).at(-1),
      );
    });
  };
  return {
    element: el("div", {}, tools, summary, grid),
    add(events) {
      for (const e of events) {
        if (e.type === "step") steps.push(e as StepEvent);
        else if (e.type === "epoch") epochs.set((e as EpochEvent).epoch, e as EpochEvent);
      }
      redraw();
    },
    reset() {
      steps.length = 0;
      epochs.clear();
    },
    seen: () => ({
      step: steps.at(-1),
      epoch: [...epochs.values()].sort((a, b) => a.epoch - b.epoch).at(-1),
      stepsPerEpoch: stepsPerEpoch(steps, epochs),
    }),
    finalize() {
      for (const c of Object.values(charts)) c?.finalize();
    },
  };
}

function summaryLine(last: StepEvent | undefined, lastEpoch: EpochEvent | undefined): string {
  return (
    (last ? `Step ${last.step} (epoch ${last.epoch}): loss ${sig(last.loss)}. ` : "No steps logged yet. ") +
    (lastEpoch
      ? `Epoch ${lastEpoch.epoch}: test accuracy ${pct(lastEpoch.test_accuracy)}, test loss ${sig(lastEpoch.test_loss)}.`
      : "")
  );
}
