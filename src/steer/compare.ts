/**
 * Base vs LoRA vs SVF on each task's test split: the table of `tiller svf eval`. Every model is
 * scored by greedy decoding and exact match on the same canonical test questions.
 */
import { treeDispose, treeRef } from "../engine/tree.js";
import { evalSplits, getFamily } from "../data/tasks/index.js";
import { UsageError } from "../errors.js";
import { loadTrainedAdapter } from "./adapt-session.js";
import { taskAccuracy } from "../lm/evaluate.js";
import { createGenerator } from "../lm/generate.js";
import { lmParamCount } from "../lm/model.js";
import { loadLm } from "../lm/store.js";
import { defaultRunsRoot, newRunId, Run } from "../runs/store.js";

export type CompareRequest = {
  base: string;
  tasks: string[];
  /** task → SVF run, task → LoRA run (the adapter trained on that task). */
  svf: Record<string, string>;
  lora: Record<string, string>;
  runsRoot?: string;
  /** Test questions scored per task (default: the whole test split). */
  testExamples?: number;
};

export type CompareCell = {
  accuracy: number;
  correct: number;
  n: number;
  trainableParams: number;
  run?: string;
  /** Paired against the base on the same questions (adapters only). */
  vsBase?: PairedComparison;
};

/**
 * Two models scored on the same questions: how many the second gets right that the first got
 * wrong (gained) and the reverse (lost), and the exact two-sided McNemar p-value — the chance of a
 * split at least this uneven if both models were equally good. Pairing matters: with 256
 * questions an unpaired ±3-point noise band hides gains that a paired test resolves.
 */
export type PairedComparison = { gained: number; lost: number; pValue: number };

/** Exact McNemar test: two-sided binomial test of `gained` vs `lost` at p = 1/2. */
export function mcnemarExact(gained: number, lost: number): number {
  const n = gained + lost;
  if (n === 0) return 1;
  const k = Math.min(gained, lost);
  // Σ_{i≤k} C(n, i) / 2^n in log space (n reaches thousands of questions).
  let logC = 0;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/** The paired comparison of per-question correctness `after` against `before`. */
export function pairedComparison(before: boolean[], after: boolean[]): PairedComparison {
  if (before.length !== after.length)
    throw new Error(`paired comparison of ${before.length} and ${after.length} answers`);
  let gained = 0;
  let lost = 0;
  for (let i = 0; i < before.length; i++) {
    if (after[i] && !before[i]) gained++;
    if (before[i] && !after[i]) lost++;
  }
  return { gained, lost, pValue: mcnemarExact(gained, lost) };
}
export type CompareRow = {
  task: string;
  heldOut: boolean;
  base: CompareCell;
  lora?: CompareCell;
  svf?: CompareCell;
};
export type CompareResult = { rows: CompareRow[]; baseParams: number };

export async function compareAdapters(
  req: CompareRequest,
  onProgress?: (what: string) => void,
): Promise<CompareResult> {
  const base = loadLm(req.base, req.runsRoot);
  const gen = createGenerator(base.cfg);
  const rows: CompareRow[] = [];
  const score = async (params: typeof base.params, task: string) =>
    taskAccuracy(gen, params, base.tokenizer, evalSplits(task).test.slice(0, req.testExamples));
  try {
    for (const task of req.tasks) {
      const family = getFamily(task);
      onProgress?.(`${task}: base`);
      const b = await score(treeRef(base.params), task);
      const row: CompareRow = { task, heldOut: family.heldOut, base: { ...pick(b), trainableParams: 0 } };
      for (const kind of ["lora", "svf"] as const) {
        const source = req[kind][task];
        if (!source) continue;
        onProgress?.(`${task}: ${kind}`);
        const adapted = await loadTrainedAdapter(source, req.runsRoot);
        if (adapted.config.adapter.kind !== kind)
          throw new UsageError(
            `run ${adapted.run.dir} is a ${adapted.config.adapter.kind} run, given as --${kind}`,
          );
        if (
          adapted.lm.cfg.hiddenSize !== base.cfg.hiddenSize ||
          adapted.lm.cfg.numLayers !== base.cfg.numLayers
        )
          throw new UsageError(
            `run ${adapted.run.dir} adapts a different base model (${adapted.config.base})`,
          );
        const r = await score(adapted.params, task);
        row[kind] = {
          ...pick(r),
          trainableParams: adapted.trainableParams,
          run: adapted.run.dir,
          vsBase: pairedComparison(b.right, r.right),
        };
      }
      rows.push(row);
    }
  } finally {
    gen.dispose();
    treeDispose(base.params);
  }
  return { rows, baseParams: lmParamCount(base.cfg) };
}

function formatP(p: number): string {
  return p < 1e-4 ? p.toExponential(1) : p.toPrecision(2);
}

function pick(r: { accuracy: number; correct: number; n: number }) {
  return { accuracy: r.accuracy, correct: r.correct, n: r.n };
}

/** A Markdown table of the comparison. */
export function compareTable(result: CompareResult): string {
  const pct = (c?: CompareCell) => (c ? `${(100 * c.accuracy).toFixed(1)}%` : "—");
  const params = (c?: CompareCell) => (c ? c.trainableParams.toLocaleString("en") : "—");
  const paired = (c?: CompareCell) =>
    c?.vsBase ? `+${c.vsBase.gained} / −${c.vsBase.lost}, p = ${formatP(c.vsBase.pValue)}` : "—";
  const lines = [
    `| task | base | LoRA | SVF | LoRA params | SVF params | SVF vs base (gained / lost, McNemar) |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | --- |`,
    ...result.rows.map(
      (r) =>
        `| ${r.task}${r.heldOut ? " (held out)" : ""} | ${pct(r.base)} | ${pct(r.lora)} | ${pct(r.svf)} | ${params(r.lora)} | ${params(r.svf)} | ${paired(r.svf)} |`,
    ),
  ];
  return `${lines.join("\n")}\n\nBase model: ${result.baseParams.toLocaleString("en")} parameters; accuracy = exact match, greedy decoding, ${result.rows[0]?.base.n ?? 0} test questions per task; gained / lost = questions the SVF expert gets right that the base got wrong and the reverse, p = exact two-sided McNemar test.\n`;
}

/**
 * `compareAdapters` in a new run (kind svf-eval): the request, results.json and table.md, and a
 * status that says failed, with the first error, when scoring fails.
 */
export async function compareAdaptersRun(
  req: CompareRequest,
  place: { name?: string },
  onProgress?: (what: string) => void,
): Promise<{ run: Run; result: CompareResult; table: string }> {
  const run = Run.create(req.runsRoot ?? defaultRunsRoot(), place.name ?? newRunId(["svf", "eval"]), {
    kind: "svf-eval",
    createdAt: new Date().toISOString(),
    ...req,
  });
  try {
    const result = await compareAdapters(req, onProgress);
    const table = compareTable(result);
    run.writeJson("results.json", result);
    run.writeFile("table.md", table);
    run.setStatus("done", 0);
    return { run, result, table };
  } catch (e) {
    run.recordFailure(e, 0);
    throw e;
  }
}
