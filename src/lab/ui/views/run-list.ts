/**
 * The run table's model, free of the DOM: which runs a search shows and in what order. A search is
 * words that must all match (id, model, optimiser, status or a tag), `tag:x` for a tag, `status:x`
 * for a status; sorting is by any column, missing values last.
 */
import type { RunListEntry } from "../api.js";

export type SortKey = "created" | "id" | "model" | "optimizer" | "status" | "best" | "time";
export type Sort = { key: SortKey; descending: boolean };

export const DEFAULT_SORT: Sort = { key: "created", descending: true };

function words(r: RunListEntry): string[] {
  return [r.id, r.model ?? r.command, r.optimizer ?? "", r.status, ...(r.tags ?? [])].map((w) =>
    w.toLowerCase(),
  );
}

export function matches(r: RunListEntry, query: string): boolean {
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((term) => {
      const [field, value] = term.includes(":") ? term.split(/:(.*)/s) : ["", term];
      if (field === "tag") return (r.tags ?? []).some((t) => t.toLowerCase() === value);
      if (field === "status") return r.status === value;
      return words(r).some((w) => w.includes(term));
    });
}

function value(r: RunListEntry, key: SortKey): string | number | undefined {
  switch (key) {
    case "created":
      return r.createdAt;
    case "id":
      return r.id;
    case "model":
      return r.model ?? r.command;
    case "optimizer":
      return r.optimizer;
    case "status":
      return r.status;
    case "best":
      return r.best;
    case "time":
      return r.duration_s;
  }
}

export function sortRuns(runs: RunListEntry[], sort: Sort): RunListEntry[] {
  const sign = sort.descending ? -1 : 1;
  return [...runs].sort((a, b) => {
    const x = value(a, sort.key);
    const y = value(b, sort.key);
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? 1 : -1;
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return sign * c || a.id.localeCompare(b.id);
  });
}
