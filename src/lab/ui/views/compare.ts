/** Two or more runs on the same axes: test accuracy and loss per epoch, training loss per step. */
import { api, type EpochEvent, type StepEvent } from "../api.js";
import { lineSpec, liveChart, positive } from "../charts/vega.js";
import { el } from "../dom.js";

export async function compareView(root: HTMLElement, signal: AbortSignal, ids: string[]): Promise<void> {
  root.append(
    el("p", { class: "crumbs" }, el("a", { href: "#/runs" }, "Runs"), " / "),
    el("h1", {}, `Compare ${ids.length} runs`),
  );
  if (ids.length < 2) {
    root.append(el("p", {}, "Pick two or more runs on the runs page to compare them."));
    return;
  }
  const loaded = await Promise.all(ids.map(async (id) => ({ id, events: (await api.metrics(id)).events })));
  if (signal.aborted) return;
  const epochs = loaded.flatMap(({ id, events }) =>
    events
      .filter((e): e is EpochEvent => e.type === "epoch")
      .map((e) => ({ run: id, epoch: e.epoch, acc: e.test_accuracy, loss: e.test_loss })),
  );
  const steps = loaded.flatMap(({ id, events }) =>
    events
      .filter((e): e is StepEvent => e.type === "step" && positive((e as StepEvent).loss))
      .map((e) => ({ run: id, step: e.step, loss: e.loss })),
  );
  const color = { field: "run", title: "Run" };
  const grid = el("div", { class: "chart-grid wide" });
  root.append(grid);
  const slot = (id: string) => grid.appendChild(el("div", { id }));
  await liveChart(
    slot("compare-accuracy"),
    lineSpec({
      title: "Test accuracy per epoch",
      x: { field: "epoch", title: "Epoch", integer: true },
      y: { field: "acc", title: "Test accuracy", format: ".1%" },
      color,
      points: true,
    }),
    epochs.filter((r) => typeof r.acc === "number"),
    `Test accuracy per epoch of ${ids.join(", ")}`,
  );
  await liveChart(
    slot("compare-loss"),
    lineSpec({
      title: "Test loss per epoch",
      x: { field: "epoch", title: "Epoch", integer: true },
      y: { field: "loss", title: "Test loss" },
      color,
      points: true,
    }),
    epochs.filter((r) => typeof r.loss === "number"),
    `Test loss per epoch of ${ids.join(", ")}`,
  );
  await liveChart(
    slot("compare-steps"),
    lineSpec({
      title: "Training loss per step",
      x: { field: "step", title: "Step" },
      y: { field: "loss", title: "Loss (log scale)", log: true },
      color,
    }),
    steps,
    `Training loss per step of ${ids.join(", ")}`,
  );
  const table = el(
    "table",
    { class: "runs" },
    el("caption", {}, "Final and best test accuracy"),
    el(
      "thead",
      {},
      el("tr", {}, ...["Run", "Epochs", "Final", "Best"].map((h) => el("th", { scope: "col" }, h))),
    ),
    el(
      "tbody",
      {},
      ...ids.map((id) => {
        const mine = epochs.filter((e) => e.run === id && typeof e.acc === "number");
        const accs = mine.map((e) => e.acc as number);
        return el(
          "tr",
          {},
          el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(id)}` }, id)),
          el("td", { class: "num" }, String(mine.length)),
          el("td", { class: "num" }, accs.length ? `${(100 * accs.at(-1)!).toFixed(2)}%` : "–"),
          el("td", { class: "num" }, accs.length ? `${(100 * Math.max(...accs)).toFixed(2)}%` : "–"),
        );
      }),
    ),
  );
  root.append(table);
}
