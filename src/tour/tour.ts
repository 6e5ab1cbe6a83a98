/**
 * `runTour`: the whole story, unit by unit — plan against the store, reuse what is finished,
 * continue what was interrupted, compute the rest, then write one report.html (and optionally the
 * README gallery). Stops between units (and inside training) when `signal` aborts; whatever
 * finished stays finished, so the next call continues from there.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startEngine } from "../engine/device.js";
import { svgToPng } from "../report/vega.js";
import { writeFileAtomic, writeJsonAtomic } from "../runs/atomic.js";
import { defaultRunsRoot, readJson } from "../runs/store.js";
import {
  planUnits,
  tourSettings,
  tourUnits,
  type PlannedUnit,
  type TourScale,
  type UnitName,
  type UnitState,
} from "./plan.js";
import { tourReportHtml, type TourReportInput } from "./report.js";
import {
  checkData,
  OUTCOME_FILE,
  readOutcome,
  TourInterrupted,
  UNIT_RUNNERS,
  type TourProgress,
  type UnitOutcome,
} from "./units/index.js";
import { makeDirs } from "../runs/files.js";

export type TourOptions = {
  scale: TourScale;
  /** The runs root; the tour lives in `<runsRoot>/tour`. */
  runsRoot?: string;
  dataDir?: string;
  /** Recompute everything (true) or these chapters (numbers 1–5). */
  fresh?: boolean | number[];
  /** Also write the report's figures as SVG and PNG into this folder (the README gallery). */
  gallery?: string;
  signal?: AbortSignal;
  progress: TourProgress;
  /** Notes to add to a chapter of the report. */
  notes?: Record<number, string[]>;
};

/** What the report was made from, the report's path and the gallery files written. */
export type TourResult = Omit<TourReportInput, "scale" | "notes"> & { report: string; gallery: string[] };

export function tourRoot(runsRoot?: string): string {
  return join(runsRoot ?? defaultRunsRoot(), "tour");
}

/** What the store holds for a unit directory. */
export function unitState(dir: string): UnitState {
  if (!existsSync(dir)) return { exists: false };
  const statusFile = join(dir, "status.json");
  const status = existsSync(statusFile) ? String((readJson(statusFile) as { status?: string }).status) : null;
  const index = join(dir, "checkpoints", "index.json");
  const hasCheckpoint =
    existsSync(index) && Object.keys(JSON.parse(readFileSync(index, "utf8")) as object).length > 0;
  return { exists: true, finished: existsSync(join(dir, OUTCOME_FILE)), status, hasCheckpoint };
}

/** The plan for these options, without running anything. */
export function tourPlan(o: Pick<TourOptions, "scale" | "runsRoot" | "dataDir" | "fresh">): PlannedUnit[] {
  const root = tourRoot(o.runsRoot);
  return planUnits(tourUnits(tourSettings(o.scale), o.dataDir), (id) => unitState(join(root, id)), {
    fresh: o.fresh,
  });
}

export async function runTour(o: TourOptions): Promise<TourResult> {
  const t0 = performance.now();
  const root = tourRoot(o.runsRoot);
  makeDirs(root);
  checkData(o.dataDir);
  const settings = tourSettings(o.scale);
  const planned = tourPlan(o);
  const p = o.progress;
  const outcomes = new Map<UnitName, UnitOutcome>();
  const actions: Record<string, string> = {};
  let engineStarted = false;
  for (const [i, step] of planned.entries()) {
    if (o.signal?.aborted) throw new TourInterrupted("interrupted");
    const dir = join(root, step.id);
    const head = `[${i + 1}/${planned.length}] ${step.unit.chapter}. ${step.unit.title}`;
    if (step.action === "reuse") {
      const outcome = readOutcome(dir)!;
      outcomes.set(step.unit.name, outcome);
      actions[step.id] = "reused";
      p.log(`${head} — reused tour/${step.id} (computed in ${outcome.seconds.toFixed(0)} s)`);
      outcome.lines.forEach((l) => p.log(`  ${l}`));
      continue;
    }
    p.log(
      `${head} — ${step.action === "resume" ? "continuing" : "computing"} (${step.why}) → tour/${step.id}`,
    );
    if (step.action === "redo") rmSync(dir, { recursive: true, force: true });
    if (!engineStarted) {
      await startEngine();
      engineStarted = true;
    }
    const t = performance.now();
    const deps = Object.fromEntries(step.unit.deps.map((d) => [d, outcomes.get(d)!]));
    const body = await UNIT_RUNNERS[step.unit.name]({
      root,
      id: step.id,
      key: step.key,
      resume: step.action === "resume",
      settings,
      config: step.unit.config,
      dataDir: o.dataDir,
      signal: o.signal,
      progress: p,
      deps,
    });
    const outcome: UnitOutcome = {
      unit: step.unit.name,
      key: step.key,
      id: step.id,
      config: step.unit.config,
      finishedAt: new Date().toISOString(),
      seconds: (performance.now() - t) / 1000,
      ...body,
    };
    writeJsonAtomic(join(dir, OUTCOME_FILE), outcome);
    outcomes.set(step.unit.name, outcome);
    actions[step.id] = step.action === "resume" ? "continued after an interruption" : "computed";
    p.log(`  done in ${outcome.seconds.toFixed(1)} s`);
    outcome.lines.forEach((l) => p.log(`  ${l}`));
  }
  const seconds = (performance.now() - t0) / 1000;
  const all = [...outcomes.values()];
  const html = tourReportHtml({
    root,
    scale: o.scale,
    planned,
    outcomes: all,
    actions,
    seconds,
    notes: o.notes,
  });
  const report = join(root, "report.html");
  writeFileAtomic(report, html);
  const gallery = o.gallery ? writeGallery(root, all, o.gallery) : [];
  return { root, report, outcomes: all, planned, actions, seconds, gallery };
}

/** Copies the figures marked for the gallery as `<name>.svg` and `<name>.png` into `dir`. */
export function writeGallery(root: string, outcomes: UnitOutcome[], dir: string): string[] {
  makeDirs(dir);
  const files: string[] = [];
  for (const o of outcomes)
    for (const f of o.figures) {
      if (!f.gallery) continue;
      const svg = readFileSync(join(root, f.file), "utf8");
      const svgFile = join(dir, `${f.gallery}.svg`);
      const pngFile = join(dir, `${f.gallery}.png`);
      writeFileAtomic(svgFile, svg);
      writeFileAtomic(pngFile, svgToPng(svg));
      files.push(svgFile, pngFile);
    }
  return files;
}
