/**
 * The lab's single-page app: hash routes (#/runs, #/runs/<id>, #/compare?runs=a,b, #/playground),
 * each a view that builds its part of the page and stops its timers and streams when left.
 */
import { clear, el } from "./dom.js";
import { compareView } from "./views/compare.js";
import { runView } from "./views/run.js";
import { runsView } from "./views/runs.js";

type View = (root: HTMLElement, signal: AbortSignal) => Promise<void>;

function route(hash: string): { view: View; nav: string; title: string } {
  const [path, query = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "runs" && parts[1])
    return { view: (r, s) => runView(r, s, parts[1]), nav: "runs", title: parts[1] };
  if (parts[0] === "compare") {
    const ids = (new URLSearchParams(query).get("runs") ?? "").split(",").filter(Boolean);
    return { view: (r, s) => compareView(r, s, ids), nav: "runs", title: "Compare runs" };
  }
  if (parts[0] === "sweeps") {
    const load = () => import("./views/sweep.js");
    return parts[1]
      ? {
          view: async (r, s) => (await load()).sweepView(r, s, parts[1]),
          nav: "sweeps",
          title: `Sweep ${parts[1]}`,
        }
      : { view: async (r) => (await load()).sweepsView(r), nav: "sweeps", title: "Sweeps" };
  }
  if (parts[0] === "playground") {
    return {
      view: async (r, s) =>
        (await import("./views/playground.js")).playgroundView(r, s, new URLSearchParams(query)),
      nav: "playground",
      title: "Optimiser playground",
    };
  }
  return { view: runsView, nav: "runs", title: "Runs" };
}

let current: AbortController | undefined;

async function show(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const main = document.getElementById("view")!;
  clear(main);
  const { view, nav, title } = route(location.hash);
  document.title = `${title} · Tiller lab`;
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>("nav a"))) {
    if (a.dataset.nav === nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  try {
    await view(main, controller.signal);
  } catch (e) {
    if (!controller.signal.aborted)
      main.append(
        el("p", { class: "problem", role: "alert" }, `Something went wrong: ${(e as Error).message}`),
      );
  }
}

window.addEventListener("hashchange", () => {
  void show();
  document.getElementById("view")?.focus();
});
void show();
