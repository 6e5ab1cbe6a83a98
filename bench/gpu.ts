/**
 * `node bench/gpu.js` (built by scripts/pack-device.sh) on the GPU machine: Tiller on jax-js's
 * `webgpu` device against PyTorch CUDA on the same machine (scripts/reference/bench_torch_gpu.py),
 * one after the other in one invocation. Cases: the MLP (SGD), CNN (Adam) and ViT (Adam) training
 * steps at B = 256 and at a large batch, and the 40×40 loss surface of bench/landscape.ts.
 *
 * Each training case is timed two ways, the same in both frameworks:
 * - `pipelined`: `steps` steps queued back to back, one wait for the last loss (throughput);
 * - `synced`: the loss read back to the host after every step (what a loop that logs every step
 *   pays).
 * Median of 3 runs of each, after 3 warm-up steps (the first compiles). Random data: the timing
 * does not depend on it. Each Tiller case runs in its own process, so that one case's device memory
 * cannot slow or break the next. Writes bench/results/gpu-<timestamp>.json (or --out FILE) and
 * prints a table.
 *
 * Options: --device webgpu|wasm (wasm: a quick local check of the script), --cases
 * mlp:256,mlp:4096,… (model:batch), --steps N, --no-torch, --no-surface, --out FILE.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { startEngine, type DeviceChoice } from "../src/engine/device.js";
import type { OptimizerConfig } from "../src/optim/index.js";
import { runPythonJson } from "./python.js";
import { landscapeBench } from "./landscape.js";
import { syntheticTrainStep, type BenchModel } from "./train-step.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const device = arg("device", "webgpu") as DeviceChoice;
// CNN at B = 4096 ran out of the H200's memory through Dawn (VK_ERROR_OUT_OF_DEVICE_MEMORY): 1024.
const cases = arg("cases", "mlp:256,mlp:4096,cnn:256,cnn:1024,vit:256,vit:4096")
  .split(",")
  .map((c) => {
    const [name, b] = c.split(":");
    return { name: name as BenchModel, b: Number(b) };
  });
const steps = Number(arg("steps", "20"));
const skipTorch = process.argv.includes("--no-torch");
const skipSurface = process.argv.includes("--no-surface");

const OPTIMIZERS: Record<string, OptimizerConfig> = {
  mlp: { name: "sgd", lr: 0.01 },
  cnn: { name: "adam", lr: 1e-3 },
  vit: { name: "adam", lr: 1e-3 },
};

type StepTimes = { pipelined_ms: number; synced_ms: number };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ms per training step of `name` at batch `b`, both ways (see the header). */
async function trainStep(name: BenchModel, b: number): Promise<StepTimes> {
  const step = syntheticTrainStep(name, OPTIMIZERS[name], b);
  const run = async (n: number, sync: boolean) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await step.run(sync || i === n - 1);
    return (performance.now() - t0) / n;
  };
  await run(3, true);
  const pipelined: number[] = [];
  const synced: number[] = [];
  for (let r = 0; r < 3; r++) {
    pipelined.push(await run(steps, false));
    synced.push(await run(steps, true));
  }
  step.dispose();
  return { pipelined_ms: median(pipelined), synced_ms: median(synced) };
}

type TorchGpu = {
  device_name: string;
  torch_version: string;
  cuda_version: string | null;
  steps: Record<string, StepTimes>;
};

/** One case in a child process (this script with --case): its JSON line, or the error. */
function caseInChild(name: string, b: number): StepTimes | { error: string } {
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      process.argv[1],
      "--case",
      `${name}:${b}`,
      "--device",
      device,
      "--steps",
      String(steps),
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 },
  );
  const last = child.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(last) as StepTimes;
  } catch {
    const err =
      child.stderr.split("\n").find((l) => /error/i.test(l)) ?? child.stderr.trim().split("\n").at(-1);
    return { error: `exit ${child.status}: ${err ?? "no output"}` };
  }
}

async function main() {
  const dev = await startEngine(device);
  process.stderr.write(`Tiller on ${dev}; ${steps} steps per timing\n`);
  const tiller: Record<string, StepTimes | { error: string }> = {};
  for (const { name, b } of cases) {
    process.stderr.write(`  ${name} B=${b} …\n`);
    tiller[`${name}_b${b}`] = caseInChild(name, b);
    process.stderr.write(`    ${JSON.stringify(tiller[`${name}_b${b}`])}\n`);
  }
  let torch: TorchGpu | null = null;
  if (!skipTorch) {
    process.stderr.write("PyTorch CUDA …\n");
    torch = await runPythonJson<TorchGpu>("bench_torch_gpu.py", [
      "--cases",
      cases.map((c) => `${c.name}:${c.b}`).join(","),
      "--steps",
      String(steps),
    ]);
  }
  const surface: Record<string, unknown> = { tiller: {}, torch: skipTorch ? null : {} };
  let surfaceRow: [string, number, number | undefined] | null = null;
  if (!skipSurface) {
    const [row] = await landscapeBench({
      quick: false,
      skipTorch,
      torchDevice: "cuda",
      results: surface as { tiller: Record<string, unknown>; torch: Record<string, unknown> | null },
    });
    surfaceRow = [row[0], row[1], row[2]];
  }

  const lines = [
    `| case | Tiller ${dev} pipelined | PyTorch pipelined | ratio | Tiller synced | PyTorch synced | ratio |`,
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  const f = (v: number | undefined) => (v === undefined ? "–" : `${v.toFixed(2)} ms`);
  const r = (a: number, b: number | undefined) => (b === undefined ? "–" : `${(a / b).toFixed(2)}×`);
  for (const [key, t] of Object.entries(tiller)) {
    if ("error" in t) {
      lines.push(`| ${key.replace("_b", " train step, B=")} | ${t.error} | | | | | |`);
      continue;
    }
    const p = torch?.steps[key];
    lines.push(
      `| ${key.replace("_b", " train step, B=")} | ${f(t.pipelined_ms)} | ${f(p?.pipelined_ms)} | ${r(t.pipelined_ms, p?.pipelined_ms)} | ${f(t.synced_ms)} | ${f(p?.synced_ms)} | ${r(t.synced_ms, p?.synced_ms)} |`,
    );
  }
  if (surfaceRow)
    lines.push(
      `| ${surfaceRow[0]} | – | – | – | ${f(surfaceRow[1])} | ${f(surfaceRow[2])} | ${r(surfaceRow[1], surfaceRow[2])} |`,
    );
  const result = {
    date: new Date().toISOString(),
    machine: {
      gpu: torch?.device_name ?? null,
      cpus: os.cpus().length,
      cpu_model: os.cpus()[0]?.model,
      loadavg: os.loadavg(),
    },
    tiller_device: dev,
    cases,
    steps,
    tiller,
    torch,
    surface,
    table: lines,
  };
  const file =
    arg("out", "") ||
    join(process.cwd(), "bench", "results", `gpu-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(`GPU: ${torch?.device_name ?? "?"}\n${lines.join("\n")}\nresults: ${file}\n`);
}

const single = arg("case", "");
if (single) {
  const [name, b] = single.split(":");
  await startEngine(device);
  process.stdout.write(JSON.stringify(await trainStep(name as "mlp" | "cnn" | "vit", Number(b))) + "\n");
} else {
  await main();
}
process.exit(0);
