/** The run list: every run with its status and progress, a compare selection, and the job form. */
import { api, type Options, type RunListEntry } from "../api.js";
import { announce, clear, duration, el, pct } from "../dom.js";
import { jobForm } from "./job-form.js";
import { jobsPanel } from "./jobs.js";

const REFRESH_MS = 1500;

export async function runsView(root: HTMLElement, signal: AbortSignal): Promise<void> {
  const options = await api.options();
  const table = el("div", { id: "run-table" });
  const problems = el("div", { class: "problems", role: "status" });
  const compareButton = el(
    "button",
    { type: "button", id: "compare-selected", disabled: true },
    "Compare selected runs",
  );
  const selected = new Set<string>();
  compareButton.addEventListener("click", () => {
    location.hash = `#/compare?runs=${[...selected].map(encodeURIComponent).join(",")}`;
  });
  const jobs = el("section", { "aria-labelledby": "jobs-title" });
  root.append(
    el("h1", {}, "Runs"),
    el(
      "details",
      { class: "card", id: "new-job" },
      el("summary", {}, "Start a job: train, compare optimisers, compute a loss surface"),
      jobForm(
        options as Options,
        () => latest,
        (runId) => {
          location.hash = `#/runs/${encodeURIComponent(runId)}`;
        },
      ),
    ),
    jobs,
    el(
      "div",
      { class: "toolbar" },
      compareButton,
      el("span", { class: "hint" }, "Tick two or more runs to compare them."),
    ),
    table,
    problems,
  );

  let shown = "";
  const render = (runs: RunListEntry[]) => {
    // Redraw only on change, and give focus back to the same control, so keyboard users keep their place.
    const signature = JSON.stringify(runs.map(({ idle_s: _, ...r }) => r));
    if (signature === shown) return;
    shown = signature;
    const active = document.activeElement;
    const focusKey = active?.closest("tr")?.getAttribute("data-run");
    const focusTag = active?.tagName;
    for (const id of [...selected]) if (!runs.some((r) => r.id === id)) selected.delete(id);
    compareButton.disabled = selected.size < 2;
    clear(table);
    if (runs.length === 0) {
      table.append(
        el(
          "p",
          { class: "empty" },
          "No runs yet. Start one above, or run ",
          el("code", {}, "tiller train"),
          ".",
        ),
      );
      return;
    }
    const body = el("tbody");
    for (const r of runs) {
      const box = el("input", { type: "checkbox", "aria-label": `select ${r.id} for comparison` });
      box.checked = selected.has(r.id);
      box.addEventListener("change", () => {
        if (box.checked) selected.add(r.id);
        else selected.delete(r.id);
        compareButton.disabled = selected.size < 2;
      });
      body.append(
        el(
          "tr",
          { "data-run": r.id, "data-status": r.status },
          el("td", {}, box),
          el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
          el("td", {}, r.model ?? r.command),
          el("td", {}, r.optimizer ? `${r.optimizer}${r.lr !== undefined ? ` ${r.lr}` : ""}` : "–"),
          el("td", {}, statusBadge(r)),
          el("td", {}, progressCell(r)),
          el("td", { class: "num" }, pct(r.best)),
          el("td", { class: "num" }, duration(r.duration_s)),
        ),
      );
    }
    table.append(
      el(
        "table",
        { class: "runs" },
        el("caption", { class: "sr-only" }, "Runs in the run store, newest first"),
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            ...["Compare", "Run", "Model", "Optimiser", "Status", "Progress", "Best test acc.", "Time"].map(
              (h) => el("th", { scope: "col" }, h),
            ),
          ),
        ),
        body,
      ),
    );
    if (focusKey && focusTag) {
      const row = Array.from(body.querySelectorAll("tr")).find((tr) => tr.dataset.run === focusKey);
      (row?.querySelector(focusTag.toLowerCase()) as HTMLElement | null)?.focus();
    }
  };

  let latest: RunListEntry[] = [];
  let first = true;
  while (!signal.aborted) {
    try {
      const [{ runs, problems: p }, { jobs: list }] = await Promise.all([api.runs(), api.jobs()]);
      latest = runs;
      render(runs);
      clear(problems);
      for (const line of p) problems.append(el("p", {}, `Could not read ${line}`));
      clear(jobs);
      if (list.length) jobs.append(jobsPanel(list, () => void 0));
      if (first) announce(`${runs.length} runs`);
      first = false;
    } catch (e) {
      clear(problems);
      problems.append(el("p", {}, `The lab server did not answer: ${(e as Error).message}`));
    }
    await sleep(REFRESH_MS, signal);
  }
}

export function statusBadge(r: { status: string; reason?: string; idle_s?: number }): HTMLElement {
  const stalled = r.status === "running" && (r.idle_s ?? 0) > 300;
  const label = stalled ? "running (no update for 5 min)" : r.status;
  return el("span", { class: `badge status-${r.status}`, title: r.reason ?? label }, label);
}

function progressCell(r: RunListEntry): HTMLElement | string {
  if (!r.progress) return "–";
  const p = r.progress;
  if (r.status !== "running") return `${p.epoch}/${p.epochs} epochs`;
  const text = p.steps
    ? `step ${p.step}/${p.steps} · epoch ${p.epoch}/${p.epochs}`
    : `epoch ${p.epoch}/${p.epochs}`;
  return el(
    "span",
    { class: "progress" },
    el("progress", { max: 1, value: p.fraction.toFixed(4), "aria-label": `${r.id} progress: ${text}` }),
    el("span", {}, ` ${Math.round(100 * p.fraction)}% · ${text}`),
  );
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
