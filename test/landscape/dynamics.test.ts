/**
 * The dynamics recorder and `tiller train --from`, end to end through the CLI on a Fashion-MNIST
 * subset: recorded norms are checked against the checkpoints the runs wrote; the landscape CLI's
 * usage errors exit with 2.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/engine/safetensors.js";
import { resolveDataDir } from "../../src/data/fashion-mnist.js";

const hasData = existsSync(resolveDataDir());
const tiller = (args: string[]) =>
  spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { encoding: "utf8" });

/** Checkpoint params as one flat array, in the file's tensor order. */
function params(dir: string, epoch: number): Map<string, Float32Array> {
  const { tensors } = decodeSafetensors(readFileSync(join(dir, "checkpoints", `epoch-${epoch}.safetensors`)));
  return new Map(
    Object.entries(tensors)
      .filter(([k]) => k.startsWith("params."))
      .map(([k, t]) => [k.slice(7), t.data as Float32Array]),
  );
}
const distance = (a: Map<string, Float32Array>, b?: Map<string, Float32Array>) => {
  let s = 0;
  for (const [k, x] of a) x.forEach((v, i) => (s += (v - (b ? b.get(k)![i] : 0)) ** 2));
  return Math.sqrt(s);
};
const lines = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

describe.runIf(hasData)("training dynamics", () => {
  const root = mkdtempSync(join(tmpdir(), "tiller-dynamics-"));
  const common = [
    "--hidden",
    "16",
    "--limit",
    "600",
    "--batch-size",
    "100",
    "--runs",
    root,
    "-q",
    "--no-report",
  ];

  it("records per epoch the loss, mean gradient norm, parameter change and weight norm the checkpoints show", () => {
    const r = tiller(["train", "--epochs", "2", "--name", "a", "--log-every", "1", ...common]);
    expect(r.status, r.stderr).toBe(0);
    const dir = join(root, "a");
    const records = lines(join(dir, "dynamics.jsonl"));
    const metrics = lines(join(dir, "metrics.jsonl"));
    expect(records.map((d) => d.epoch)).toEqual([1, 2]);
    const [p1, p2] = [params(dir, 1), params(dir, 2)];
    expect(records[1].param_change).toBeCloseTo(distance(p2, p1), 4);
    expect(records[1].weight_norm).toBeCloseTo(distance(p2), 4);
    const epoch2 = metrics.find((m) => m.type === "epoch" && m.epoch === 2);
    expect(records[1].loss).toBe(epoch2.train_loss);
    expect(records[1].loss_improvement).toBeCloseTo(records[0].loss - records[1].loss, 12);
    const steps = metrics.filter((m) => m.type === "step" && m.epoch === 2).map((m) => m.grad_norm);
    expect(steps).toHaveLength(6);
    expect(records[1].grad_norm).toBeCloseTo(steps.reduce((a: number, b: number) => a + b) / 6, 10);
    expect(Object.keys(records[1].layers)).toEqual(["fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"]);
    expect(records[1].layers["fc0.weight"].grad_norm).toBeGreaterThan(0);
    // Rebuilt from the checkpoints (θ₀ from the seed), the changes are the recorded ones.
    const rebuilt = tiller(["dynamics", dir, "--from-checkpoints", "-q"]);
    expect(rebuilt.status, rebuilt.stderr).toBe(0);
    const rows = rebuilt.stdout
      .split("\n")
      .filter((l) => /^\s+\d+\s/.test(l))
      .map((l) => l.trim().split(/\s+/).map(Number));
    rows.forEach((row, i) => {
      expect(row[3]).toBeCloseTo(records[i].param_change, 3);
      expect(row[4]).toBeCloseTo(records[i].param_change_from_start, 3);
    });
  });

  it("train --from continues the loaded model: the first change is measured from the source checkpoint", () => {
    const r = tiller([
      "train",
      "--from",
      join(root, "a"),
      "--epochs",
      "1",
      "--name",
      "b",
      "--optimizer",
      "sgd",
      ...common,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(join(root, "b", "config.json"), "utf8"));
    expect(config.initFrom.epoch).toBe(2);
    expect(config.model.hidden).toEqual([16]);
    const [record] = lines(join(root, "b", "dynamics.jsonl"));
    expect(record.param_change).toBeCloseTo(
      distance(params(join(root, "b"), 1), params(join(root, "a"), 2)),
      4,
    );
    const d = tiller(["dynamics", join(root, "b")]);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/wrote .*figures\/dynamics\.svg/);
    expect(readFileSync(join(root, "b", "figures", "dynamics.svg"), "utf8")).toContain("Weight norm");
  });

  it("landscape surface → fit → topology store their results in the run; the grid's centre is the checkpoint", () => {
    const run = join(root, "a");
    const s = tiller([
      "landscape",
      "surface",
      run,
      "--directions",
      "random",
      "--steps",
      "5",
      "--range",
      "-1,1",
      "--examples",
      "64",
      "--name",
      "r",
      "-q",
    ]);
    expect(s.status, s.stderr).toBe(0);
    const surface = JSON.parse(readFileSync(join(run, "landscape", "r.json"), "utf8"));
    expect(surface.kind).toBe("surface");
    expect(surface.subject.evaluation).toEqual({ split: "test", count: 64, offset: 0 });
    expect(surface.panels[0].grid.loss[2][2]).toBeCloseTo(surface.center.loss, 5);
    expect(existsSync(join(run, "landscape", "r.directions.safetensors"))).toBe(true);
    const f = tiller(["landscape", "fit", join(run, "landscape", "r.json"), "-q"]);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/^Function parameters = \[/);
    const t = tiller(["landscape", "topology", run, "--surface", "r", "--quiet"]);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/minima with persistence > 0.01: \d+/);
    for (const fig of ["r.svg", "r-fit.svg", "r-topology.svg"])
      expect(existsSync(join(run, "figures", fig)), fig).toBe(true);
  });

  it("landscape commands reject bad input with exit code 2 and one line", () => {
    const bad = tiller(["landscape", "surface", join(root, "a"), "--range", "0.2,-0.2"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/lo < hi/);
    const missing = tiller(["landscape", "hessian", join(root, "a"), "--epoch", "9"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(missing.stderr).toMatch(/no checkpoint for epoch 9/);
  });
});
