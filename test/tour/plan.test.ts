import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  planUnits,
  stableJson,
  tourSettings,
  tourUnits,
  unitId,
  unitKeys,
  type Unit,
  type UnitState,
} from "../../src/tour/plan.js";
import { tourPlan, unitState } from "../../src/tour/tour.js";

const units = tourUnits(tourSettings("quick"));
const ids = (u: Unit[]) => {
  const keys = unitKeys(u);
  return Object.fromEntries(u.map((x) => [x.name, unitId(x.name, keys.get(x.name)!)]));
};
const finished: UnitState = { exists: true, finished: true, status: "done", hasCheckpoint: true };
const interrupted = (hasCheckpoint: boolean): UnitState => ({
  exists: true,
  finished: false,
  status: "interrupted",
  hasCheckpoint,
});
const absent: UnitState = { exists: false };

describe("the tour's plan", () => {
  it("keys do not depend on the order of config keys", () => {
    expect(stableJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(stableJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });

  it("the same settings give the same run ids; a changed setting changes that unit and those that read it", () => {
    expect(ids(tourUnits(tourSettings("quick")))).toEqual(ids(units));
    const s = tourSettings("quick");
    s.optimizers.epochs += 1;
    const changed = ids(tourUnits(s));
    const before = ids(units);
    const differ = Object.keys(before).filter((k) => before[k] !== changed[k]);
    expect(differ.sort()).toEqual(["landscape", "optimizers"]);
    const lm = tourSettings("quick");
    lm.svf.pretrainSteps += 1;
    const after = ids(tourUnits(lm));
    expect(Object.keys(before).filter((k) => before[k] !== after[k])).toEqual([
      "lm",
      "svf-math",
      "svf-code",
      "svf-reasoning",
      "svf-eval",
      "svf-adapt",
    ]);
  });

  it("scales and data folders are different caches", () => {
    const quick = ids(units);
    const tiny = ids(tourUnits(tourSettings("tiny")));
    const other = ids(tourUnits(tourSettings("quick"), "/elsewhere"));
    for (const k of Object.keys(quick)) expect(tiny[k]).not.toBe(quick[k]);
    expect(other.inits).not.toBe(quick.inits);
    expect(other.lm).toBe(quick.lm); // the LM chapter reads no Fashion-MNIST
  });

  it("an empty store computes every unit, in dependency order", () => {
    const plan = planUnits(units, () => absent);
    expect(plan.map((p) => p.action)).toEqual(units.map(() => "run"));
    const seen = new Set<string>();
    for (const p of plan) {
      for (const d of p.unit.deps) expect(seen.has(d)).toBe(true);
      seen.add(p.unit.name);
    }
  });

  it("a finished store is read back entirely", () => {
    expect(new Set(planUnits(units, () => finished).map((p) => p.action))).toEqual(new Set(["reuse"]));
  });

  it("after Ctrl-C: finished units are reused, interrupted training continues, interrupted analyses restart, later units run", () => {
    const id = ids(units);
    const state: Record<string, UnitState> = {
      [id.inits]: finished,
      [id.optimizers]: finished,
      [id.landscape]: finished,
      [id["ct-source"]]: finished,
      [id["ct-compare"]]: finished,
      [id.lm]: finished,
      [id["svf-math"]]: interrupted(true),
    };
    const plan = Object.fromEntries(
      planUnits(units, (x) => state[x] ?? absent).map((p) => [p.unit.name, p.action]),
    );
    expect(plan).toEqual({
      inits: "reuse",
      optimizers: "reuse",
      landscape: "reuse",
      "ct-source": "reuse",
      "ct-compare": "reuse",
      lm: "reuse",
      "svf-math": "resume",
      "svf-code": "run",
      "svf-reasoning": "run",
      "svf-eval": "run",
      "svf-adapt": "run",
    });
    const analysis = planUnits(units, (x) => (x === id.landscape ? interrupted(false) : finished));
    expect(analysis.find((p) => p.unit.name === "landscape")?.action).toBe("redo");
    // A training unit interrupted before its first checkpoint has nothing to continue from.
    const early = planUnits(units, (x) => (x === id["ct-source"] ? interrupted(false) : finished));
    expect(early.find((p) => p.unit.name === "ct-source")?.action).toBe("redo");
  });

  it("a recomputed unit forces the units that read it to be recomputed", () => {
    const id = ids(units);
    const plan = planUnits(units, (x) => (x === id["ct-source"] ? interrupted(true) : finished));
    const action = Object.fromEntries(plan.map((p) => [p.unit.name, p.action]));
    expect(action["ct-source"]).toBe("resume");
    expect(action["ct-compare"]).toBe("redo");
    expect(action.optimizers).toBe("reuse");
  });

  it("--fresh recomputes everything; --fresh 3 only chapter 3", () => {
    expect(new Set(planUnits(units, () => finished, { fresh: true }).map((p) => p.action))).toEqual(
      new Set(["redo"]),
    );
    const plan = planUnits(units, () => finished, { fresh: [3] });
    expect(plan.filter((p) => p.action !== "reuse").map((p) => p.unit.name)).toEqual(["landscape"]);
    const two = planUnits(units, () => finished, { fresh: [2] });
    expect(two.filter((p) => p.action !== "reuse").map((p) => p.unit.name)).toEqual([
      "optimizers",
      "landscape",
    ]);
  });
});

describe("the tour's store", () => {
  const root = mkdtempSync(join(tmpdir(), "tiller-tour-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("reads a unit directory's state from its files", () => {
    expect(unitState(join(root, "missing"))).toEqual({ exists: false });
    const dir = join(root, "a");
    mkdirSync(join(dir, "checkpoints"), { recursive: true });
    writeFileSync(join(dir, "status.json"), JSON.stringify({ status: "interrupted", epochsCompleted: 1 }));
    writeFileSync(join(dir, "checkpoints", "index.json"), "{}");
    expect(unitState(dir)).toEqual({
      exists: true,
      finished: false,
      status: "interrupted",
      hasCheckpoint: false,
    });
    writeFileSync(join(dir, "checkpoints", "index.json"), JSON.stringify({ "epoch-1.safetensors": {} }));
    expect(unitState(dir)).toMatchObject({ hasCheckpoint: true, finished: false });
    writeFileSync(join(dir, "tour.json"), "{}");
    expect(unitState(dir)).toMatchObject({ finished: true });
  });

  it("plans against the folder <runs>/tour", () => {
    const before = tourPlan({ scale: "tiny", runsRoot: root });
    expect(before.every((p) => p.action === "run")).toBe(true);
    const first = before[0];
    mkdirSync(join(root, "tour", first.id), { recursive: true });
    writeFileSync(join(root, "tour", first.id, "tour.json"), "{}");
    const after = tourPlan({ scale: "tiny", runsRoot: root });
    expect(after[0].action).toBe("reuse");
    expect(after.slice(1).every((p) => p.action === "run")).toBe(true);
  });
});
