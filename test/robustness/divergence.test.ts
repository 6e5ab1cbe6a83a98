/**
 * Divergence: NaN/Inf in the loss or the gradients is caught at the step it first appears; the run
 * stops marked `diverged`, its reason naming the step, the offending tensors and their norms; a
 * comparison marks that row diverged and trains the others.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readJsonFile, tiller, tinyTrain, writeDataDir } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tiller-divergence-"));
const runs = join(root, "runs");
const data = join(root, "data");

beforeAll(() => {
  writeDataDir(data);
});

const steps = (dir: string) =>
  readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.includes('"type":"step"'))
    .map((l) => JSON.parse(l) as { step: number; loss: number; grad_norm: number });

describe("divergence", () => {
  it("an exploding SGD run stops at the first non-finite step, naming the step, tensors and norms", async () => {
    // lr 1e30: step 1 is finite and throws the weights to ~1e28, step 2's logits overflow.
    const r = await tiller(
      tinyTrain(runs, data, "boom", [
        "--optimizer",
        "sgd",
        "--lr",
        "1e30",
        "--log-every",
        "1",
        "--epochs",
        "1",
      ]),
    );
    expect(r.status, r.stderr).toBe(1);
    const line = r.stdout.split("\n").find((l) => l.startsWith("status:"));
    expect(line).toMatch(
      /^status: diverged \(loss became NaN \(gradient norm \w+\) at epoch 1, step 2; non-finite params after the step: fc0\.weight \(norm (NaN|Infinity)\)/,
    );
    const dir = join(runs, "boom");
    const status = readJsonFile<{ status: string; reason: string; epochsCompleted: number }>(
      join(dir, "status.json"),
    );
    expect(status).toMatchObject({ status: "diverged", epochsCompleted: 0 });
    expect(line).toContain(status.reason);
    // Every logged step before it is finite: the first bad step is the one reported.
    const logged = steps(dir);
    expect(logged.map((s) => s.step)).toEqual([1]);
    expect(Number.isFinite(logged[0].loss) && Number.isFinite(logged[0].grad_norm)).toBe(true);
  });

  it("an infinite gradient with a finite loss is caught at that step (library)", async () => {
    const { startEngine } = await import("../../src/engine/device.js");
    const { resolveTrainConfig } = await import("../../src/train/session.js");
    const { train } = await import("../../src/train/loop.js");
    const { Run } = await import("../../src/runs/store.js");
    await startEngine();
    const n = 32;
    const images = new Float32Array(n * 784).fill(0.5);
    // One image of huge pixels: its logits stay finite (the loss too), its weight gradient's
    // squared norm overflows float32.
    images.fill(1e25, 7 * 784, 8 * 784);
    const split = { n, shape: [1, 28, 28] as [number, number, number], images, labels: new Int32Array(n) };
    const dataset = { name: "synthetic", classes: ["a", "b"], train: split, test: split };
    const config = resolveTrainConfig(
      {
        model: "mlp",
        modelOptions: { hidden: [4] },
        optimizer: { name: "sgd", lr: 1e-3 },
        epochs: 1,
        batchSize: n,
        seed: 0,
        logEvery: 1,
      },
      "inf-grad",
    );
    const run = Run.create(runs, "inf-grad", config);
    const result = await train(config, dataset, run);
    expect(result.status).toBe("diverged");
    expect(result.reason).toMatch(/^gradient norm became Infinity \(loss [\d.e+]+\) at epoch 1, step 1; /);
    expect(result.reason).toMatch(/fc0\.weight \(norm [\d.e+]+\)/);
    expect(run.status()).toMatchObject({ status: "diverged", reason: result.reason });
  });

  it("optim compare marks the diverging optimiser's row diverged and trains the others", async () => {
    const config = join(root, "optimizers.json");
    writeFileSync(config, JSON.stringify({ "sgd-boom": { name: "sgd", lr: 1e30 } }));
    const r = await tiller([
      ...["optim", "compare", "--optimizers", "sgd-boom,adam", "--config", config, "--hidden", "8"],
      ...["--epochs", "1", "--batch-size", "32", "--data-dir", data, "--out", runs, "--name", "cmp", "-q"],
    ]);
    // Exit 1 says a member diverged; the table and the other members are there all the same.
    expect(r.status, r.stderr).toBe(1);
    const rows = readJsonFile<{ optimizer: string; status: string; epochs: number }[]>(
      join(runs, "cmp", "summary.json"),
    );
    expect(rows.map((row) => [row.optimizer, row.status, row.epochs])).toEqual([
      ["sgd-boom", "diverged", 0],
      ["adam", "done", 1],
    ]);
    expect(r.stdout).toMatch(/sgd-boom\s+diverged/);
  });
});
