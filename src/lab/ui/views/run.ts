/**
 * One run: status and progress, live training curves (server-sent events from metrics.jsonl),
 * the views of its analyses, every figure it wrote, its config and files. A run that analyses
 * another (the tour's landscape run, whose subject is a member of the optimiser comparison) links
 * to it and shows the subject's results here too.
 */
import { api, ApiError, fileUrl, followRun, type MetricEvent, type RunDetail } from "../api.js";
import { announce, bytes, clear, duration, el, param, pct, put } from "../dom.js";
import { analysisViews } from "./analyses.js";
import { progressOf } from "./progress.js";
import { liveCurves, type LiveCurves } from "./run-curves.js";
import { sleep, statusBadge } from "./runs.js";

type Sections = {
  header: HTMLElement;
  progress: HTMLElement;
  jobLog: HTMLElement;
  analyses: HTMLElement;
  subject: HTMLElement;
  figures: HTMLElement;
  config: HTMLElement;
  files: HTMLElement;
};

export async function runView(root: HTMLElement, signal: AbortSignal, id: string): Promise<void> {
  const detail = await waitForRun(root, signal, id);
  if (!detail) return;
  const card = (title: string, key: string) =>
    el(
      "section",
      { class: "card", "aria-labelledby": `${key}-title`, id: key },
      el("h2", { id: `${key}-title` }, title),
    );
  const curvesCard = card("Training curves", "curves");
  curvesCard.hidden = true; // until there is a curve to show (comparisons and analyses have none of their own)
  const curves = liveCurves(() => (curvesCard.hidden = false));
  curvesCard.append(curves.element);
  const s: Sections = {
    header: el("header", { class: "run-header" }),
    progress: el("p", { id: "run-progress" }),
    jobLog: el("pre", { class: "log job-log", "aria-label": "the job's latest output", hidden: true }),
    analyses: el("section", { id: "analyses" }),
    subject: el("section", { id: "subject" }),
    figures: el("section", { class: "card", "aria-labelledby": "figures-title" }),
    config: el("section", { class: "card", "aria-labelledby": "config-title" }),
    files: el("section", { class: "card", "aria-labelledby": "files-title" }),
  };
  root.append(
    s.header,
    s.progress,
    s.jobLog,
    curvesCard,
    s.analyses,
    s.subject,
    s.figures,
    s.config,
    s.files,
  );
  renderStatic(s, detail);
  drawAnalyses(s, detail);
  void drawSubject(s.subject, detail);

  const startedRunning = detail.status === "running";
  const stop = followRun(id, {
    onMetrics(events: MetricEvent[]) {
      curves.add(events);
      renderProgress(s.progress, detail, curves);
    },
    onReset: () => curves.reset(),
    onStatus(st) {
      if (st.status && st.status !== detail.status) {
        announce(`Run ${id}: ${st.status}`);
        void api.run(id).then((d) => {
          Object.assign(detail, d);
          renderStatic(s, d);
          renderProgress(s.progress, d, curves);
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
        renderStatic(s, d);
        renderProgress(s.progress, d, curves);
        drawAnalyses(s, d);
      });
    },
  });
  void followWhileBusy(s, detail, curves, signal);
  signal.addEventListener("abort", () => {
    stop();
    curves.finalize();
  });
}

function renderStatic(s: Sections, d: RunDetail): void {
  renderHeader(s.header, d);
  renderFigures(s.figures, d, d.files);
  renderConfig(s.config, d);
  renderFiles(s.files, d);
}

/** A fresh box per drawing: a drawing still loading when a newer one starts fills a detached box. */
function drawAnalyses(s: Sections, d: RunDetail): void {
  const box = el("div");
  s.analyses.replaceChildren(box);
  void analysisViews(box, d);
}

const busy = (d: RunDetail) =>
  d.status === "running" || d.job?.status === "running" || d.job?.status === "queued";

/**
 * While the run trains or a job works on it: refresh the header, progress, file sizes and the
 * job's output, and redraw figures and analyses when new files appear (a surface job writes into
 * this run).
 */
async function followWhileBusy(s: Sections, detail: RunDetail, curves: LiveCurves, signal: AbortSignal) {
  let files = detail.files.map((f) => `${f.path}:${f.bytes}`).join();
  while (!signal.aborted && busy(detail)) {
    await sleep(2000, signal);
    if (signal.aborted) break;
    try {
      const d = await api.run(detail.id);
      Object.assign(detail, d);
      renderHeader(s.header, d);
      renderProgress(s.progress, d, curves);
      renderFiles(s.files, d);
      const job = d.job && d.job.status !== "done" ? await api.job(d.job.id) : undefined;
      s.jobLog.hidden = !job?.log;
      if (job?.log) s.jobLog.textContent = job.log.split("\n").slice(-8).join("\n");
      const now = d.files.map((f) => `${f.path}:${f.bytes}`).join();
      if (now !== files && !busy(d)) {
        files = now;
        renderStatic(s, d);
        drawAnalyses(s, d);
      }
    } catch {
      // transient: the next poll will tell
    }
  }
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
    d.optimizer ? `${d.optimizer}${d.lr !== undefined ? ` lr ${param(d.lr)}` : ""}` : null,
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
    cancel,
  );
}

function renderProgress(box: HTMLElement, d: RunDetail, curves: LiveCurves): void {
  const p = progressOf(d, curves.seen());
  if (!p || d.status !== "running") return void box.replaceChildren();
  const text = `${Math.round(100 * p.fraction)}% · ${p.steps ? `step ${p.step}/${p.steps} · ` : ""}epoch ${p.epoch}/${p.epochs}`;
  box.replaceChildren(
    el("progress", { max: 1, value: p.fraction.toFixed(4), "aria-label": "training progress" }),
    ` ${text}`,
  );
}

function renderFigures(
  section: HTMLElement,
  d: RunDetail,
  files: RunDetail["files"],
  title = "Figures",
  id = "figures-title",
): void {
  clear(section);
  const figs = files.filter((f) => f.kind === "figure");
  // A run that shows its subject's figures needs no empty gallery of its own.
  section.hidden = !figs.length && !!subjectOf(d.config) && id === "figures-title";
  section.append(el("h2", { id }, `${title} (${figs.length})`));
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

/** The run another run analyses: "<run>" or "<run>/members/<name>" (the tour's landscape subject). */
function subjectOf(config: Record<string, unknown>): { run: string; prefix: string } | undefined {
  const subject = config.subject;
  if (typeof subject !== "string") return undefined;
  const m = /^([A-Za-z0-9_][A-Za-z0-9._-]*)((?:\/members\/[A-Za-z0-9._-]+)?)$/.exec(subject);
  return m ? { run: m[1], prefix: m[2] ? `${m[2].slice(1)}/` : "" } : undefined;
}

/** The subject's analyses and figures, on this run's page. */
async function drawSubject(section: HTMLElement, d: RunDetail): Promise<void> {
  const subject = subjectOf(d.config);
  if (!subject) return;
  let other: RunDetail;
  try {
    other = await api.run(subject.run);
  } catch {
    return;
  }
  const files = other.files.filter((f) => f.path.startsWith(subject.prefix));
  const href = `#/runs/${encodeURIComponent(subject.run)}`;
  const figures = el("section", { class: "card", "aria-labelledby": "subject-figures-title" });
  renderFigures(figures, other, files, "Figures of the subject", "subject-figures-title");
  const analyses = el("div");
  section.replaceChildren(
    el(
      "p",
      { class: "facts", id: "subject-link" },
      "Results computed on ",
      el("a", { href }, `${subject.run}${subject.prefix ? ` / ${subject.prefix.replace(/\/$/, "")}` : ""}`),
      ", shown below.",
    ),
    analyses,
    figures,
  );
  // The subject's own result files only (not the comparison its parent run made).
  await analysisViews(analyses, { ...other, config: {}, files: files.filter((f) => f.kind !== "figure") });
}

function renderConfig(section: HTMLElement, d: RunDetail): void {
  clear(section);
  const subject = subjectOf(d.config);
  put(
    section,
    el("h2", { id: "config-title" }, "Config"),
    subject
      ? el(
          "p",
          {},
          "Subject: ",
          el("a", { href: `#/runs/${encodeURIComponent(subject.run)}` }, String(d.config.subject)),
        )
      : null,
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
          ` · ${bytes(f.bytes)}`,
        ),
      ),
    ),
  );
}
