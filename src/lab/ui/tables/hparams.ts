/**
 * The hyper-parameter table, as in TensorBoard's HParams and W&B's runs table: one row per run,
 * the settings that differ between the runs, then their results; sortable by any column, each
 * run in its colour. Used by the compare page and the sweep page:
 *
 *   hparamTable([{ id, href, color, config, metrics: { "best test accuracy": 0.84 } }, …])
 */
import { param } from "../../../report/format.js";
import { el } from "../dom.js";
import { dataTable, flatten, type Row } from "./data-table.js";

export type HparamRun = {
  id: string;
  /** Link to the run's page. */
  href?: string;
  color?: string;
  /** The run's settings (config.json or a sweep point); nested objects are spread with dots. */
  config: Row;
  /** Results to show after the settings, by name. */
  metrics: Record<string, unknown>;
};

/** Settings that say nothing about how runs differ from each other. */
const NOISE = /^(id|createdAt|command|format|version|paramCount|runsRoot|dataDir|out|resume)$|\.(path|dir)$/;

/** The settings that differ between `runs` (all of them when there is one run), in first-seen order. */
export function varyingKeys(configs: Row[]): string[] {
  const flat = configs.map((c) => flatten(c));
  const keys = [...new Set(flat.flatMap((c) => Object.keys(c)))].filter((k) => !NOISE.test(k));
  if (flat.length < 2) return keys;
  return keys.filter((k) => new Set(flat.map((c) => JSON.stringify(c[k] ?? null))).size > 1);
}

export function hparamTable(runs: HparamRun[], o: { caption?: string; id?: string } = {}): HTMLElement {
  const keys = varyingKeys(runs.map((r) => r.config));
  const metricKeys = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  const rows: Row[] = runs.map((r) => {
    const flat = flatten(r.config);
    return {
      run: r.id,
      ...Object.fromEntries(keys.map((k) => [k, flat[k]])),
      ...r.metrics,
    };
  });
  const numeric = (k: string) =>
    rows.every((r) => r[k] === undefined || r[k] === null || typeof r[k] === "number");
  return dataTable(rows, {
    caption: o.caption,
    id: o.id,
    color: (row) => runs.find((r) => r.id === row.run)?.color,
    columns: [
      {
        key: "run",
        title: "Run",
        format: (v) => {
          const run = runs.find((r) => r.id === v);
          return run?.href ? el("a", { href: run.href, title: String(v) }, String(v)) : String(v);
        },
      },
      ...keys.map((key) => ({ key, numeric: numeric(key), format: (v: unknown) => param(v) })),
      ...metricKeys.map((key) => ({ key, numeric: numeric(key) })),
    ],
  });
}
