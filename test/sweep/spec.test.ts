/** The sweep spec: expansion order, ranges, seeded random samples, seeds, and errors that name the field. */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { expandSweep, parseSweepSpec, sweepPoints } from "../../src/sweep/spec.js";
import { runIdOf, stableJson } from "../../src/sweep/store.js";

const base = { command: "train", fixed: { hidden: [16], epochs: 1, limit: 512 } };

function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
  throw new Error("expected a UsageError");
}

describe("sweep spec", () => {
  it("a grid is the product of its values with the last key varying fastest, times the seeds", () => {
    const spec = parseSweepSpec({
      ...base,
      grid: { optimizer: ["sgd", "adam"], lr: [0.1, 0.01] },
      seeds: [0, 1],
    });
    const points = sweepPoints(spec);
    expect(points).toHaveLength(8);
    expect(points.slice(0, 3)).toEqual([
      { optimizer: "sgd", lr: 0.1, seed: 0 },
      { optimizer: "sgd", lr: 0.1, seed: 1 },
      { optimizer: "sgd", lr: 0.01, seed: 0 },
    ]);
  });

  it("a log range of four learning rates from 1e-4 to 1e-1 is the four decades", () => {
    const spec = parseSweepSpec({ ...base, grid: { lr: { min: 1e-4, max: 1e-1, count: 4, scale: "log" } } });
    expect(sweepPoints(spec).map((p) => p.lr)).toEqual([1e-4, 1e-3, 1e-2, 1e-1]);
  });

  it("random samples are the same for the same seed, inside their range, and differ for another seed", () => {
    const random = (seed: number) => ({
      count: 5,
      seed,
      params: { lr: { min: 1e-4, max: 1e-1, scale: "log" } },
    });
    const a = sweepPoints(parseSweepSpec({ ...base, random: random(1) }));
    const b = sweepPoints(parseSweepSpec({ ...base, random: random(1) }));
    const c = sweepPoints(parseSweepSpec({ ...base, random: random(2) }));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    for (const p of a) {
      expect(p.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(p.lr as number).toBeLessThanOrEqual(1e-1);
    }
  });

  it("explicit runs cross the grid, and every request gets the schema's defaults", () => {
    const spec = parseSweepSpec({
      ...base,
      runs: [{ optimizer: "sgd" }, { optimizer: "lion" }],
      grid: { lr: [0.01] },
    });
    const runs = expandSweep(spec);
    expect(runs.map((r) => r.values)).toEqual([
      { optimizer: "sgd", lr: 0.01 },
      { optimizer: "lion", lr: 0.01 },
    ]);
    expect(runs[0].request).toMatchObject({ model: "mlp", batchSize: 256, seed: 0, hidden: [16], epochs: 1 });
  });

  it("an unknown option is refused by name", () => {
    const spec = parseSweepSpec({ ...base, grid: { lrr: [0.1] } });
    expect(usageMessage(() => expandSweep(spec))).toMatch(
      /run 1 \(lrr=0\.1\): unknown option "lrr" \(known: model, task, hidden/,
    );
  });

  it("a swept value outside its range names the run and the field", () => {
    const spec = parseSweepSpec({ ...base, grid: { momentum: [0.9, 1.5] } });
    expect(usageMessage(() => expandSweep(spec))).toMatch(
      /run 2 \(momentum=1\.5\): invalid train request: momentum \(--momentum\): expected a number < 1, got 1\.5/,
    );
  });

  it("an optimiser hyper-parameter it does not take is refused with the ones it does", () => {
    const spec = parseSweepSpec({ ...base, fixed: { ...base.fixed, optimizer: "sgd", params: { b1: 0.9 } } });
    expect(usageMessage(() => expandSweep(spec))).toMatch(/sgd has no parameter "b1"/);
  });

  it("a malformed spec, a command it cannot run, or a key both fixed and swept are usage errors", () => {
    expect(usageMessage(() => parseSweepSpec({ fixed: {} }))).toMatch(/command: Required/);
    expect(usageMessage(() => parseSweepSpec({ command: "dance" }))).toMatch(/command: Invalid enum value/);
    expect(usageMessage(() => parseSweepSpec({ ...base, grid: { epochs: [1, 2] } }))).toMatch(
      /"epochs" is both fixed and swept/,
    );
    expect(usageMessage(() => parseSweepSpec({ ...base, grdi: {} }))).toMatch(/unknown option "grdi"/);
  });

  it("a run's id is a hash of its request, the same whatever the key order", () => {
    expect(stableJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    const a = runIdOf("train", { lr: 0.1, optimizer: "sgd" });
    expect(a).toBe(runIdOf("train", { optimizer: "sgd", lr: 0.1 }));
    expect(a).toMatch(/^train-[0-9a-f]{12}$/);
    expect(a).not.toBe(runIdOf("train", { optimizer: "sgd", lr: 0.2 }));
  });
});
