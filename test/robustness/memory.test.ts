/**
 * Long runs release their engine buffers: the number of live jax-js buffers after training, an
 * optimiser comparison and a landscape pass is what it was before, however many epochs ran.
 * Default suite: a few epochs; TILLER_LONG: a 20-epoch comparison and larger grids.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { treeDispose } from "../../src/engine/tree.js";
import { loadFashionMnist } from "../../src/data/fashion-mnist.js";
import type { Dataset } from "../../src/data/dataset.js";
import { runSurface, runHessian } from "../../src/landscape/analyses.js";
import { runComparison } from "../../src/train/compare.js";
import { runTraining } from "../../src/train/session.js";
import { dataFiles, LONG, writeDataDir } from "./helpers.js";

type Backend = {
  malloc(...a: unknown[]): number;
  incRef(slot: number): void;
  decRef(slot: number): void;
};

/**
 * Counts the engine's live buffers by wrapping the default backend's malloc/incRef/decRef (jax-js
 * keeps its slot table private; `getBackend` is exported from its backend chunk under a short name).
 */
async function bufferCounter(): Promise<() => number> {
  const dist = join("node_modules", "@jax-js", "jax", "dist");
  const chunk = readdirSync(dist).find((f) => /^backend-.*\.js$/.test(f));
  if (!chunk) throw new Error(`no backend chunk in ${dist}`);
  const alias = /getBackend as (\w+)/.exec(readFileSync(join(dist, chunk), "utf8"))?.[1];
  if (!alias) throw new Error(`getBackend is not exported by ${chunk}`);
  const mod = (await import(pathToFileURL(join(process.cwd(), dist, chunk)).href)) as Record<
    string,
    () => Backend
  >;
  const backend = mod[alias]();
  const refs = new Map<number, number>();
  const { malloc, incRef, decRef } = backend;
  backend.malloc = function (...a) {
    const slot = malloc.apply(this, a);
    refs.set(slot, 1);
    return slot;
  };
  backend.incRef = function (slot) {
    incRef.call(this, slot);
    if (refs.has(slot)) refs.set(slot, refs.get(slot)! + 1);
  };
  backend.decRef = function (slot) {
    decRef.call(this, slot);
    const n = refs.get(slot);
    if (n === undefined) return;
    if (n <= 1) refs.delete(slot);
    else refs.set(slot, n - 1);
  };
  return () => refs.size;
}

const root = mkdtempSync(join(tmpdir(), "tiller-memory-"));
const runs = join(root, "runs");
let live: () => number;
let dataset: Dataset;

beforeAll(async () => {
  await startEngine();
  live = await bufferCounter();
  dataset = loadFashionMnist({ dataDir: writeDataDir(join(root, "data")) });
});

const request = (epochs: number, name: string) => ({
  model: "mlp" as const,
  modelOptions: { hidden: [16] },
  optimizer: { name: "adam" as const, lr: 1e-3 },
  epochs,
  batchSize: 32,
  seed: 0,
  runsRoot: runs,
  name,
});

describe("engine buffers over long runs", () => {
  it("training: no buffer outlives the run, for 1 epoch or many", async () => {
    const counts: number[] = [];
    for (const [i, epochs] of [1, LONG ? 20 : 4].entries()) {
      const before = live();
      const { result } = await runTraining(request(epochs, `train-${i}`), { dataset });
      treeDispose(result.params);
      counts.push(live() - before);
    }
    // The first run may leave compiled-program constants behind; the longer one adds nothing.
    expect(counts[1], `buffers left: ${counts}`).toBe(0);
    expect(counts[0]).toBeLessThanOrEqual(4);
  });

  it(`an optimiser comparison (${LONG ? 20 : 3} epochs, three optimisers) releases everything`, async () => {
    const before = live();
    await runComparison(
      {
        ...request(LONG ? 20 : 3, "unused"),
        name: "cmp",
        members: ["sgd", "adam", "lion"].map((label) => ({
          label,
          optimizer: { name: label as "sgd" | "adam" | "lion", lr: 1e-3 },
        })),
      },
      { dataset },
    );
    expect(live() - before).toBe(0);
  });

  it("a landscape pass (surface and Hessian) releases everything", async () => {
    const dataDir = join(root, "data");
    const before = live();
    for (let i = 0; i < (LONG ? 3 : 1); i++) {
      await runSurface({
        run: join(runs, "train-0"),
        directions: "random",
        steps: LONG ? 21 : 7,
        evaluation: { count: 32, dataDir },
        name: `s${i}`,
      });
      await runHessian({
        run: join(runs, "train-0"),
        topK: 1,
        maxIter: LONG ? 20 : 5,
        traceSamples: 20,
        densityIterations: 5,
        densityRuns: 1,
        evaluation: { count: 32, dataDir },
        name: `h${i}`,
      });
    }
    expect(live() - before).toBe(0);
  });
});

describe("resident memory over a long run", () => {
  it("a 10-epoch training run has flat memory after epoch 1 (RSS and V8 heap after a full GC)", async () => {
    // 8,192 images at batch 32: 256 steps an epoch (a real Fashion-MNIST epoch at batch 256 is
    // 235), 2,560 in all. Peak RSS alone saws by ~60 MB with V8's lazy collection, so memory is
    // read at each epoch's end after a full GC: a leak of even a batch-sized buffer (25 kB) per
    // step would then add 50 MB between epoch 2 and epoch 10.
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const dir = join(root, "data-8k");
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of Object.entries(dataFiles(8192, 64))) writeFileSync(join(dir, name), bytes);
    const data = loadFashionMnist({ dataDir: dir });
    const rss: number[] = [];
    const heap: number[] = [];
    const { result } = await runTraining(request(10, "rss"), {
      dataset: data,
      callbacks: {
        onEpoch: () => {
          gc();
          const m = process.memoryUsage();
          rss.push(m.rss / 2 ** 20);
          heap.push(m.heapUsed / 2 ** 20);
        },
      },
    });
    treeDispose(result.params);
    const show = (xs: number[]) => xs.map((m) => m.toFixed(1)).join(", ");
    expect(rss.length).toBe(10);
    expect(Math.max(...rss.slice(2)) - rss[1], `RSS after GC per epoch (MB): ${show(rss)}`).toBeLessThan(16);
    expect(
      Math.max(...heap.slice(2)) - heap[1],
      `V8 heap after GC per epoch (MB): ${show(heap)}`,
    ).toBeLessThan(4);
  }, 120_000);
});
