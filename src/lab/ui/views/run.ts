/**
 * One run: status and progress, live training curves (server-sent events from metrics.jsonl),
 * the views of its analyses, every figure it wrote, its config and files.
 */
import {
  api,
  ApiError,
  fileUrl,
  followRun,
  type EpochEvent,
  type MetricEvent,
  type RunDetail,
  type StepEvent,
} from "../api.js";
import type { VisualizationSpec } from "vega-embed";
import { lineSpec, liveChart, positive, splitColor, type LiveChart } from "../charts/vega.js";
import { announce, clear, duration, el, pct, put } from "../dom.js";
import { analysisViews } from "./analyses.js";
import { sleep, statusBadge } from "./runs.js";

export async function runView(root: HTMLElement, signal: AbortSignal, id: string): Promise<void> {
  const detail = await waitForRun(root, signal, id);
  if (!detail) return;
  const header = el("header", { class: "run-header" });
  const curves = el(
    "section",
    { class: "card", "aria-labelledby": "curves-title" },
    el("h2", { id: "curves-title" }, "Training curves"),
  );
  const summary = el("p", {
    class: "chart-summary",
    role: "status",
    "aria-live": "polite",
    id: "live-summary",
  });
  const grid = el("div", { class: "chart-grid" });
  curves.append(summary, grid);
  curves.hidden = true; // until there is a curve to show (comparisons and analyses have none of their own)
  const analyses = el("section", { id: "analyses" });
  const figures = el("section", { class: "card", "aria-labelledby": "figures-title" });
  const config = el("section", { class: "card", "aria-labelledby": "config-title" });
  const files = el("section", { class: "card", "aria-labelledby": "files-title" });
  root.append(header, curves, analyses, figures, config, files);

  const renderStatic = (d: RunDetail) => {
    renderHeader(header, d);
    renderFigures(figures, d);
    renderConfig(config, d);
    renderFiles(files, d);
  };
  renderStatic(detail);
  // A fresh box per drawing: a drawing still loading when a newer one starts fills a detached box.
  const drawAnalyses = (d: RunDetail) => {
    const box = el("div");
    analyses.replaceChildren(box);
    void analysisViews(box, d);
  };
  drawAnalyses(detail);
  const startedRunning = detail.status === "running";

  const steps: StepEvent[] = [];
  const epochs = new Map<number, EpochEvent>();
  const charts: { stepLoss?: LiveChart; loss?: LiveChart; accuracy?: LiveChart; gradNorm?: LiveChart } = {};
  const slot = (name: string) => {
    const div = el("div", { id: `chart-${name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}` });
    grid.append(div);
    return div;
  };
  let drawing = Promise.resolve();
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    drawing = drawing.then(async () => {
      pending = false;
      if (signal.aborted) return;
      const stepRows = steps
        .filter((s) => positive(s.loss))
        .map((s) => ({ step: s.step, epoch: s.epoch, loss: s.loss }));
      const ep = [...epochs.values()].sort((a, b) => a.epoch - b.epoch);
      const long = ep.flatMap((e) => [
        { epoch: e.epoch, split: "train", loss: e.train_loss, accuracy: e.train_accuracy },
        { epoch: e.epoch, split: "test", loss: e.test_loss, accuracy: e.test_accuracy },
      ]);
      const gradRows = steps
        .filter((s) => positive(s.grad_norm))
        .map((s) => ({ step: s.step, grad_norm: s.grad_norm }));
      const draw = async (
        key: keyof typeof charts,
        spec: () => VisualizationSpec,
        rows: object[],
        label: string,
      ) => {
        if (!charts[key] && rows.length === 0) return;
        curves.hidden = false; // before drawing: a chart sized to its container measures it now
        if (charts[key]) await charts[key].update(rows);
        else charts[key] = await liveChart(slot(key), spec(), rows, label);
      };
      await draw(
        "stepLoss",
        () =>
          lineSpec({
            title: "Training loss per step",
            x: { field: "step", title: "Step" },
            y: { field: "loss", title: "Loss (log scale)", log: true },
          }),
        stepRows,
        "Training loss per logged step, log scale",
      );
      await draw(
        "loss",
        () =>
          lineSpec({
            title: "Loss per epoch",
            x: { field: "epoch", title: "Epoch", integer: true },
            y: { field: "loss", title: "Loss" },
            color: splitColor,
            points: true,
          }),
        long.filter((r) => typeof r.loss === "number"),
        "Train and test loss per epoch",
      );
      await draw(
        "accuracy",
        () =>
          lineSpec({
            title: "Accuracy per epoch",
            x: { field: "epoch", title: "Epoch", integer: true },
            y: { field: "accuracy", title: "Accuracy", format: ".1%" },
            color: splitColor,
            points: true,
          }),
        long.filter((r) => typeof r.accuracy === "number"),
        "Train and test accuracy per epoch",
      );
      await draw(
        "gradNorm",
        () =>
          lineSpec({
            title: "Gradient norm per step",
            x: { field: "step", title: "Step" },
            y: { field: "grad_norm", title: "‖g‖₂ (log scale)", log: true },
          }),
        gradRows,
        "Global gradient norm per logged step, log scale",
      );
      const last = steps.at(-1);
      const lastEpoch = ep.at(-1);
      summary.textContent =
        (last
          ? `Step ${last.step} (epoch ${last.epoch}): loss ${fmt(last.loss)}. `
          : "No steps logged yet. ") +
        (lastEpoch
          ? `Epoch ${lastEpoch.epoch}: test accuracy ${pct(lastEpoch.test_accuracy)}, test loss ${fmt(lastEpoch.test_loss)}.`
          : "");
    });
  };

  const stop = followRun(id, {
    onMetrics(events: MetricEvent[]) {
      for (const e of events) {
        if (e.type === "step") steps.push(e as StepEvent);
        else if (e.type === "epoch") epochs.set((e as EpochEvent).epoch, e as EpochEvent);
      }
      redraw();
    },
    onReset() {
      steps.length = 0;
      epochs.clear();
    },
    onStatus(s) {
      if (s.status && s.status !== detail.status) {
        announce(`Run ${id}: ${s.status}`);
        void api.run(id).then((d) => {
          Object.assign(detail, d);
          renderStatic(d);
        });
      }
    },
    onEnd() {
      // A run that finished while we watched writes its report figures after the last metrics line.
      if (!startedRunning) return;
      void sleep(1500, signal).then(async () => {
        if (signal.aborted) return;
        const d = await api.run(id);
        Object.assign(detail, d);
        renderStatic(d);
        drawAnalyses(d);
      });
    },
  });
  // While the run trains or a job works on it: refresh the header (progress) and the job's output,
  // and redraw figures and analyses when new files appear (a surface job writes into this run).
  const jobLog = el("pre", { class: "log job-log", "aria-label": "the job's latest output", hidden: true });
  header.after(jobLog);
  const busy = (d: RunDetail) =>
    d.status === "running" || d.job?.status === "running" || d.job?.status === "queued";
  void (async () => {
    let files = detail.files.map((f) => `${f.path}:${f.bytes}`).join();
    while (!signal.aborted && busy(detail)) {
      await sleep(2000, signal);
      if (signal.aborted) break;
      try {
        const d = await api.run(id);
        Object.assign(detail, d);
        renderHeader(header, d);
        const job = d.job && d.job.status !== "done" ? await api.job(d.job.id) : undefined;
        jobLog.hidden = !job?.log;
        if (job?.log) jobLog.textContent = job.log.split("\n").slice(-8).join("\n");
        const now = d.files.map((f) => `${f.path}:${f.bytes}`).join();
        if (now !== files && !busy(d)) {
          files = now;
          renderStatic(d);
          drawAnalyses(d);
        }
      } catch {
        // transient: the next poll will tell
      }
    }
  })();
  signal.addEventListener("abort", () => {
    stop();
    for (const c of Object.values(charts)) c?.finalize();
  });
}

/** A run a job was just asked for may not exist for a second or two; wait for it then. */
async function waitForRun(
  root: HTMLElement,
  signal: AbortSignal,
  id: string,
): Promise<RunDetail | undefined> {
  const note = el("p", { role: "status" }, "Loading…");
  root.append(note);
  for (let tries = 0; !signal.aborted; tries++) {
    try {
      const d = await api.run(id);
      note.remove();
      return d;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404 || tries > 120) {
        note.textContent = `Cannot show run ${id}: ${(e as Error).message}`;
        return undefined;
      }
      const { jobs } = await api.jobs();
      const job = jobs.find((j) => j.runId === id);
      if (!job || !["queued", "running"].includes(job.status)) {
        note.textContent = job
          ? `The job for ${id} ${job.status} before the run started.`
          : `No run "${id}".`;
        if (job?.log) root.append(el("pre", { class: "log" }, job.log));
        return undefined;
      }
      note.textContent =
        job.status === "queued" ? "Waiting for the jobs before this one…" : "Starting the training process…";
      await sleep(500, signal);
    }
  }
  return undefined;
}

function renderHeader(header: HTMLElement, d: RunDetail): void {
  clear(header);
  const facts = [
    d.model ? `${d.model}` : d.command,
    d.optimizer ? `${d.optimizer}${d.lr !== undefined ? ` lr ${d.lr}` : ""}` : null,
    d.best !== undefined ? `best test accuracy ${pct(d.best)}` : null,
    d.duration_s !== undefined ? duration(d.duration_s) : null,
  ].filter(Boolean);
  const cancel =
    d.job && (d.job.status === "running" || d.job.status === "queued")
      ? el("button", { type: "button", class: "secondary", id: "cancel-job" }, "Stop this job")
      : null;
  cancel?.addEventListener("click", () => {
    cancel.disabled = true;
    void api
      .cancelJob(d.job!.id)
      .then(() => announce("Stopping: the run will finish its current step and be marked interrupted."));
  });
  put(
    header,
    el("p", { class: "crumbs" }, el("a", { href: "#/runs" }, "Runs"), " / "),
    el("h1", {}, d.id, " ", statusBadge(d)),
    el("p", { class: "facts" }, facts.join(" · ")),
    d.reason ? el("p", { class: "reason" }, d.reason) : null,
    d.progress && d.status === "running"
      ? el(
          "p",
          {},
          el("progress", {
            max: 1,
            value: d.progress.fraction.toFixed(4),
            "aria-label": "training progress",
          }),
          ` ${Math.round(100 * d.progress.fraction)}% · epoch ${d.progress.epoch}/${d.progress.epochs}`,
        )
      : null,
    cancel,
  );
}

function renderFigures(section: HTMLElement, d: RunDetail): void {
  clear(section);
  const figs = d.files.filter((f) => f.kind === "figure");
  section.append(el("h2", { id: "figures-title" }, `Figures (${figs.length})`));
  if (!figs.length) {
    section.append(
      el(
        "p",
        { class: "empty" },
        "This run has no figures yet: analyses write them into its figures/ folder.",
      ),
    );
    return;
  }
  const gallery = el("div", { class: "gallery" });
  for (const f of figs) {
    const name = f.path
      .split("/")
      .pop()!
      .replace(/\.(svg|png)$/, "");
    gallery.append(
      el(
        "figure",
        {},
        el(
          "a",
          { href: fileUrl(d.id, f.path), target: "_blank", rel: "noopener" },
          el("img", {
            src: `${fileUrl(d.id, f.path)}?v=${f.bytes}`,
            alt: `${name.replace(/[-_]/g, " ")} (figure)`,
            loading: "lazy",
          }),
        ),
        el("figcaption", {}, f.path),
      ),
    );
  }
  section.append(gallery);
}

function renderConfig(section: HTMLElement, d: RunDetail): void {
  clear(section);
  section.append(
    el("h2", { id: "config-title" }, "Config"),
    el("pre", { class: "config" }, JSON.stringify(d.config, null, 2)),
  );
}

function renderFiles(section: HTMLElement, d: RunDetail): void {
  clear(section);
  section.append(
    el("h2", { id: "files-title" }, "Files"),
    el(
      "ul",
      { class: "files" },
      ...d.files.map((f) =>
        el(
          "li",
          {},
          el("a", { href: fileUrl(d.id, f.path), target: "_blank", rel: "noopener" }, f.path),
          ` · ${(f.bytes / 1024).toFixed(1)} KiB`,
        ),
      ),
    ),
  );
}

function fmt(x: number | null | undefined): string {
  return typeof x === "number" && Number.isFinite(x) ? x.toPrecision(4) : "–";
}
