/** Jobs started from this lab: state, the end of their output, and a cancel button. */
import { api, type JobRecord } from "../api.js";
import { announce, el } from "../dom.js";

export function jobsPanel(jobs: JobRecord[], onChange: () => void): HTMLElement {
  const items = jobs.map((j) => {
    const cancel =
      j.status === "running" || j.status === "queued"
        ? el("button", { type: "button", class: "secondary", "aria-label": `cancel ${j.label}` }, "Cancel")
        : null;
    cancel?.addEventListener("click", () => {
      cancel.disabled = true;
      void api.cancelJob(j.id).then(() => {
        announce(`Cancelled ${j.label}`);
        onChange();
      });
    });
    return el(
      "li",
      { "data-job": j.id, "data-status": j.status },
      el("span", { class: `badge job-${j.status}` }, j.status),
      " ",
      j.runId ? el("a", { href: `#/runs/${encodeURIComponent(j.runId)}` }, j.label) : j.label,
      " ",
      cancel,
      j.log && j.status === "failed"
        ? el("details", {}, el("summary", {}, "output"), el("pre", { class: "log" }, j.log))
        : null,
    );
  });
  return el(
    "div",
    { class: "card jobs" },
    el("h2", { id: "jobs-title" }, "Jobs started here"),
    el("ul", {}, ...items),
  );
}
