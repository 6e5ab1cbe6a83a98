import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { toHost } from "../../src/engine/tree.js";
import { FINETUNE_DEFAULTS } from "../../src/steer/finetune.js";
import { lmInit } from "../../src/lm/model.js";
import { pretrainRunConfig, PRETRAIN_DEFAULTS } from "../../src/lm/pretrain.js";
import { saveLm } from "../../src/lm/store.js";
import { Run } from "../../src/runs/store.js";
import { initPolicy, SVF_DEFAULTS } from "../../src/steer/svf/compose.js";
import { cachedSvd } from "../../src/steer/svf/svd.js";
import { selectTargets } from "../../src/steer/svf/targets.js";
import { presetConfig } from "../../src/lm/presets.js";
import type { SelfAdaptResult } from "../../src/steer/svf/adapt/session.js";

const cli = ["--import", "tsx", "src/cli/main.ts"];
/** The CLI in a child process, awaited (a synchronous spawn would stall vitest's worker RPC). */
const tiller = (args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((done) =>
    execFile(process.execPath, [...cli, ...args], { encoding: "utf8" }, (error, stdout, stderr) =>
      done({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    ),
  );

let root: string;

/**
 * A base LM and SVF expert runs in the formats `lm pretrain` and `svf train` write, made directly
 * (random weights, random z) so that the test exercises `svf adapt`, not training.
 */
beforeAll(async () => {
  await startEngine();
  root = mkdtempSync(join(tmpdir(), "tiller-adapt-"));
  const config = pretrainRunConfig({ ...PRETRAIN_DEFAULTS, tasks: ["math"], size: "tiny", steps: 1 });
  const base = Run.create(root, "base", config);
  const params = lmInit(keyFromSeed(0), presetConfig("tiny"));
  await saveLm(base, params);
  base.setStatus("done", 1);
  const targets = selectTargets(params, "mlp");
  for (const [i, task] of ["math", "code", "reasoning", "dispatch"].entries()) {
    const run = Run.create(root, `svf-${task}`, {
      kind: "adapter",
      createdAt: new Date().toISOString(),
      base: base.dir,
      targets: "mlp",
      adapter: { kind: "svf", svf: SVF_DEFAULTS },
      finetune: { ...FINETUNE_DEFAULTS, task, objective: "rl" },
    });
    const { factors } = await cachedSvd(run, params, targets);
    const policy = initPolicy(keyFromSeed(100 + i), factors, { ...SVF_DEFAULTS, noise: 1 });
    run.saveCheckpoint("expert", await toHost(policy), {
      format: "tiller-adapter-v1",
      adapter: "svf",
      task,
      targets: targets.join(","),
      max_mult: "1",
    });
    run.setStatus("done", 1);
  }
});

const experts = () => `math=${root}/svf-math,code=${root}/svf-code,reasoning=${root}/svf-reasoning`;

describe("tiller svf adapt", () => {
  it("runs all three strategies and stores the comparison, confusion matrices and CEM curve", async () => {
    const r = await tiller([
      "svf",
      "adapt",
      "--experts",
      experts(),
      "--classifier",
      `${root}/svf-dispatch`,
      "--strategy",
      "all",
      "--task",
      "math-hard",
      "--test-examples",
      "6",
      "--shots",
      "3",
      "--iterations",
      "2",
      "--population",
      "4",
      "--runs",
      root,
      "--name",
      "adapt",
    ]);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| math-hard \(held out\) \|/);
    expect(r.stdout).toMatch(/T² prompt \| T² classifier \| T² few-shot/);
    const result = JSON.parse(readFileSync(join(root, "adapt", "results.json"), "utf8")) as SelfAdaptResult;
    expect(result.rows.map((x) => x.task)).toEqual(["math-hard", "math", "code", "reasoning"]);
    for (const row of result.rows) {
      expect(row.base?.n).toBe(6);
      expect(row.prompt?.n).toBe(6);
      expect(row.fewshot?.n).toBe(6);
    }
    expect(result.rows[1].expert?.n).toBe(6);
    for (const s of ["prompt", "classifier"] as const) {
      const c = result.confusion[s]!;
      expect(c.labels).toEqual(["math", "code", "reasoning", "other"]);
      for (const row of c.rows) expect(row.counts.reduce((a, b) => a + b, 0)).toBe(6);
    }
    expect(result.cem["math-hard"].history).toHaveLength(2);
    expect(result.cem["math-hard"].evaluations).toBe(8);
    expect(result.cem["math-hard"].alpha).toHaveLength(3);
    expect(result.throughput.prompt?.pass1?.prompts).toBe(24);
    expect(readFileSync(join(root, "adapt", "figures", "cem-math-hard.svg"), "utf8")).toMatch(/^<svg/);
    expect(existsSync(join(root, "adapt", "table.md"))).toBe(true);
    expect(JSON.parse(readFileSync(join(root, "adapt", "status.json"), "utf8")).status).toBe("done");

    const m = await tiller(["svf", "adapt", "--merge", "adapt,adapt", "--runs", root, "--name", "merged"]);
    expect(m.status).toBe(0);
    const merged = JSON.parse(readFileSync(join(root, "merged", "results.json"), "utf8")) as SelfAdaptResult;
    expect(merged.rows).toHaveLength(8);
    expect(merged.confusion.prompt?.prompts).toBe(48);
  });

  it("usage mistakes exit 2 with one line naming the problem", async () => {
    const cases: [string[], RegExp][] = [
      [["svf", "adapt", "--runs", root], /--experts is required/],
      [["svf", "adapt", "--experts", "math", "--runs", root], /category=run pairs/],
      [["svf", "adapt", "--experts", `mixed=${root}/svf-math`, "--runs", root], /held-out task/],
      [
        ["svf", "adapt", "--experts", experts(), "--strategy", "oracle", "--runs", root],
        /unknown strategy "oracle"/,
      ],
      [
        ["svf", "adapt", "--experts", experts(), "--strategy", "classifier", "--runs", root],
        /needs --classifier/,
      ],
      [["svf", "adapt", "--experts", experts(), "--task", "poetry", "--runs", root], /unknown task "poetry"/],
      [
        ["svf", "adapt", "--experts", `math=${root}/base`, "--strategy", "prompt", "--runs", root],
        /not an SVF expert run/,
      ],
    ];
    const results = await Promise.all(cases.map(([args]) => tiller(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i];
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
  });
});
