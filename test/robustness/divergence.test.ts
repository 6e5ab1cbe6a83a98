/**
 * Divergence: NaN/Inf in the loss or the gradients is caught at the step it first appears; the run
 * stops marked `diverged`, its reason naming the step, the offending tensors and their norms; a
 * comparison marks that row diverged and trains the others. With `--on-divergence skip` such a
 * step is left unapplied (params and optimiser state as before it) and logged, up to `--max-skips`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { expectCleanFailure, readJsonFile, tiller, tinyTrain, writeDataDir } from "./helpers.js";

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

  it("skip: a non-finite step is not applied, is logged, and the run goes on (library)", async () => {
    const { startEngine } = await import("../../src/engine/device.js");
    const { resolveTrainConfig } = await import("../../src/train/session.js");
    const { train } = await import("../../src/train/loop.js");
    const { Run } = await import("../../src/runs/store.js");
    const { toHost, treeDispose, treeRef } = await import("../../src/engine/tree.js");
    await startEngine();
    const n = 32;
    const images = new Float32Array(n * 784).fill(0.5);
    images.fill(1e25, 7 * 784, 8 * 784); // the batch holding image 7 has an infinite gradient norm
    const split = { n, shape: [1, 28, 28] as [number, number, number], images, labels: new Int32Array(n) };
    const dataset = { name: "synthetic", classes: ["a", "b"], train: split, test: split };
    const configFor = (id: string, maxSkips?: number) =>
      resolveTrainConfig(
        {
          model: "mlp",
          modelOptions: { hidden: [4] },
          optimizer: { name: "adam", lr: 1e-3 },
          epochs: 2,
          batchSize: 16,
          seed: 0,
          logEvery: 1,
          onDivergence: "skip",
          maxSkips,
        },
        id,
      );

    // Goes on: step 2 (image 7's batch) is skipped; by epoch 2 Adam has tamed that image, so the
    // other three steps are applied, and Adam's step count says only they were.
    const config = configFor("skip");
    expect(config).toMatchObject({ onDivergence: "skip", maxSkips: 10 });
    const run = Run.create(runs, "skip", config);
    const skipped: number[] = [];
    const result = await train(config, dataset, run, { callbacks: { onSkip: (e) => skipped.push(e.step) } });
    treeDispose(result.params);
    expect(result.status).toBe("done");
    const metrics = run.metrics();
    const skips = metrics.filter((m) => m.type === "skip");
    expect(skips.map((m) => m.step)).toEqual(skipped);
    expect(skips.map((m) => [m.epoch, m.step, m.skips, m.grad_norm])).toEqual([[1, 2, 1, null]]);
    expect(skips[0].reason).toMatch(/^gradient norm became Infinity \(loss [\d.e+]+\) at epoch 1, step 2; /);
    expect(metrics.filter((m) => m.type === "step").map((m) => m.step)).toEqual([1, 3, 4]);
    for (const m of metrics) if (m.type === "epoch") expect(Number.isFinite(m.train_loss)).toBe(true);
    expect(run.loadCheckpoint("epoch-2").tensors["opt.1.count"].data[0]).toBe(3);

    // --max-skips 0: the first skip stops the run, with the params of the last applied step.
    const capped = configFor("skip-cap", 0);
    const capRun = Run.create(runs, "skip-cap", capped);
    let last: ReturnType<typeof toHost> | undefined;
    const stopped = await train(capped, dataset, capRun, {
      callbacks: {
        onStart: ({ params }) => void (last = toHost(treeRef(params))),
        onStepParams: (params) => void (last = toHost(treeRef(params))),
      },
    });
    expect(stopped.status).toBe("diverged");
    expect(stopped.reason).toMatch(
      /^1 steps skipped, more than the 0 allowed; last: gradient norm became Infinity/,
    );
    expect(capRun.status()).toMatchObject({ status: "diverged", reason: stopped.reason });
    expect(await toHost(treeRef(stopped.params))).toEqual(await last);
    treeDispose(stopped.params);
  });

  it("skip through the CLI: repeated non-finite steps end diverged past --max-skips", async () => {
    // lr 1e30: step 1 throws the weights to ~1e28; every later step is NaN and skipped.
    const r = await tiller(
      tinyTrain(runs, data, "boom-skip", [
        ...["--optimizer", "sgd", "--lr", "1e30", "--log-every", "1", "--epochs", "1"],
        ...["--on-divergence", "skip", "--max-skips", "2"],
      ]),
    );
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(
      /^status: diverged \(3 steps skipped, more than the 2 allowed; last: loss became NaN \(gradient norm \w+\) at epoch 1, step 4; /m,
    );
    const dir = join(runs, "boom-skip");
    expect(readJsonFile(join(dir, "config.json"))).toMatchObject({ onDivergence: "skip", maxSkips: 2 });
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; step: number; skips?: number; reason?: string });
    expect(lines.map((l) => [l.type, l.step, l.skips])).toEqual([
      ["step", 1, undefined],
      ["skip", 2, 1],
      ["skip", 3, 2],
      ["skip", 4, 3],
    ]);
    expect(lines[1].reason).toMatch(/^loss became NaN .* at epoch 1, step 2; /);
    expectCleanFailure(
      await tiller(tinyTrain(runs, data, "no-skip", ["--max-skips", "3"])),
      2,
      /maxSkips \(--max-skips\): applies to --on-divergence skip/,
    );
  });

  it("optim compare marks the diverging optimiser's row diverged and trains the others", async () => {
    const config = join(root, "optimizers.json");
    writeFileSync(config, JSON.stringify({ "sgd-boom": { name: "sgd", lr: 1e30 } }));
    const r = await tiller([
      ...["optim", "compare", "--optimizers", "sgd-boom,adam", "--config", config, "--hidden", "8"],
      ...["--epochs", "1", "--batch-size", "32", "--data-dir", data, "--runs", runs, "--name", "cmp", "-q"],
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
