/**
 * Base vs LoRA vs SVF on each task's test split: the table of `tiller svf eval`. Every model is
 * scored by greedy decoding and exact match on the same canonical test questions.
 */
import { treeDispose, treeRef } from "../engine/tree.js";
import { evalSplits, getFamily } from "../data/tasks/index.js";
import { UsageError } from "../errors.js";
import { loadTrainedAdapter } from "./adapt-session.js";
import { taskAccuracy } from "./evaluate.js";
import { createGenerator } from "./generate.js";
import { lmParamCount } from "./model.js";
import { loadLm } from "./store.js";

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
};
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
        row[kind] = { ...pick(r), trainableParams: adapted.trainableParams, run: adapted.run.dir };
      }
      rows.push(row);
    }
  } finally {
    gen.dispose();
    treeDispose(base.params);
  }
  return { rows, baseParams: lmParamCount(base.cfg) };
}

function pick(r: { accuracy: number; correct: number; n: number }) {
  return { accuracy: r.accuracy, correct: r.correct, n: r.n };
}

/** A Markdown table of the comparison. */
export function compareTable(result: CompareResult): string {
  const pct = (c?: CompareCell) => (c ? `${(100 * c.accuracy).toFixed(1)}%` : "—");
  const params = (c?: CompareCell) => (c ? c.trainableParams.toLocaleString("en") : "—");
  const lines = [
    `| task | base | LoRA | SVF | LoRA params | SVF params |`,
    `| --- | ---: | ---: | ---: | ---: | ---: |`,
    ...result.rows.map(
      (r) =>
        `| ${r.task}${r.heldOut ? " (held out)" : ""} | ${pct(r.base)} | ${pct(r.lora)} | ${pct(r.svf)} | ${params(r.lora)} | ${params(r.svf)} |`,
    ),
  ];
  return `${lines.join("\n")}\n\nBase model: ${result.baseParams.toLocaleString("en")} parameters; accuracy = exact match, greedy decoding, ${result.rows[0]?.base.n ?? 0} test questions per task.\n`;
}
