/**
 * Where the MLP training step (784-512-64-10, ReLU, softmax cross-entropy, SGD, B = 256, the
 * `makeTrainStep` of src/train/loop.ts) spends its time on the wasm backend. Prints one JSON line.
 *
 *   step_ms        wall time of the jitted step, loss read back each step (worker pool as set by
 *                  TILLER_THREADS)
 *   matmul_ms      a jitted function doing only the step's matrix products, same shapes (3 forward,
 *                  3 weight gradients, 2 input gradients)
 *   call_ms        fixed cost of one jitted call + read-back: x + 1 on a 1-element array
 *   data_ms        one batch gathered from a 60 000-image host array (src/data/batches.ts) and
 *                  copied into the engine
 *   kernels        per-kernel times from jax-js's profiler for one step, grouped as matmul-sized
 *                  reductions, other reductions and elementwise kernels; the sum of kernel time vs
 *                  the step's wall time is the JavaScript/dispatch overhead. Kernel times are only
 *                  meaningful single-threaded (TILLER_THREADS=0: synchronous dispatch); with the
 *                  pool they are dispatch times, and `kernels` is left out.
 *
 * `node --import tsx bench/profile.ts` (or build/bench/profile.js on the GPU machine).
 */
import os from "node:os";
import { jit, numpy as np, profiler, random } from "../src/engine/jax.js";
import { startEngine } from "../src/engine/device.js";
import { keyFromSeed, splitKey } from "../src/engine/prng.js";
import { gatherBatch } from "../src/data/batches.js";
import { syntheticTrainStep } from "./train-step.js";
import { kernelGroups, type Measure } from "./kernel-groups.js";

const B = 256;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeMs(fn: () => Promise<void>, repeats: number, warmup = 3): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

async function main() {
  const device = await startEngine();
  const step = syntheticTrainStep("mlp", { name: "sgd", lr: 0.01 }, B);
  const oneStep = async () => void (await step.run());
  const stepMs = await timeMs(oneStep, 30);

  // The step's matrix products alone: h1 = x W1, h2 = h1 W2, o = h2 W3; dW = hᵀ d; dh = d Wᵀ.
  const [k1, k2, k3, k4] = splitKey(keyFromSeed(2), 4);
  const xs = random.normal(k1, [B, 784]);
  const w1 = random.normal(k2, [784, 512]);
  const w2 = random.normal(k3, [512, 64]);
  const w3 = random.normal(k4, [64, 10]);
  const products = jit((a: np.Array, p: np.Array, q: np.Array, r: np.Array) => {
    const h1 = np.matmul(a.ref, p.ref);
    const h2 = np.matmul(h1.ref, q.ref);
    const o = np.matmul(h2.ref, r.ref);
    const g3 = np.matmul(h2.transpose(), o.ref);
    const d2 = np.matmul(o, r.transpose());
    const g2 = np.matmul(h1.ref.transpose(), d2.ref);
    const d1 = np.matmul(d2, q.transpose());
    const g1 = np.matmul(a.transpose(), d1);
    return g1.sum().add(g2.sum()).add(g3.sum()).add(h1.sum()).add(p.sum());
  });
  const matmulMs = await timeMs(async () => {
    await products(xs.ref, w1.ref, w2.ref, w3.ref).data();
  }, 30);

  const tiny = np.zeros([1]);
  const inc = jit((a: np.Array) => a.add(1));
  const callMs = await timeMs(async () => {
    await inc(tiny.ref).data();
  }, 100);

  const images = new Float32Array(60000 * 784).map((_, i) => (i % 255) / 255);
  const split = {
    images,
    labels: new Uint8Array(60000),
    shape: [1, 28, 28] as [number, number, number],
    n: 60000,
  };
  const order = Array.from({ length: 60000 }, (_, i) => (i * 7919) % 60000);
  let start = 0;
  const dataMs = await timeMs(async () => {
    const b = gatherBatch(split as never, order, start, B);
    start = (start + B) % (60000 - B);
    const xb = np.array(b.x, { shape: [B, 1, 28, 28] });
    const yb = np.array(b.y, { shape: [B], dtype: np.int32 });
    await xb
      .add(yb.astype(np.float32).reshape([B, 1, 1, 1]))
      .sum()
      .data();
  }, 30);

  let kernels: ReturnType<typeof kernelGroups> | undefined;
  let kernelMs: number | undefined;
  let tracedStepMs: number | undefined;
  if (process.env.TILLER_THREADS === "0") {
    performance.clearMeasures();
    profiler.startTrace();
    const t0 = performance.now();
    await oneStep();
    tracedStepMs = performance.now() - t0;
    profiler.stopTrace();
    const entries = performance.getEntriesByType("measure") as unknown as Measure[];
    kernels = kernelGroups(entries);
    kernelMs = entries.reduce((s, e) => s + e.duration, 0);
  }
  process.stdout.write(
    JSON.stringify({
      device,
      threads: process.env.TILLER_THREADS ?? "cores",
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model,
      loadavg: os.loadavg(),
      step_ms: stepMs,
      matmul_ms: matmulMs,
      call_ms: callMs,
      data_ms: dataMs,
      traced_step_ms: tracedStepMs,
      kernel_ms: kernelMs,
      kernels,
    }) + "\n",
  );
  step.dispose();
  products.dispose();
}

await main();
process.exit(0);
