/**
 * End-to-end: `tiller ct` as a user runs it, on a small MLP trained on 2,000 Fashion-MNIST images
 * (a few seconds): the training-free search, a small transfer comparison, and the error exits.
 */
import { spawn, spawnSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveDataDir } from "../src/data/fashion-mnist.js";

const cli = ["--import", "tsx", "src/cli/main.ts"];
const hasData = existsSync(resolveDataDir());

function tiller(args: string[]) {
  return spawnSync(process.execPath, [...cli, ...args], { encoding: "utf8", env: { ...process.env } });
}

describe.runIf(hasData)("tiller ct", () => {
  const root = mkdtempSync(join(tmpdir(), "tiller-ct-"));
  const base = join(root, "base");

  beforeAll(() => {
    const r = tiller([
      "ct",
      "pretrain",
      "--task",
      "fashion-mnist:0-4",
      "--model",
      "mlp",
      "--hidden",
      "64",
      "--limit",
      "2000",
      "--epochs",
      "2",
      "--runs",
      root,
      "--name",
      "base",
      "-q",
    ]);
    expect(r.status, r.stderr).toBe(0);
  }, 120_000);

  it("search on the model's own classes changes no weight, never loses on validation, and draws accuracy vs β", () => {
    const r = tiller([
      "ct",
      "search",
      base,
      "--task",
      "fashion-mnist:0-4+contrast@5",
      "--betas",
      "0.8,0.9",
      "--test-limit",
      "1000",
      "--val",
      "400",
      "--runs",
      root,
      "--name",
      "s",
      "-q",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/no weight was changed/);
    const res = JSON.parse(readFileSync(join(root, "s", "results.json"), "utf8"));
    expect(res.mode).toBe("direct");
    expect(res.scores.map((s: { beta: number }) => s.beta)).toEqual([0.8, 0.9, 1]);
    expect(res.best.valAccuracy).toBeGreaterThanOrEqual(res.base.valAccuracy);
    expect(readFileSync(join(root, "s", "figures", "accuracy-vs-beta.svg"), "utf8")).toMatch(/^<svg/);
  }, 120_000);

  it("compare runs the five methods on classes 5–9 and reports accuracy and trainable parameters", () => {
    const r = tiller([
      "ct",
      "compare",
      base,
      "--task",
      "fashion-mnist:5-9",
      "--betas",
      "0.9",
      "--limit",
      "600",
      "--val",
      "200",
      "--test-limit",
      "300",
      "--epochs",
      "3",
      "--batch-size",
      "32",
      "--head-steps",
      "50",
      "--runs",
      root,
      "--name",
      "c",
      "-q",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const { rows } = JSON.parse(readFileSync(join(root, "c", "results.json"), "utf8"));
    const byName = Object.fromEntries(rows.map((x: { method: string }) => [x.method, x]));
    expect(Object.keys(byName)).toEqual([
      "linear probe",
      "linear probe + CT",
      "trainable CT",
      "LoRA (r=1)",
      "full fine-tuning",
    ]);
    const head = 64 * 5 + 5;
    expect(byName["linear probe"].trainableParams).toBe(head);
    expect(byName["trainable CT"].trainableParams).toBe(head + 2 * 64);
    expect(byName["LoRA (r=1)"].trainableParams).toBe(head + (64 + 784));
    expect(byName["full fine-tuning"].trainableParams).toBe(head + 784 * 64 + 64);
    for (const row of rows) expect(row.testAccuracy).toBeGreaterThan(0.3);
    expect(byName["linear probe + CT"].valAccuracy).toBeGreaterThanOrEqual(
      byName["linear probe"].valAccuracy,
    );
  }, 300_000);

  it("compare keeps the finished methods' rows when it is killed mid-way", async () => {
    const dir = join(root, "killed");
    const child = spawn(process.execPath, [
      ...cli,
      ...["ct", "compare", base, "--task", "fashion-mnist:5-9", "--betas", "0.9", "--limit", "600"],
      ...["--val", "200", "--test-limit", "300", "--epochs", "50", "--head-steps", "50", "-q"],
      ...["--runs", root, "--name", "killed"],
    ]);
    const file = join(dir, "results.json");
    const deadline = Date.now() + 120_000;
    while (!existsSync(file) && Date.now() < deadline && child.exitCode === null) await sleep(50);
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    const res = JSON.parse(readFileSync(file, "utf8"));
    expect(res.partial).toBe(true);
    expect(res.rows[0].method).toBe("linear probe");
    expect(readFileSync(join(dir, "table.md"), "utf8")).toMatch(/linear probe/);
  }, 180_000);

  it("robustness scores each β under attack, base included, and writes the table and the figure", () => {
    const r = tiller([
      ...["ct", "robustness", base, "--betas", "0.9", "--n", "100", "--pgd-steps", "2"],
      ...["--eps", "2/255", "--no-corruptions", "--runs", root, "--name", "rob", "-q"],
    ]);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(root, "rob", "results.json"), "utf8"));
    expect(res.partial).toBeUndefined();
    const threats = res.results.map((t: { threat: string }) => t.threat);
    expect(threats).toEqual(["clean", "FGSM ℓ∞ ε=8/255", "PGD-2 ℓ∞ ε=2/255", "PGD-2 ℓ2 ε=0.5"]);
    for (const t of res.results) expect(t.scores.map((s: { beta: number }) => s.beta)).toEqual([0.9, 1]);
    const clean = res.results[0].base.testAccuracy;
    expect(res.results[2].base.testAccuracy).toBeLessThanOrEqual(clean);
    expect(readFileSync(join(root, "rob", "figures", "robust-accuracy-vs-beta.svg"), "utf8")).toMatch(
      /^<svg/,
    );
  }, 120_000);

  it("bad input exits with one line: 2 for usage errors, 1 for a missing run", () => {
    const badGrid = tiller(["ct", "search", base, "--betas", "1:0.5:0.1"]);
    expect(badGrid.status).toBe(2);
    expect(badGrid.stderr).toMatch(/bad beta grid/);
    const badTask = tiller(["ct", "search", base, "--task", "mnist"]);
    expect(badTask.status).toBe(2);
    expect(badTask.stderr).toMatch(/unknown task "mnist"/);
    const missing = tiller(["ct", "search", "nope", "--runs", root]);
    expect(missing.status).toBe(1);
    expect(missing.stderr.trim().split("\n")[0]).toMatch(/^tiller: error: no run at/);
  }, 60_000);
});
