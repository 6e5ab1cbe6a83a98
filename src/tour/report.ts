/**
 * The tour's one report: every chapter's tables and figures (SVG inlined, no external assets),
 * each number with the run directory and file it was read from, and the provenance of every unit
 * (computed now, continued, or reused from the store).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { reportHtml, type ReportSection } from "../report/html.js";
import type { PlannedUnit, TourScale } from "./plan.js";
import { CHAPTERS, type UnitOutcome } from "./units/index.js";

export type TourReportInput = {
  root: string;
  scale: TourScale;
  planned: PlannedUnit[];
  outcomes: UnitOutcome[];
  /** What happened this time to each unit (run, resume, reuse…). */
  actions: Record<string, string>;
  seconds: number;
  /** Extra notes per chapter (e.g. why a part is not included). */
  notes?: Record<number, string[]>;
};

function svgOf(root: string, file: string): string {
  return readFileSync(join(root, file), "utf8");
}

export function tourReportHtml(input: TourReportInput): string {
  const { root, outcomes } = input;
  const sections: ReportSection[] = [];
  const byChapter = new Map<number, UnitOutcome[]>();
  for (const p of input.planned) {
    const o = outcomes.find((x) => x.id === p.id);
    if (!o) continue;
    byChapter.set(p.unit.chapter, [...(byChapter.get(p.unit.chapter) ?? []), o]);
  }
  for (const [chapter, list] of [...byChapter.entries()].sort((a, b) => a[0] - b[0])) {
    const info = CHAPTERS[chapter];
    const text = [
      info.intro,
      ...list.map(
        (o) =>
          `${o.unit} — run tour/${o.id} (${input.actions[o.id] ?? "reused"}; computed in ${o.seconds.toFixed(1)} s):\n${o.lines.join("; ")}.`,
      ),
      ...(info.atThisScale?.(input.scale, list) ?? []),
      ...(input.notes?.[chapter] ?? []),
    ].join("\n\n");
    const tables = list.flatMap((o) => o.tables);
    const figures = list.flatMap((o) =>
      o.figures.map((f) => ({ svg: svgOf(root, f.file), caption: `${f.caption} [tour/${f.file}]` })),
    );
    sections.push({
      heading: info.title,
      text,
      ...(tables[0] ? { table: { columns: tables[0].columns, rows: tables[0].rows } } : {}),
      figures,
    });
    if (tables[0]) sections[sections.length - 1].text += `\n\nTable numbers from tour/${tables[0].source}.`;
    for (const t of tables.slice(1))
      sections.push({
        heading: `${info.title} (continued)`,
        text: `Numbers from tour/${t.source}.`,
        table: { columns: t.columns, rows: t.rows },
      });
  }
  sections.push({
    heading: "Provenance",
    text: `Every unit is a run directory under ${root}, named by the unit and a hash of its settings (and of the units it reads); re-running the tour with the same settings reuses finished units, --fresh recomputes them. Open them in the lab with: tiller lab --runs ${root}`,
    table: {
      columns: ["unit", "run directory", "this time", "computed in s", "finished at"],
      rows: input.planned.map((p) => {
        const o = outcomes.find((x) => x.id === p.id);
        return [
          p.unit.name,
          `tour/${p.id}`,
          input.actions[p.id] ?? p.action,
          o ? o.seconds.toFixed(1) : "—",
          o?.finishedAt ?? "—",
        ];
      }),
    },
  });
  return reportHtml({
    title: "The Tiller tour",
    subtitle: `Fashion-MNIST and the task suite at the "${input.scale}" scale · this invocation ${input.seconds.toFixed(0)} s`,
    sections,
    footer: `tiller tour --scale ${input.scale} · runs in ${root}`,
  });
}
