/**
 * `tiller optim path` and `tiller optim compare` as a user runs them.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDataDir } from "../src/data/fashion-mnist.js";

const hasData = existsSync(resolveDataDir());
const root = mkdtempSync(join(tmpdir(), "tiller-optim-"));

/** Runs the CLI without blocking the test worker (a blocked worker misses vitest's heartbeats). */
function tiller(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args],
      { encoding: "utf8", env: { ...process.env, TILLER_THREADS: "2", TILLER_RUNS: root } },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("tiller optim path", () => {
  it("--json prints the start and one point per step, with f at each", async () => {
    const r = await tiller([
      "optim",
      "path",
      "--fn",
      "rosenbrock",
      "--optimizer",
      "adam",
      "--lr",
      "0.01",
      "--steps",
      "100",
      "--start",
      "-1.5,2",
      "--param",
      "beta1=0.8",
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.points).toHaveLength(101);
    expect(out.values).toHaveLength(101);
    expect(out.points[0]).toEqual([-1.5, 2]);
    expect(out.values[0]).toBe(12.5);
    // Adam's first step moves each coordinate by lr against the gradient's sign: (−, −) here.
    expect(out.points[1][0]).toBeCloseTo(-1.49, 6);
    expect(out.points[1][1]).toBeCloseTo(2.01, 6);
    expect(out.values[100]).toBeLessThan(out.values[0]);
  });

  it("a diverging run exits 1 with a one-line message and still prints the points up to there", async () => {
    const r = await tiller([
      "optim",
      "path",
      "--fn",
      "quadratic",
      "--optimizer",
      "sgd",
      "--lr",
      "2",
      "--steps",
      "300",
      "--json",
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sgd on quadratic: diverged at step \d+/);
    const out = JSON.parse(r.stdout);
    expect(out.diverged.step).toBe(23); // f ≈ 2y² with y ← −7y overflows float32 at step 23
    expect(out.points.length).toBe(out.diverged.step);
    expect(out.points.flat().every(Number.isFinite)).toBe(true);
  });

  it("the gaussian bowl takes its parameters from --param", async () => {
    const r = await tiller([
      "optim",
      "path",
      "--fn",
      "gaussian",
      "--optimizer",
      "sgd",
      "--lr",
      "0.5",
      "--steps",
      "1",
      "--start",
      "1,0",
      "--param",
      "A=2",
      "--param",
      "offset=3",
      "--param",
      "sigma1=0.5",
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // f = 3 − 2·exp(−x²/(2·0.25)); ∂f/∂x at x = 1 is 8·exp(−2)
    expect(out.values[0]).toBeCloseTo(3 - 2 * Math.exp(-2), 5);
    expect(out.points[1][0]).toBeCloseTo(1 - 0.5 * 8 * Math.exp(-2), 5);
  });

  it("bad input is a usage error (exit 2, one line)", async () => {
    const cases: [string[], RegExp][] = [
      [["--optimizer", "adam", "--param", "bogus=1"], /unknown --param "bogus"/],
      [["--start", "1"], /expected x,y/],
      [["--optimizers", "adam,nadam"], /unknown optimizer "nadam"/],
    ];
    for (const [args, message] of cases) {
      const r = await tiller(["optim", "path", ...args, "--json"]);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it("without --json it draws every optimiser's path over the contour map into the run directory", async () => {
    const r = await tiller([
      "optim",
      "path",
      "--fn",
      "himmelblau",
      "--optimizers",
      "sgd,momentum,adam,lion",
      "--lr",
      "0.01",
      "--steps",
      "30",
      "--name",
      "paths",
      "-q",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const svg = readFileSync(join(root, "paths", "figures", "paths.svg"), "utf8");
    expect(svg).toMatch(/^<svg/);
    for (const name of ["sgd", "momentum", "adam", "lion"]) expect(svg).toContain(`Optimiser: ${name}`);
    const saved = JSON.parse(readFileSync(join(root, "paths", "paths.json"), "utf8"));
    expect(Object.keys(saved)).toEqual(["sgd", "momentum", "adam", "lion"]);
    expect(saved.adam.points).toHaveLength(31);
  });
});

describe.runIf(hasData)("tiller optim compare", () => {
  it("trains each optimiser from the same weights on the same batches and writes the table and figure", async () => {
    const config = join(root, "optimizers.json");
    writeFileSync(config, JSON.stringify({ "adam-fast": { name: "adam", lr: 0.003 } }));
    const r = await tiller([
      "optim",
      "compare",
      "--model",
      "mlp",
      "--hidden",
      "32",
      "--optimizers",
      "sgd,adam-fast,lion",
      "--config",
      config,
      "--epochs",
      "1",
      "--limit",
      "512",
      "--batch-size",
      "64",
      "--log-every",
      "1",
      "--name",
      "cmp",
      "-q",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/optimizer\s+status/);
    const dir = join(root, "cmp");
    const rows = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(rows.map((row: { optimizer: string }) => row.optimizer)).toEqual(["sgd", "adam-fast", "lion"]);
    expect(readdirSync(join(dir, "members")).sort()).toEqual(["adam-fast", "lion", "sgd"]);
    const firstStep = (label: string) =>
      readFileSync(join(dir, "members", label, "metrics.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
        .find((m) => m.type === "step" && m.step === 1);
    // The loss at step 1 is computed before any update: the same init and batch give the same number.
    const [a, b, c] = ["sgd", "adam-fast", "lion"].map(firstStep);
    expect(b.loss).toBe(a.loss);
    expect(c.loss).toBe(a.loss);
    expect(b.grad_norm).toBe(a.grad_norm);
    // Optimiser state, exact: P params (784·32 + 32 + 32·10 + 10); SGD momentum buffer + step count,
    // Adam two moments + count, Lion one moment.
    const P = 784 * 32 + 32 + 32 * 10 + 10;
    expect(rows.map((row: { opt_state_bytes: number }) => row.opt_state_bytes)).toEqual([
      4 * P + 4,
      8 * P + 4,
      4 * P,
    ]);
    const configs = ["sgd", "adam-fast", "lion"].map(
      (l) => JSON.parse(readFileSync(join(dir, "members", l, "config.json"), "utf8")).optimizer,
    );
    expect(configs).toEqual([
      { name: "sgd", lr: 0.01, momentum: 0.9 },
      { name: "adam", lr: 0.003 },
      { name: "lion", lr: 1e-4 },
    ]);
    expect(readFileSync(join(dir, "summary.csv"), "utf8").split("\n")[0]).toMatch(/^optimizer,status,epochs/);
    const svg = readFileSync(join(dir, "figures", "compare.svg"), "utf8");
    for (const title of ["Training loss", "Test accuracy", "Gradient norm", "Optimiser state memory"])
      expect(svg).toContain(title);
  });

  it("an unknown optimiser or config key stops before any training (exit 2)", async () => {
    expect((await tiller(["optim", "compare", "--optimizers", "sgd,nadam", "--epochs", "1"])).status).toBe(2);
    const bad = join(root, "bad.json");
    writeFileSync(bad, JSON.stringify({ x: { name: "adam", momentum: 0.9 } }));
    const r = await tiller(["optim", "compare", "--config", bad, "--epochs", "1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/adam has no parameter/);
  });
});
