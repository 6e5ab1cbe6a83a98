/**
 * Optimiser paths on a test function kept as a run. Its own file because paths.ts also runs in the
 * lab's browser bundle (the playground), and the run store and the SVG renderer are Node-only.
 */
import { renderSvg, type VegaLiteSpec } from "../report/vega.js";
import { defaultRunsRoot, newRunId, Run } from "../runs/store.js";
import { evaluateGrid, type TestFunction } from "./functions.js";
import { pathFigure, type PathResult } from "./paths.js";

/**
 * Paths on a test function kept as a run (command optim-path): its config, paths.json (the points
 * as given, e.g. shortened for float32), figures/paths.svg over the contour map, and a status of
 * diverged when a path overflowed. Returns the run and the figure's path.
 */
export async function savePathRun(o: {
  runsRoot?: string;
  name?: string;
  fn: TestFunction;
  config: Record<string, unknown>;
  results: { label: string; result: PathResult }[];
  points: Record<string, unknown>;
}): Promise<{ run: Run; figure: string }> {
  const id = o.name ?? newRunId(["path", o.fn.name]);
  const run = Run.create(o.runsRoot ?? defaultRunsRoot(), id, {
    id,
    createdAt: new Date().toISOString(),
    command: "optim-path",
    function: { name: o.fn.name, params: o.fn.params },
    ...o.config,
  });
  try {
    run.writeJson("paths.json", o.points);
    const grid = await evaluateGrid(o.fn, 72, 72);
    const figure = run.writeFile(
      "figures/paths.svg",
      await renderSvg(pathFigure(o.fn, grid, o.results) as VegaLiteSpec),
    );
    run.setStatus(o.results.some((r) => r.result.diverged) ? "diverged" : "done", 0);
    return { run, figure };
  } catch (e) {
    run.recordFailure(e, 0);
    throw e;
  }
}
