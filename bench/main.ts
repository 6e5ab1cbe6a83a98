/**
 * `npm run bench`: the same workloads in Tiller (jax-js on wasm; its matrix products on OpenBLAS where
 * the native route loads, and then again on the wasm route in a child process) and in PyTorch
 * (Debian python3-torch, 2 threads), one after the other in one invocation. Prints ms for each and the ratio
 * Tiller / PyTorch; writes bench/results/<timestamp>.json. Medians of repeated timings.
 *
 * PyTorch gets its best BLAS kernel (scripts/reference/blas_kernel.py sets OPENBLAS_CORETYPE in its
 * process only, when OpenBLAS picked a generic one); the BLAS, kernel, float64 check and 1024³
 * GFLOP/s are printed and stored under `torch.blas`. A PyTorch on the reference BLAS is flagged:
 * its ratios favour Tiller unfairly.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jit, numpy as np, random } from "../src/engine/jax.js";
import { startEngine } from "../src/engine/device.js";
import { conv2d } from "../src/engine/conv.js";
import { loadedNativeBlas, nativeBlasStatus } from "../src/engine/blas.js";
import { keyFromSeed, splitKey } from "../src/engine/prng.js";
import { treeRef } from "../src/engine/tree.js";
import { createModel, modelConfig } from "../src/nn/models/index.js";
import type { OptimizerConfig } from "../src/optim/index.js";
import { runPythonJson } from "./python.js";
import { randomBatch, syntheticTrainStep } from "./train-step.js";
import { landscapeBench } from "./landscape.js";
import { svdBench } from "./svd.js";

type BlasReport = {
  library: string;
  corename?: string;
  default_corename?: string;
  set_by_bench: boolean;
  rel_error_vs_float64: number;
  matmul_gflops: number;
  fair: boolean;
};

type TorchBench = {
  blas: BlasReport;
  torch_version: string;
  threads: number;
  mlp_train_step_ms: number;
  mlp_forward_ms: number;
  matmul_1024_gflops: number;
  cnn_train_step_ms: number;
  conv_layer_ms: number;
  [k: string]: unknown;
};

const quick = process.argv.includes("--quick");
const skipTorch = process.argv.includes("--no-torch");

async function median(fn: () => Promise<void>, repeats: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** ms per full training step (forward, backward, update) of `model` with `optimizer`, batch 256. */
async function trainStepMs(
  name: "mlp" | "cnn",
  optimizer: OptimizerConfig,
  repeats: number,
): Promise<number> {
  const step = syntheticTrainStep(name, optimizer, 256);
  const ms = await median(async () => void (await step.run()), repeats, 2);
  step.dispose();
  return ms;
}

async function mlpForwardMs(repeats: number): Promise<number> {
  const model = createModel(modelConfig("mlp", { inputShape: [1, 28, 28], classes: 10 }));
  const params = model.init(keyFromSeed(0));
  const f = jit((p: typeof params, x: np.Array) => model.apply(p, x));
  const { x, y } = randomBatch(keyFromSeed(1), 256);
  y.dispose();
  const ms = await median(
    async () => {
      await f(treeRef(params), x.ref).data();
    },
    repeats,
    3,
  );
  f.dispose();
  return ms;
}

async function matmulGflops(repeats: number): Promise<number> {
  const n = 1024;
  const [ka, kb] = splitKey(keyFromSeed(2), 2);
  const a = random.normal(ka, [n, n]);
  const b = random.normal(kb, [n, n]);
  const f = jit((p: np.Array, q: np.Array) => np.matmul(p, q));
  const ms = await median(
    async () => {
      // As torch.mm is timed: the product computed, not copied out (a 4 MiB read-back is ~2 ms).
      const c = await f(a.ref, b.ref).blockUntilReady();
      c.dispose();
    },
    repeats,
    2,
  );
  f.dispose();
  return (2 * n ** 3) / (ms * 1e6);
}

async function convLayerMs(repeats: number): Promise<number> {
  const [kx, kw] = splitKey(keyFromSeed(3), 2);
  const x = random.normal(kx, [256, 32, 28, 28]);
  const w = random.normal(kw, [64, 32, 3, 3]).mul(0.05);
  const f = jit((a: np.Array, b: np.Array) => conv2d(a, b, { padding: "SAME" }));
  const ms = await median(
    async () => {
      await f(x.ref, w.ref).data();
    },
    repeats,
    1,
  );
  f.dispose();
  return ms;
}

/** One line on PyTorch's BLAS: which kernel, who chose it, its accuracy and speed, and fairness. */
function blasLine(b: BlasReport): string {
  const kernel = b.corename
    ? ` ${b.corename}${b.set_by_bench ? ` (set by the bench; OpenBLAS picked ${b.default_corename})` : ""}`
    : "";
  const line =
    `PyTorch BLAS: ${b.library}${kernel}, matmul 1024³ ${b.matmul_gflops.toFixed(0)} GFLOP/s, ` +
    `relative error vs float64 ${b.rel_error_vs_float64.toExponential(1)}`;
  return b.fair
    ? line
    : `${line}\nWARNING: PyTorch is not on its best BLAS kernel here, so the ratios favour Tiller unfairly` +
        (b.library.startsWith("reference")
          ? " (install Debian's libopenblas0-pthread so that torch loads OpenBLAS)"
          : "");
}

type TillerBench = {
  mlp_train_step_ms: number;
  mlp_forward_ms: number;
  matmul_1024_gflops: number;
  cnn_train_step_ms: number;
  conv_layer_ms: number;
};

async function tillerCases(): Promise<TillerBench> {
  const r = quick ? 3 : 10;
  return {
    mlp_train_step_ms: await trainStepMs("mlp", { name: "sgd", lr: 0.01 }, quick ? 10 : 30),
    mlp_forward_ms: await mlpForwardMs(quick ? 10 : 30),
    matmul_1024_gflops: await matmulGflops(r),
    cnn_train_step_ms: await trainStepMs("cnn", { name: "adam", lr: 1e-3 }, quick ? 2 : 5),
    conv_layer_ms: await convLayerMs(quick ? 2 : 5),
  };
}

/**
 * With OpenBLAS in use, the same cases on the wasm route (TILLER_BLAS=wasm, jax-js's worker pool)
 * in a child process, so one invocation shows both; null on the wasm route already.
 */
function wasmRoute(): TillerBench | null {
  if (loadedNativeBlas() === null) return null;
  process.stderr.write("Tiller, wasm matmul route …\n");
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    "--tiller-json",
    ...(quick ? ["--quick"] : []),
  ];
  const out = execFileSync(process.execPath, args, {
    encoding: "utf8",
    env: { ...process.env, TILLER_BLAS: "wasm" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as TillerBench;
}

type Row = [string, number, number | undefined, "ms" | "GFLOP/s", number?];

function table(rows: Row[], withWasm: boolean): string {
  const ratio = (t: number, p: number | undefined, unit: string) =>
    p === undefined ? "–" : unit === "ms" ? (t / p).toFixed(2) + "×" : (p / t).toFixed(2) + "×";
  const head = withWasm
    ? [
        "| workload | Tiller (OpenBLAS) | Tiller (wasm) | PyTorch | OpenBLAS / PyTorch | wasm / PyTorch |",
        "| --- | --- | --- | --- | --- | --- |",
      ]
    : ["| workload | Tiller | PyTorch | Tiller / PyTorch time |", "| --- | --- | --- | --- |"];
  const fmt = (v: number | undefined, unit: string) => (v === undefined ? "–" : `${v.toFixed(1)} ${unit}`);
  return [
    ...head,
    ...rows.map(([name, t, p, unit, w]) =>
      withWasm
        ? `| ${name} | ${fmt(t, unit)} | ${fmt(w, unit)} | ${fmt(p, unit)} | ${ratio(t, p, unit)} | ${w === undefined ? "–" : ratio(w, p, unit)} |`
        : `| ${name} | ${fmt(t, unit)} | ${fmt(p, unit)} | ${ratio(t, p, unit)} |`,
    ),
  ].join("\n");
}

async function main() {
  const device = await startEngine();
  if (process.argv.includes("--tiller-json")) {
    process.stdout.write(JSON.stringify(await tillerCases()) + "\n");
    return;
  }
  process.stderr.write(
    `Tiller on ${device}, ${nativeBlasStatus()} (${os.cpus().length} cores: ${os.cpus()[0]?.model ?? "?"}) …\n`,
  );
  const tiller = await tillerCases();
  const wasm = wasmRoute();
  process.stderr.write("PyTorch …\n");
  const torch = skipTorch
    ? null
    : await runPythonJson<TorchBench>("bench_torch.py", quick ? ["--quick"] : []);
  const rows: Row[] = [
    [
      "MLP train step (784-512-64-10, B=256, SGD)",
      tiller.mlp_train_step_ms,
      torch?.mlp_train_step_ms,
      "ms",
      wasm?.mlp_train_step_ms,
    ],
    ["MLP forward (B=256)", tiller.mlp_forward_ms, torch?.mlp_forward_ms, "ms", wasm?.mlp_forward_ms],
    [
      "matmul 1024³",
      tiller.matmul_1024_gflops,
      torch?.matmul_1024_gflops,
      "GFLOP/s",
      wasm?.matmul_1024_gflops,
    ],
    [
      "CNN train step (B=256, Adam)",
      tiller.cnn_train_step_ms,
      torch?.cnn_train_step_ms,
      "ms",
      wasm?.cnn_train_step_ms,
    ],
    [
      "conv 3×3 32→64, 28×28, B=256 (forward)",
      tiller.conv_layer_ms,
      torch?.conv_layer_ms,
      "ms",
      wasm?.conv_layer_ms,
    ],
  ];
  rows.push(...(await landscapeBench({ quick, skipTorch, results: { tiller, torch } })));
  rows.push(
    ...(await svdBench({
      sizes: quick ? [256, 512] : [256, 512, 1024],
      skipTorch,
      threads: 2,
      jaxMax: quick ? 0 : 256,
      results: { tiller, torch },
    })),
  );
  process.stdout.write(table(rows, wasm !== null) + "\n");
  process.stdout.write(`Tiller: ${nativeBlasStatus()}\n`);
  if (torch) process.stdout.write(blasLine(torch.blas) + "\n");
  const dir = join(process.cwd(), "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
    device,
    threads: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency,
    tiller_blas: nativeBlasStatus(),
    tiller,
    tiller_wasm_route: wasm,
    torch,
  };
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(`results: ${file}\n`);
}

await main();
process.exit(0);
