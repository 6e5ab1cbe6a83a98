/**
 * Self-adaptation as runs: `selfAdapt` (or a merge of earlier runs' results) in a new run folder
 * with its request, results.json, table.md, one CEM figure per task, and a status that says failed
 * (with the first error) when anything goes wrong. The CLI only presents what this returns.
 */
import { lineChart, renderSvg } from "../../../report/index.js";
import { defaultRunsRoot, newRunId, Run } from "../../../runs/store.js";
import { UsageError } from "../../../errors.js";
import {
  mergeResults,
  selfAdapt,
  selfAdaptTables,
  type SelfAdaptCallbacks,
  type SelfAdaptRequest,
  type SelfAdaptResult,
} from "./session.js";

/** Where a new run goes: the runs folder and its name (default: a timestamped svf-adapt id). */
export type RunPlace = { runsRoot?: string; name?: string };

function cemFigure(task: string, c: SelfAdaptResult["cem"][string]): Promise<string> {
  const data = c.history.flatMap((g) => [
    { generation: g.iteration, accuracy: g.best, series: "best" },
    { generation: g.iteration, accuracy: g.eliteMean, series: "elite mean" },
    { generation: g.iteration, accuracy: g.populationMean, series: "population mean" },
  ]);
  return renderSvg(
    lineChart({
      title: `CEM over α — ${task} (best re-evaluated each generation)`,
      x: { field: "generation", title: "generation", integer: true },
      y: { field: "accuracy", title: "few-shot accuracy", format: ".0%", domain: [0, 1] },
      color: { field: "series", title: "" },
      data,
    }),
  );
}

/** A new svf-adapt run whose result comes from `work`; returns it with its tables. */
async function inNewRun(
  place: RunPlace,
  config: Record<string, unknown>,
  work: () => Promise<SelfAdaptResult>,
): Promise<{ run: Run; result: SelfAdaptResult; table: string }> {
  const run = Run.create(place.runsRoot ?? defaultRunsRoot(), place.name ?? newRunId(["svf", "adapt"]), {
    kind: "svf-adapt",
    createdAt: new Date().toISOString(),
    ...config,
  });
  try {
    const result = await work();
    const table = selfAdaptTables(result);
    run.writeJson("results.json", result);
    run.writeFile("table.md", table);
    for (const [task, c] of Object.entries(result.cem))
      run.writeFile(`figures/cem-${task}.svg`, await cemFigure(task, c));
    run.setStatus("done", 0);
    return { run, result, table };
  } catch (e) {
    run.recordFailure(e, 0);
    throw e;
  }
}

export function selfAdaptRun(req: SelfAdaptRequest, cb: SelfAdaptCallbacks, place: RunPlace = {}) {
  return inNewRun(place, { ...req }, () => selfAdapt(req, cb));
}

/** One run from several svf-adapt runs' results (tasks split across machines, then merged). */
export function mergeSelfAdaptRuns(sources: string[], place: RunPlace = {}) {
  const runs = sources.map((s) => Run.open(s, place.runsRoot));
  const parts = runs.map((r) => {
    if (r.config<{ kind?: string }>().kind !== "svf-adapt")
      throw new UsageError(`run ${r.dir} is not an svf adapt run`);
    return r.readJson("results.json") as SelfAdaptResult;
  });
  const result = mergeResults(parts);
  return inNewRun(place, { merged: runs.map((r) => r.dir) }, async () => result);
}
