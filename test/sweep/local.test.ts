/**
 * Local sweeps: a grid of six runs on two worker processes gives the runs trained one by one,
 * bit for bit; a sweep stopped midway continues where it stopped, and a finished one recomputes nothing.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runSweep, planSweep, type SweepEvent } from "../../src/sweep/sweep.js";
import { gridSpec, hasData, tiller, trainOneByOne, weightsDigest } from "./fixture.js";

async function collect(
  events: AsyncIterable<SweepEvent>,
  onEvent: (e: SweepEvent) => void = () => undefined,
) {
  const all: SweepEvent[] = [];
  for await (const e of events) {
    all.push(e);
    onEvent(e);
  }
  return all;
}

describe.runIf(hasData)("a local sweep", () => {
  it("on two workers equals the same runs done one by one, continues after a stop, and recomputes nothing", async () => {
    const spec = gridSpec("grid6");
    const reference = mkdtempSync(join(tmpdir(), "tiller-sweep-ref-"));
    const ids = await trainOneByOne(spec, reference);
    const root = mkdtempSync(join(tmpdir(), "tiller-sweep-local-"));

    // Stopped after its first finished run: the runs in flight finish (the one a worker took as it
    // finished included: events reach this loop a moment late), no others start.
    const stop = new AbortController();
    const first = await collect(runSweep(spec, { runsRoot: root, workers: 2, signal: stop.signal }), (e) => {
      if (e.type === "finished") stop.abort();
    });
    const finishedFirst = first.filter((e) => e.type === "finished").length;
    expect(finishedFirst).toBeGreaterThanOrEqual(1);
    expect(finishedFirst).toBeLessThanOrEqual(3);
    expect(first.at(-1)).toMatchObject({ type: "done", failed: 0, notRun: 6 - finishedFirst });

    const second = await collect(runSweep(spec, { runsRoot: root, workers: 2 }));
    expect(second[0]).toMatchObject({ type: "planned", toRun: 6 - finishedFirst });
    expect(second.at(-1)).toMatchObject({ type: "done", done: 6, failed: 0, notRun: 0 });
    for (const id of ids) expect(weightsDigest(root, id, 1), id).toBe(weightsDigest(reference, id, 1));

    const third = await collect(runSweep(spec, { runsRoot: root, workers: 2 }));
    expect(third[0]).toMatchObject({ type: "planned", toRun: 0 });
    expect(planSweep(spec, root).runs.every((r) => r.state === "done")).toBe(true);

    const csv = tiller(["sweep", "show", "grid6", "--runs", root, "--csv", "--sort", "lr", "--asc"]);
    expect(csv.status, csv.stderr).toBe(0);
    const lines = csv.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      "optimizer,lr,status,final_accuracy,best_accuracy,final_loss,best_loss,seconds,epochs,run",
    );
    expect(lines.slice(1).map((l) => l.split(",")[1])).toEqual([
      "0.001",
      "0.001",
      "0.001",
      "0.01",
      "0.01",
      "0.01",
    ]);
    expect(lines.slice(1).every((l) => l.includes(",done,"))).toBe(true);
  });
});
