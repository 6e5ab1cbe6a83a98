/**
 * `npm run parity`: trains Tiller and its PyTorch twin (scripts/reference/twin.py: same
 * architecture, same init scheme, same data order rule, optimiser, batch and epochs) for several
 * seeds and prints test accuracy side by side. Needs Debian's python3-torch; not part of npm test.
 *
 *   npm run parity -- --models mlp,cnn --seeds 0,1,2 --epochs 3 [--limit N]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { runTraining } from "../src/train/session.js";
import { MODELS, type ModelName } from "../src/nn/models/index.js";
import { loadFashionMnist } from "../src/data/fashion-mnist.js";
import { runPythonJson } from "../bench/python.js";

function modelName(name: string): ModelName {
  if (!(MODELS as readonly string[]).includes(name))
    throw new Error(`unknown model "${name}": choose from ${MODELS.join(", ")}`);
  return name as ModelName;
}

type TwinResult = { test_accuracy_per_epoch: number[]; seconds: number };

const o = new Command("parity")
  .option("--models <list>", "models", "mlp,cnn")
  .option("--seeds <list>", "seeds", "0,1,2")
  .option("--epochs <n>", "epochs", "3")
  .option("--limit <n>", "training images (default: all 60,000)")
  .parse()
  .opts<{ models: string; seeds: string; epochs: string; limit?: string }>();

const epochs = Number(o.epochs);
const limit = o.limit ? Number(o.limit) : null;
const root = mkdtempSync(join(tmpdir(), "tiller-parity-"));
const dataset = loadFashionMnist({ limit });
const rows: string[][] = [];
const pct = (x: number) => (100 * x).toFixed(2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

for (const model of o.models.split(",").map(modelName)) {
  const ours: number[] = [];
  const theirs: number[] = [];
  for (const seed of o.seeds.split(",").map(Number)) {
    const t0 = performance.now();
    const { result } = await runTraining(
      {
        model,
        optimizer: { name: "adam", lr: 1e-3 },
        epochs,
        batchSize: 256,
        seed,
        limit,
        runsRoot: root,
        name: `${model}-${seed}`,
      },
      { dataset },
    );
    const tillerS = (performance.now() - t0) / 1000;
    const acc = result.epochs.at(-1)!.test_accuracy;
    const twin = await runPythonJson<TwinResult>("twin.py", [
      "--model",
      model,
      "--epochs",
      String(epochs),
      "--batch-size",
      "256",
      "--lr",
      "1e-3",
      "--seed",
      String(seed),
      ...(limit ? ["--limit", String(limit)] : []),
    ]);
    const twinAcc = twin.test_accuracy_per_epoch.at(-1)!;
    ours.push(acc);
    theirs.push(twinAcc);
    rows.push([
      model,
      String(seed),
      pct(acc),
      pct(twinAcc),
      `${tillerS.toFixed(0)} s`,
      `${twin.seconds.toFixed(0)} s`,
    ]);
    process.stderr.write(
      `${model} seed ${seed}: Tiller ${pct(acc)}% (${tillerS.toFixed(0)} s) · PyTorch ${pct(twinAcc)}% (${twin.seconds.toFixed(0)} s)\n`,
    );
  }
  rows.push([
    model,
    "mean",
    pct(mean(ours)),
    pct(mean(theirs)),
    "",
    `Δ ${(100 * (mean(ours) - mean(theirs))).toFixed(2)} pt`,
  ]);
}

const header = ["model", "seed", "Tiller acc %", "PyTorch acc %", "Tiller time", "PyTorch time"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [header, ...rows])
  process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join("  ") + "\n");
process.exit(0);
