/**
 * Two or more runs on the same axes: test accuracy and loss per epoch, training loss per step —
 * with the page's curve settings, one colour per run (per optimiser when each run has its own),
 * and the hyper-parameter table that says how the runs differ.
 */
import { api, type EpochEvent, type MetricEvent, type RunDetail, type StepEvent } from "../api.js";
import { curveChart, curveTools, loadSettings, type Curve, type CurveChart } from "../charts/curves.js";
import { el, param } from "../dom.js";
import { methodColor, seriesColor } from "../palette.js";
import { hparamTable } from "../tables/hparams.js";

/** A run's name on the charts: its optimiser and learning rate, then its id. */
function runLabel(d: RunDetail): string {
  const opt = d.optimizer ? `${d.optimizer}${d.lr !== undefined ? ` lr ${param(d.lr)}` : ""} · ` : "";
  return `${opt}${d.id}`;
}

/** Colours: each optimiser's own when the runs' optimisers differ, else the series colours in order. */
function runColors(runs: { optimizer?: string }[]): string[] {
  const opts = runs.map((r) => r.optimizer ?? "");
  const distinct = new Set(opts).size === opts.length && opts.every((o) => methodColor(o));
  return runs.map((r, i) => (distinct ? methodColor(r.optimizer!)! : seriesColor(i)));
}

function rowsOf(label: string, events: MetricEvent[]) {
  const steps = events.filter((e): e is StepEvent => e.type === "step");
  const epochs = events.filter((e): e is EpochEvent => e.type === "epoch");
  const first = epochs[0]?.epoch;
  const inFirst = steps.filter((s) => s.epoch === first).map((s) => s.step);
  const perEpoch = inFirst.length ? Math.max(...inFirst) / first : undefined;
  return {
    steps: steps.map((s) => ({
      run: label,
      step: s.step,
      epoch: perEpoch ? s.step / perEpoch : s.epoch,
      elapsed_s: s.elapsed_s,
      loss: s.loss,
    })),
    epochs: epochs.map((e) => ({
      run: label,
      epoch: e.epoch,
      elapsed_s: e.elapsed_s,
      ...(perEpoch ? { step: e.epoch * perEpoch } : {}),
      acc: e.test_accuracy,
      loss: e.test_loss,
    })),
  };
}

export async function compareView(root: HTMLElement, signal: AbortSignal, ids: string[]): Promise<void> {
  root.append(
    el("p", { class: "crumbs" }, el("a", { href: "#/runs" }, "Runs"), " / "),
    el("h1", {}, `Compare ${ids.length} runs`),
  );
  if (ids.length < 2) {
    root.append(el("p", {}, "Pick two or more runs on the runs page to compare them."));
    return;
  }
  const loaded = await Promise.all(
    ids.map(async (id) => ({ detail: await api.run(id), events: (await api.metrics(id)).events })),
  );
  if (signal.aborted) return;
  const labels = loaded.map((l) => runLabel(l.detail));
  const colors = runColors(loaded.map((l) => l.detail));
  const rows = loaded.map((l, i) => rowsOf(labels[i], l.events));
  const color = { field: "run", title: "Run", domain: labels, range: colors };
  const curves: [string, Curve, object[]][] = [
    [
      "compare-accuracy",
      {
        title: "Test accuracy per epoch",
        label: `Test accuracy per epoch of ${ids.join(", ")}`,
        y: { field: "acc", title: "Test accuracy", format: ".1%" },
        color,
        points: true,
      },
      rows.flatMap((r) => r.epochs),
    ],
    [
      "compare-loss",
      {
        title: "Test loss per epoch",
        label: `Test loss per epoch of ${ids.join(", ")}`,
        y: { field: "loss", title: "Test loss", scalable: true },
        color,
        points: true,
      },
      rows.flatMap((r) => r.epochs),
    ],
    [
      "compare-steps",
      {
        title: "Training loss per step",
        label: `Training loss per step of ${ids.join(", ")}`,
        y: { field: "loss", title: "Loss", scalable: true },
        color,
      },
      rows.flatMap((r) => r.steps),
    ],
  ];
  const charts: CurveChart[] = [];
  const tools = curveTools(loadSettings(), (s) => charts.forEach((c) => void c.apply(s)));
  const grid = el("div", { class: "chart-grid wide" });
  root.append(
    hparamTable(
      loaded.map((l, i) => {
        const accs = rows[i].epochs.map((e) => e.acc).filter((a): a is number => typeof a === "number");
        return {
          id: l.detail.id,
          href: `#/runs/${encodeURIComponent(l.detail.id)}`,
          color: colors[i],
          config: l.detail.config,
          metrics: {
            epochs: accs.length,
            "final test accuracy": accs.at(-1),
            "best test accuracy": l.detail.best ?? (accs.length ? Math.max(...accs) : undefined),
          },
        };
      }),
      { caption: "How the runs differ, and how they did", id: "compare-hparams" },
    ),
    tools,
    grid,
  );
  for (const [id, curve, data] of curves)
    charts.push(await curveChart(grid.appendChild(el("div", { id })), curve, data, loadSettings()));
  signal.addEventListener("abort", () => charts.forEach((c) => c.finalize()));
}
