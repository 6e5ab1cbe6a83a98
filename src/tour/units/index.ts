/**
 * The tour's work units, one file per chapter: each unit calls the library the CLI commands call
 * (compareInits, runComparison, the landscape analyses, CT pretrain/compare, LM pretraining, SVF
 * training and evaluation) into its own run directory under `<runs>/tour/`, and returns its
 * outcome: the key numbers, each with the file it was read from, and the figures it made. The
 * outcome is what `tour.json` stores and what the report is built from.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadFashionMnist } from "../../data/fashion-mnist.js";
import { readJson } from "../../runs/store.js";
import type { UnitName } from "../plan.js";
import { CT_CHAPTER, ctCompareUnit, ctSourceUnit } from "./ct.js";
import { INITS_CHAPTER, initsUnit } from "./inits.js";
import { LANDSCAPE_CHAPTER, landscapeUnit } from "./landscape.js";
import { OPTIMIZERS_CHAPTER, optimizersUnit } from "./optimizers.js";
import type { Chapter, UnitBody, UnitContext, UnitOutcome } from "./outcome.js";
import { lmUnit, SVF_CHAPTER, svfAdaptUnit, svfEvalUnit, svfUnit } from "./svf.js";

export * from "./outcome.js";

/** The report's chapters, by number. */
export const CHAPTERS: Record<number, Chapter> = Object.fromEntries(
  [INITS_CHAPTER, OPTIMIZERS_CHAPTER, LANDSCAPE_CHAPTER, CT_CHAPTER, SVF_CHAPTER].map((c) => [c.number, c]),
);

export const UNIT_RUNNERS: Record<UnitName, (ctx: UnitContext) => Promise<UnitBody>> = {
  inits: initsUnit,
  optimizers: optimizersUnit,
  landscape: landscapeUnit,
  "ct-source": ctSourceUnit,
  "ct-compare": ctCompareUnit,
  lm: lmUnit,
  "svf-math": svfUnit,
  "svf-code": svfUnit,
  "svf-reasoning": svfUnit,
  "svf-eval": svfEvalUnit,
  "svf-adapt": svfAdaptUnit,
};

export const OUTCOME_FILE = "tour.json";

export function readOutcome(dir: string): UnitOutcome | null {
  const file = join(dir, OUTCOME_FILE);
  return existsSync(file) ? (readJson(file) as UnitOutcome) : null;
}

/** Loads the fashion-mnist reader once so a missing dataset fails before any work. */
export function checkData(dataDir?: string): void {
  loadFashionMnist({ dataDir, limit: 1, testLimit: 1 });
}
