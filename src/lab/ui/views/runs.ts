/** The run list: every run with its status and progress, a compare selection, and the job form. */
import { api, type Options, type RunListEntry } from "../api.js";
import { param } from "../../../report/format.js";
import { announce, clear, duration, el, pct } from "../dom.js";
import { jobForm } from "./job-form.js";
import { jobsPanel } from "./jobs.js";
import { DEFAULT_SORT, matches, sortRuns, type Sort, type SortKey } from "./run-list.js";

const REFRESH_MS = 1500;

type State = { query: string; sort: Sort; selected: Set<string> };

const COLUMNS: [string, SortKey | null][] = [
  ["Compare", null],
  ["Run", "id"],
  ["Model", "model"],
  ["Optimiser", "optimizer"],
  ["Status", "status"],
  ["Tags", null],
  ["Progress", null],
  ["Best test acc.", "best"],
  ["Time", "time"],
];

export async function runsView(root: HTMLElement, signal: AbortSignal): Promise<void> {
  const options = await api.options();
  const params = new URLSearchParams(location.hash.split("?")[1] ?? "");
  const state: State = { query: params.get("q") ?? "", sort: DEFAULT_SORT, selected: new Set() };
  const table = el("div", { id: "run-table" });
  const problems = el("div", { class: "problems", role: "status" });
  const compareButton = el(
    "button",
    { type: "button", id: "compare-selected", disabled: true },
    "Compare selected runs",
  );
  compareButton.addEventListener("click", () => {
    location.hash = `#/compare?runs=${[...state.selected].map(encodeURIComponent).join(",")}`;
  });
  const search = el("input", {
    type: "search",
    id: "run-search",
    placeholder: "Search runs: adam, tag:baseline, status:done",
    "aria-label": "Search runs by id, model, optimiser, status or tag",
    value: state.query,
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
      search,
    ),
    table,
    problems,
  );

  let latest: RunListEntry[] = [];
  let shown = "";
  const render = (force = false) => {
    // Redraw only on change, and give focus back to the same control, so keyboard users keep their place.
    const signature = JSON.stringify([latest.map(({ idle_s: _, ...r }) => r), state.query, state.sort]);
    if (signature === shown && !force) return;
    shown = signature;
    const active = document.activeElement;
    const focusKey = active?.closest("tr")?.getAttribute("data-run");
    const focusTag = active?.tagName;
    for (const id of [...state.selected]) if (!latest.some((r) => r.id === id)) state.selected.delete(id);
    compareButton.disabled = state.selected.size < 2;
    table.replaceChildren(
      runTable(latest, state, {
        onSelect: () => (compareButton.disabled = state.selected.size < 2),
        onSort: () => render(true),
        onTags: refresh,
      }),
    );
    if (focusKey && focusTag) {
      const row = Array.from(table.querySelectorAll("tr")).find((tr) => tr.dataset.run === focusKey);
      (row?.querySelector(focusTag.toLowerCase()) as HTMLElement | null)?.focus();
    }
  };
  search.addEventListener("input", () => {
    state.query = search.value;
    const q = state.query ? `?q=${encodeURIComponent(state.query)}` : "";
    history.replaceState(null, "", `#/runs${q}`);
    render();
  });

  let first = true;
  async function refresh(): Promise<void> {
    try {
      const [{ runs, problems: p }, { jobs: list }] = await Promise.all([api.runs(), api.jobs()]);
      latest = runs;
      render();
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
  }
  while (!signal.aborted) {
    await refresh();
    await sleep(REFRESH_MS, signal);
  }
}

type TableHandlers = { onSelect(): void; onSort(): void; onTags(): Promise<void> };

function runTable(all: RunListEntry[], state: State, h: TableHandlers): HTMLElement {
  if (all.length === 0)
    return el(
      "p",
      { class: "empty" },
      "No runs yet. Start one above, or run ",
      el("code", {}, "tiller train"),
      ".",
    );
  const runs = sortRuns(
    all.filter((r) => matches(r, state.query)),
    state.sort,
  );
  const body = el("tbody");
  for (const r of runs) body.append(runRow(r, state, h));
  const head = el(
    "tr",
    {},
    ...COLUMNS.map(([title, key]) => {
      if (!key) return el("th", { scope: "col" }, title);
      const on = state.sort.key === key;
      const button = el("button", { type: "button", class: "sort", "data-sort": key }, title);
      button.addEventListener("click", () => {
        state.sort = { key, descending: on ? !state.sort.descending : key === "best" || key === "time" };
        h.onSort();
      });
      return el(
        "th",
        { scope: "col", ...(on ? { "aria-sort": state.sort.descending ? "descending" : "ascending" } : {}) },
        button,
      );
    }),
  );
  return el(
    "div",
    {},
    el("p", { class: "hint", id: "run-count" }, `${runs.length} of ${all.length} runs`),
    el(
      "table",
      { class: "runs" },
      el("caption", { class: "sr-only" }, "Runs in the run store"),
      el("thead", {}, head),
      body,
    ),
  );
}

function runRow(r: RunListEntry, state: State, h: TableHandlers): HTMLElement {
  const box = el("input", { type: "checkbox", "aria-label": `select ${r.id} for comparison` });
  box.checked = state.selected.has(r.id);
  box.addEventListener("change", () => {
    if (box.checked) state.selected.add(r.id);
    else state.selected.delete(r.id);
    h.onSelect();
  });
  return el(
    "tr",
    { "data-run": r.id, "data-status": r.status },
    el("td", {}, box),
    el("td", {}, el("a", { href: `#/runs/${encodeURIComponent(r.id)}` }, r.id)),
    el("td", {}, r.model ?? r.command),
    el("td", {}, r.optimizer ? `${r.optimizer}${r.lr !== undefined ? ` ${param(r.lr)}` : ""}` : "–"),
    el("td", {}, statusBadge(r)),
    el("td", {}, tagCell(r, h.onTags)),
    el("td", {}, progressCell(r)),
    el("td", { class: "num" }, pct(r.best)),
    el("td", { class: "num" }, duration(r.duration_s)),
  );
}

/** The run's tags as chips (a click on one removes it) and a field to add one. */
function tagCell(r: RunListEntry, changed: () => Promise<void>): HTMLElement {
  const tags = r.tags ?? [];
  const save = async (next: string[]) => {
    try {
      await api.setTags(r.id, next);
      announce(`Tags of ${r.id}: ${next.join(", ") || "none"}`);
    } catch (e) {
      announce(`Could not save the tags: ${(e as Error).message}`);
    }
    await changed();
  };
  const chips = tags.map((t) => {
    const chip = el(
      "button",
      {
        type: "button",
        class: "tag",
        title: `remove tag ${t}`,
        "aria-label": `remove tag ${t} from ${r.id}`,
      },
      t,
      " ×",
    );
    chip.addEventListener("click", () => void save(tags.filter((x) => x !== t)));
    return chip;
  });
  const input = el("input", {
    type: "text",
    class: "tag-input",
    size: 6,
    placeholder: "+ tag",
    "aria-label": `add a tag to ${r.id}`,
  });
  input.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || !input.value.trim()) return;
    void save([...tags, ...input.value.trim().split(/[\s,]+/)]);
  });
  return el("span", { class: "tags" }, ...chips, input);
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
