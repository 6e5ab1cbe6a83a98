/**
 * The lab's sweep API: the sweeps recorded in the runs folder, and one sweep's table (swept values,
 * final/best metrics, status), its runs' curves and its best run — read from the run store on
 * each request, so a page that polls it follows a sweep while it runs.
 */
import { Hono } from "hono";
import { UsageError } from "../errors.js";
import { bestRow, METRICS, sweepCurves, sweepRows } from "../sweep/results.js";
import { listSweeps, readSweepRecord, type SweepRecord } from "../sweep/store.js";
import { LabRequestError } from "./run-data.js";

function record(runsRoot: string, name: string): SweepRecord {
  try {
    return readSweepRecord(runsRoot, name);
  } catch (e) {
    if (e instanceof UsageError) throw new LabRequestError(404, `no sweep "${name}"`);
    throw e;
  }
}

export function sweepApi(runsRoot: string): Hono {
  const api = new Hono();
  api.get("/", (c) =>
    c.json({
      sweeps: listSweeps(runsRoot).map((name) => {
        const r = record(runsRoot, name);
        const rows = sweepRows(runsRoot, r);
        const count = (s: string) => rows.filter((x) => x.state === s).length;
        return {
          name,
          command: r.command,
          swept: r.swept,
          runs: rows.length,
          done: count("done"),
          failed: count("failed"),
          createdAt: r.createdAt,
        };
      }),
    }),
  );
  api.get("/:name", (c) => {
    const r = record(runsRoot, c.req.param("name"));
    const rows = sweepRows(runsRoot, r);
    return c.json({
      name: r.name,
      command: r.command,
      swept: r.swept,
      metrics: METRICS,
      rows,
      curves: sweepCurves(runsRoot, r),
      best: bestRow(rows)?.id ?? null,
      live: rows.some((x) => x.state === "pending" || x.state === "started"),
    });
  });
  return api;
}
