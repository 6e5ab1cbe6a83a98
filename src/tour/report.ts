/**
 * The tour's one report: every chapter's tables and figures (SVG inlined, no external assets),
 * each number with the run directory and file it was read from, and the provenance of every unit
 * (computed now, continued, or reused from the store).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { reportHtml, type ReportSection } from "../report/html.js";
import type { PlannedUnit, TourScale } from "./plan.js";
import type { UnitOutcome } from "./units.js";

export const CHAPTERS: Record<number, { title: string; intro: string }> = {
  1: {
    title: "1. Initialisers",
    intro:
      "The Fashion-MNIST MLP 784-512-64-10 (ReLU) trained with Adam from each initialiser: the same seed, data order and optimiser. Error rate after training; the spectral columns describe the weight matrices at init.",
  },
  2: {
    title: "2. Optimisers",
    intro:
      "SGD with momentum, Adam and Lion train the same MLP from the same initial weights on the same batches (the book's learning rates).",
  },
  3: {
    title: "3. Landscape of the trained model",
    intro:
      "The Adam run of chapter 2 seen through its loss landscape on a fixed evaluation set: linear interpolation between checkpoints, the top of the Hessian spectrum, a 2-D surface along the top two Hessian eigenvectors with a Gaussian fitted to it and optimiser paths on the fit, and the training dynamics recorded while it trained.",
  },
  4: {
    title: "4. Curvature Tuning on a transfer task",
    intro:
      "A source MLP trained on Fashion-MNIST classes 0–4 is steered to classes 5–9. Linear probe + CT replaces every ReLU by CTU(β, c = 0.5) and fits a new head per β, β chosen on validation; the other methods train more parameters.",
  },
  5: {
    title: "5. Transformer² on the task suite",
    intro:
      "A small character-level decoder LM is pretrained on the task mixture (math, code, reasoning); an SVF expert (one vector scaling the singular values of each MLP matrix) is trained per task by REINFORCE. Test accuracy by exact match with greedy decoding, on the training tasks and on the held-out ones (scored with the base model). Then Transformer² adapts to a held-out task it has no expert for: the few-shot strategy searches, by the cross-entropy method on a handful of labelled examples, the mixture α of the three experts' z-vectors, and answers the test questions with the mixed weights.",
  },
};

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
