/**
 * Curves read from a run's JSON-lines files and redrawn while the run writes them: the members of
 * an optimiser comparison (members/<label>/metrics.jsonl) and the training-dynamics record
 * (dynamics.jsonl, the book's five panels).
 */
import { fileUrl, type RunDetail } from "../api.js";
import { lineSpec, liveChart, positive, type LiveChart } from "../charts/vega.js";
import { el } from "../dom.js";
import { sleep } from "./runs.js";

type Row = Record<string, unknown>;

/** The complete JSON lines of a file (a half-written last line is left for the next read). */
export async function readJsonLines(runId: string, path: string): Promise<Row[]> {
  const res = await fetch(fileUrl(runId, path));
  if (res.status === 404) return [];
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  const text = await res.text();
  const complete = text.slice(0, text.lastIndexOf("\n") + 1);
  return complete
    .split("\n")
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Row];
      } catch {
        return [];
      }
    });
}

type Panel = {
  key: string;
  spec: Parameters<typeof liveChart>[1];
  label: string;
  rows: (data: Row[][]) => object[];
};

/**
 * Draws `panels` from the files `paths` and, while `live()` holds, reads them again every few
 * seconds and redraws. Stops when the container leaves the page.
 */
async function followFiles(
  container: HTMLElement,
  runId: string,
  paths: string[],
  panels: Panel[],
  live: () => boolean,
): Promise<void> {
  const grid = el("div", { class: "chart-grid" });
  container.append(grid);
  const charts = new Map<string, LiveChart>();
  const controller = new AbortController();
  for (;;) {
    const data = await Promise.all(paths.map((p) => readJsonLines(runId, p)));
    for (const panel of panels) {
      const rows = panel.rows(data);
      const chart = charts.get(panel.key);
      if (chart) await chart.update(rows);
      else if (rows.length)
        charts.set(
          panel.key,
          await liveChart(grid.appendChild(el("div", { id: panel.key })), panel.spec, rows, panel.label),
        );
    }
    if (!live()) break;
    await sleep(2500, controller.signal);
    if (!container.isConnected) break;
  }
}

/** An optimiser comparison: its members' curves on shared axes, one colour (and dash) per optimiser. */
export async function membersView(container: HTMLElement, d: RunDetail, live: () => boolean): Promise<void> {
  const members =
    (d.config.members as { label?: string }[] | undefined)?.map((m) => String(m.label ?? "")) ?? [];
  if (!members.length) return;
  const color = { field: "optimizer", title: "Optimiser", names: members };
  const tag = (data: Row[][], type: string): Row[] =>
    data.flatMap((rows, i) =>
      rows.filter((r) => r.type === type).map((r) => ({ ...r, optimizer: members[i] })),
    );
  await followFiles(
    container,
    d.id,
    members.map((m) => `members/${m}/metrics.jsonl`),
    [
      {
        key: "members-step-loss",
        spec: lineSpec({
          title: "Training loss per step",
          x: { field: "step", title: "Step", integer: true },
          y: { field: "loss", title: "Loss (log scale)", log: true },
          color,
        }),
        label: `Training loss per step of ${members.join(", ")}`,
        rows: (data) => tag(data, "step").filter((r) => positive(r.loss)),
      },
      {
        key: "members-accuracy",
        spec: lineSpec({
          title: "Test accuracy per epoch",
          x: { field: "epoch", title: "Epoch", integer: true },
          y: { field: "test_accuracy", title: "Test accuracy", format: ".1%" },
          color,
          points: true,
        }),
        label: `Test accuracy per epoch of ${members.join(", ")}`,
        rows: (data) => tag(data, "epoch").filter((r) => typeof r.test_accuracy === "number"),
      },
      {
        key: "members-grad-norm",
        spec: lineSpec({
          title: "Gradient norm per step",
          x: { field: "step", title: "Step", integer: true },
          y: { field: "grad_norm", title: "‖g‖₂ (log scale)", log: true },
          color,
        }),
        label: `Gradient norm per step of ${members.join(", ")}`,
        rows: (data) => tag(data, "step").filter((r) => positive(r.grad_norm)),
      },
      {
        key: "members-memory",
        spec: lineSpec({
          title: "Optimiser state",
          x: { field: "step", title: "Step", integer: true },
          y: { field: "mib", title: "MiB" },
          color,
        }),
        label: `Optimiser state memory of ${members.join(", ")}`,
        rows: (data) =>
          tag(data, "step")
            .filter((r) => typeof r.opt_state_bytes === "number")
            .map((r) => ({ ...r, mib: (r.opt_state_bytes as number) / 2 ** 20 })),
      },
    ],
    live,
  );
}

/** The training-dynamics record: loss, gradient norm, parameter change, weight norm, loss improvement. */
export async function dynamicsView(
  container: HTMLElement,
  d: RunDetail,
  live: () => boolean,
  path = "dynamics.jsonl",
): Promise<void> {
  const member = /^members\/([^/]+)\//.exec(path)?.[1];
  const panel = (key: string, title: string, y: string, log = false): Panel => ({
    key: member ? `dynamics-${member}-${key}` : `dynamics-${key}`,
    spec: lineSpec({
      title,
      x: { field: "epoch", title: "Epoch", integer: true },
      y: { field: key, title: y, log },
      points: true,
    }),
    label: `${title} per epoch${member ? ` of ${member}` : ""}`,
    // The first epoch has no previous loss: its "improvement" of 0 is no measurement.
    rows: ([rows]) =>
      rows
        .filter((r) => r.type === "epoch")
        .filter((r, i) => !(key === "loss_improvement" && i === 0))
        .filter((r) => typeof r[key] === "number" && (!log || positive(r[key]))),
  });
  await followFiles(
    container,
    d.id,
    [path],
    [
      panel("loss", "Loss", "loss"),
      panel("grad_norm", "Gradient norm", "‖g‖₂ (log scale)", true),
      panel("param_change", "Parameter change", "‖θₜ − θₜ₋₁‖"),
      panel("weight_norm", "Weight norm", "‖θₜ‖"),
      panel("loss_improvement", "Loss improvement", "Δ loss"),
    ],
    live,
  );
}
