import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runHeadline } from "../../src/runs/headline.js";

function runDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), "tiller-headline-"));
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), JSON.stringify(body));
  return dir;
}

describe("a run's headline", () => {
  it("an optimiser comparison's best accuracy is its best member's, from summary.json", () => {
    const dir = runDir({
      "summary.json": [
        { optimizer: "sgd", best_test_accuracy: 0.5024, run: "/abs/members/sgd" },
        { optimizer: "adam", best_test_accuracy: 0.8457 },
      ],
    });
    const h = runHeadline(dir, { command: "compare", members: [{ label: "sgd" }, { label: "adam" }] });
    expect(h.best).toBe(0.8457);
    expect(h.optimizer).toBe("sgd, adam");
  });

  it("Curvature Tuning and SVF runs report their results' test accuracy, not validation or probes", () => {
    const ct = runDir({
      "results.json": {
        rows: [
          { method: "linear probe", valAccuracy: 0.9, testAccuracy: 0.715 },
          { method: "CT", valAccuracy: 0.95, testAccuracy: 0.75 },
        ],
        search: { scores: [{ beta: 0.8, testAccuracy: 0.99 }] },
      },
      "tour.json": { seconds: 9.6 },
    });
    expect(runHeadline(ct, { command: "ct-compare" })).toMatchObject({ what: "ct-compare", best: 0.75, duration_s: 9.6 });
    const evalRun = runDir({
      "results.json": { rows: [{ task: "code", base: { accuracy: 0.0625 }, svf: { accuracy: 0.125 } }] },
    });
    expect(runHeadline(evalRun, { kind: "svf-eval" }).best).toBe(0.125);
    const landscape = runDir({ "results.json": { surface: { center: { loss: 0.7, accuracy: 0.74 } } } });
    expect(runHeadline(landscape, { command: "tour-landscape" }).best).toBeUndefined();
  });

  it("an initialiser comparison's best accuracy is 1 − its lowest error rate", () => {
    const dir = runDir({ "table.json": { rows: [{ errorRate: 41.22 }, { errorRate: 33.69 }] } });
    expect(runHeadline(dir, { command: "init-compare" }).best).toBeCloseTo(0.6631, 10);
  });

  it("an adapter run is named by its method and task", () => {
    const dir = runDir({ "results.json": { test_accuracy: 0.25 } });
    const h = runHeadline(dir, { kind: "adapter", adapter: { kind: "svf" }, finetune: { task: "math" } });
    expect(h).toMatchObject({ what: "svf math", best: 0.25 });
  });
});
