/**
 * What every chapter of the tour shares: a unit's context and outcome, the chapter's words as data,
 * progress adapters and number formats. Each chapter file in this folder holds its units (they call
 * the library the CLI commands call, into their own run directory under `<runs>/tour/`) and its
 * words: title, introduction, figure captions, and what its numbers mean at the scale run.
 */
import type { Progress as AnalysisProgress } from "../../landscape/analyses.js";
import { writeFigure } from "../../landscape/store.js";
import { renderSvg, type VegaLiteSpec } from "../../report/vega.js";
import type { Run } from "../../runs/store.js";
import type { TrainCallbacks } from "../../train/loop.js";
import { epochProgress, type ProgressSink } from "../../train/progress.js";
import type { TourScale, TourSettings, UnitName } from "../plan.js";

/** A chapter of the report: its words, and what its numbers mean at the scale they were made at. */
export type Chapter = {
  number: number;
  title: string;
  intro: string;
  /** Plain sentences on what this scale can show, read from the chapter's outcomes. */
  atThisScale?: (scale: TourScale, outcomes: UnitOutcome[]) => string[];
};

/** Progress as the CLI shows it (a bar per phase, lines in between); the library only calls it. */
export type TourProgress = ProgressSink;

export class TourInterrupted extends Error {
  override name = "TourInterrupted";
}

/** A table as the report shows it, with the file its numbers come from. */
export type OutcomeTable = { columns: string[]; rows: (string | number | null)[][]; source: string };
export type OutcomeFigure = { file: string; caption: string; gallery?: string };

/** What a finished unit stores in tour.json (paths relative to the tour folder). */
export type UnitOutcome = {
  unit: UnitName;
  key: string;
  id: string;
  config: Record<string, unknown>;
  finishedAt: string;
  seconds: number;
  /** One-line results for the terminal and the report. */
  lines: string[];
  tables: OutcomeTable[];
  figures: OutcomeFigure[];
  /** Numbers later units or the report need, by name. */
  values: Record<string, unknown>;
};

export type UnitContext = {
  /** The tour folder (a runs root). */
  root: string;
  id: string;
  key: string;
  resume: boolean;
  settings: TourSettings;
  config: Record<string, unknown>;
  dataDir?: string;
  signal?: AbortSignal;
  progress: TourProgress;
  /** Outcomes of the units this one reads. */
  deps: Partial<Record<UnitName, UnitOutcome>>;
};

export type UnitBody = Omit<UnitOutcome, "unit" | "key" | "id" | "config" | "finishedAt" | "seconds">;

export const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? "–" : `${(100 * x).toFixed(2)}%`;
export const fixed = (x: number | null | undefined, d = 4) =>
  x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d);

export function trainProgress(p: TourProgress, label: string): TrainCallbacks {
  return epochProgress(p, label, "  ");
}

export function phaseProgress(p: TourProgress): AnalysisProgress & { done(): void } {
  let label = "";
  const update = (done: number, total: number, l: string, detail?: string) => {
    if (l !== label) {
      if (label) p.stop();
      p.start(total, l);
      label = l;
    }
    p.update(done, { loss: (detail ?? "").replace(/^loss /, "") });
  };
  return Object.assign(update, {
    done: () => {
      if (label) p.stop();
      label = "";
    },
  });
}

/** A unit whose training stopped early is not finished; one that finished is kept even if Ctrl-C came late. */
export function checkInterrupted(status: string) {
  if (status === "interrupted") throw new TourInterrupted("interrupted");
}

export async function svgFigure(run: Run, file: string, spec: VegaLiteSpec): Promise<string> {
  return writeFigure(run, file, await renderSvg(spec));
}

/**
 * The half-width, in accuracy, of a 95 % interval for an accuracy measured on `n` questions, at
 * its widest (accuracy 50 %): below it, a difference between two such accuracies is not evidence.
 */
export const noiseOf = (n: number) => 1.96 * Math.sqrt(0.25 / n);
/** An accuracy difference in percentage points, for prose. */
export const points = (x: number) => (100 * x).toFixed(1);
