/**
 * End-to-end: real Fashion-MNIST (a 2,000-image subset), the CLI as a user runs it, and the
 * resume guarantee — a run killed with SIGKILL mid-epoch and resumed ends with the same weights
 * as a run never interrupted.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors } from "../src/engine/safetensors.js";
import { resolveDataDir } from "../src/data/fashion-mnist.js";

const cli = ["--import", "tsx", "src/cli/main.ts"];
const hasData = existsSync(resolveDataDir());

function tiller(args: string[]) {
  return spawnSync(process.execPath, [...cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, TILLER_THREADS: "2" },
  });
}

function weights(dir: string, epoch: number) {
  return decodeSafetensors(readFileSync(join(dir, "checkpoints", `epoch-${epoch}.safetensors`))).tensors;
}

describe.runIf(hasData)("training on Fashion-MNIST", () => {
  const root = mkdtempSync(join(tmpdir(), "tiller-train-"));
  const common = [
    "--limit",
    "2000",
    "--batch-size",
    "64",
    "--seed",
    "3",
    "--runs",
    root,
    "-q",
    "--no-report",
  ];

  it("an MLP trained for 3 epochs on 2,000 images reaches ≥ 75% test accuracy (PyTorch twin, same setup: 78.3%)", () => {
    const r = tiller(["train", "--model", "mlp", "--epochs", "3", "--name", "e2e", ...common]);
    expect(r.status, r.stderr).toBe(0);
    const epochs = readFileSync(join(root, "e2e", "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((m) => m.type === "epoch");
    expect(epochs).toHaveLength(3);
    expect(epochs[2].test_accuracy).toBeGreaterThanOrEqual(0.75);
    expect(epochs[2].train_loss).toBeLessThan(epochs[0].train_loss);
    expect(JSON.parse(readFileSync(join(root, "e2e", "status.json"), "utf8")).status).toBe("done");
  });

  it("a run killed with SIGKILL during epoch 2 and resumed matches an uninterrupted run bitwise", async () => {
    const args = [
      "--model",
      "mlp",
      "--hidden",
      "128,32",
      "--epochs",
      "3",
      "--optimizer",
      "sgd",
      "--momentum",
      "0.9",
      "--lr",
      "0.05",
      "--log-every",
      "1",
      ...common,
    ];
    const straight = tiller(["train", ...args, "--name", "straight"]);
    expect(straight.status, straight.stderr).toBe(0);

    const child = spawn(process.execPath, [...cli, "train", ...args, "--name", "killed"], {
      stdio: "ignore",
    });
    const metrics = join(root, "killed", "metrics.jsonl");
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const lines = existsSync(metrics) ? readFileSync(metrics, "utf8") : "";
        // 2000 / 64 = 32 steps per epoch: step 40 is inside epoch 2
        if (lines.includes('"step":40,')) {
          clearInterval(timer);
          child.kill("SIGKILL");
          resolve();
        }
      }, 5);
      child.on("exit", (code) => {
        clearInterval(timer);
        reject(new Error(`run finished (code ${code}) before it could be killed`));
      });
    });
    await new Promise((r) => child.on("exit", r));
    const status = JSON.parse(readFileSync(join(root, "killed", "status.json"), "utf8"));
    expect(status.status).toBe("running"); // it never got to say anything else
    expect(status.epochsCompleted).toBe(1);

    const resumed = tiller(["train", "--resume", join(root, "killed"), "-q", "--no-report"]);
    expect(resumed.status, resumed.stderr).toBe(0);
    const a = weights(join(root, "straight"), 3);
    const b = weights(join(root, "killed"), 3);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of Object.keys(a))
      expect(Array.from(b[name].data), name).toEqual(Array.from(a[name].data));

    // A finished 2-epoch run continued with --resume --epochs 3 is the 3-epoch run, bitwise.
    const twoEpochs = args.map((v, i) => (args[i - 1] === "--epochs" ? "2" : v));
    const short = tiller(["train", ...twoEpochs, "--name", "short"]);
    expect(short.status, short.stderr).toBe(0);
    const more = tiller(["train", "--resume", join(root, "short"), "--epochs", "3", "-q", "--no-report"]);
    expect(more.status, more.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(root, "short", "config.json"), "utf8")).epochs).toBe(3);
    const c = weights(join(root, "short"), 3);
    for (const name of Object.keys(a))
      expect(Array.from(c[name].data), name).toEqual(Array.from(a[name].data));
  });
});

describe("CLI errors", () => {
  const cases: [string[], number, RegExp][] = [
    [["train", "--model", "resnet9"], 2, /argument 'resnet9' is invalid/],
    [["train", "--lr", "-1"], 2, /expected a positive number/],
    [["train", "--epochs", "0"], 2, /expected a number ≥ 1, got 0/],
    [["train", "--hidden", "512,x"], 2, /expected a number, got "x"/],
    [["train", "--bogus"], 2, /unknown option '--bogus'/],
    [["train", "--data-dir", "/nonexistent", "--limit", "10"], 1, /apt-get install dataset-fashion-mnist/],
    [["report", "no-such-run"], 1, /no run at/],
    [["runs", "show", "no such run!"], 2, /invalid run id/],
  ];
  for (const [args, code, message] of cases)
    it(`tiller ${args.join(" ")} → exit ${code}, one clear line`, () => {
      const r = tiller(args);
      expect(r.status).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m); // no stack trace without --debug
    });
});
