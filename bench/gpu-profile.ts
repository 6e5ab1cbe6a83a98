/**
 * Where a training step's time goes on jax-js's WebGPU device: `node build/bench/gpu-profile.js`
 * on the GPU machine (scripts/device/session.sh, part `gpuprofile`). Per case (model:batch, each
 * in its own process), with the trainer's `makeTrainStep` on random data:
 *
 *   synced      steps with the loss read back after each (the training loop's behaviour):
 *               wall_ms per step, host_ms until the jitted call returned (jax-js's JavaScript and
 *               the WebGPU calls that encode and submit the kernels), wait_ms = wall − host (the
 *               GPU finishing and the read-back)
 *   pipelined   the same steps queued back to back, one wait at the end
 *   calls       WebGPU calls per step and the host ms inside them (bench/webgpu-counters.ts):
 *               dispatchWorkgroups = kernels, submit = command buffers, createBindGroup, …
 *   kernels     one traced step (jax-js profiler, GPU timestamp queries): kernel count, summed GPU
 *               time, grouped as in bench/profile.ts, and the ten slowest
 *   floor_ms    a jitted x + 1 on one element with its read-back: the fixed cost of a synced call
 *
 * So a step splits into GPU kernel time, host time in WebGPU calls, the rest of host time (jax-js),
 * and the waiting that neither explains (read-back latency, GPU idle between submits).
 * Options: --cases mlp:256,… --steps N --device webgpu|wasm (wasm: a local check; no counters).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { getWebGPUDevice, jit, numpy as np, profiler } from "../src/engine/jax.js";
import { startEngine, type DeviceChoice } from "../src/engine/device.js";
import type { OptimizerConfig } from "../src/optim/index.js";
import { installWebGpuCounters, type GpuCounts } from "./webgpu-counters.js";
import { kernelGroups, type Measure } from "./kernel-groups.js";
import { syntheticTrainStep, type BenchModel } from "./train-step.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const device = arg("device", "webgpu") as DeviceChoice;
const steps = Number(arg("steps", "20"));
const OPTIMIZERS: Record<string, OptimizerConfig> = {
  mlp: { name: "sgd", lr: 0.01 },
  cnn: { name: "adam", lr: 1e-3 },
  vit: { name: "adam", lr: 1e-3 },
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function perStep(c: GpuCounts, n: number) {
  const round = (v: number) => Number(v.toFixed(4));
  return {
    calls: Object.fromEntries(Object.entries(c.calls).map(([k, v]) => [k, round(v / n)])),
    host_ms: Object.fromEntries(Object.entries(c.hostMs).map(([k, v]) => [k, round(v / n)])),
    api_ms: round(Object.values(c.hostMs).reduce((s, v) => s + v, 0) / n),
  };
}

async function traceOneStep(run: () => Promise<number>) {
  performance.clearMeasures();
  profiler.startTrace();
  await run();
  profiler.stopTrace();
  await new Promise((r) => setTimeout(r, 300)); // the timestamp buffers are mapped asynchronously
  const entries = (performance.getEntriesByType("measure") as unknown as Measure[]).filter(
    (e) => e.detail?.devtools !== undefined,
  );
  const props = (e: Measure) => Object.fromEntries(e.detail?.devtools?.properties ?? []);
  const slowest = [...entries]
    .sort((a, b) => b.duration - a.duration)
    .slice(0, 10)
    .map((e) => ({
      name: e.name,
      ms: Number(e.duration.toFixed(4)),
      reduction: props(e).reduction,
      exp: (props(e).exp ?? props(e).inputShapes ?? "").slice(0, 160),
    }));
  // Kernels by output size: the optimiser's per-leaf updates show up as groups of leaf sizes.
  const bySize: Record<string, { count: number; ms: number }> = {};
  for (const e of entries) {
    const key = `${props(e).reduction ? "reduce" : "elementwise"} ${props(e).size ?? e.name}`;
    bySize[key] ??= { count: 0, ms: 0 };
    bySize[key].count++;
    bySize[key].ms += e.duration;
  }
  return {
    count: entries.length,
    kernel_ms: entries.reduce((s, e) => s + e.duration, 0),
    groups: kernelGroups(entries).groups,
    slowest,
    by_size: Object.fromEntries(Object.entries(bySize).sort((a, b) => b[1].count - a[1].count)),
  };
}

async function profileCase(name: BenchModel, b: number) {
  const counters = device === "webgpu" ? installWebGpuCounters(getWebGPUDevice()) : null;
  const step = syntheticTrainStep(name, OPTIMIZERS[name], b);
  for (let i = 0; i < 3; i++) await step.run(true);
  counters?.take();
  const wall: number[] = [];
  const host: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    host.push(await step.run(true));
    wall.push(performance.now() - t0);
  }
  const syncedCalls = counters ? perStep(counters.take(), steps) : null;
  const t0 = performance.now();
  const pipeHost: number[] = [];
  for (let i = 0; i < steps; i++) pipeHost.push(await step.run(i === steps - 1));
  const pipelinedMs = (performance.now() - t0) / steps;
  const pipeCalls = counters ? perStep(counters.take(), steps) : null;
  const kernels = await traceOneStep(() => step.run(true));
  step.dispose();

  const tiny = np.zeros([1]);
  const inc = jit((a: np.Array) => a.add(1));
  const floor: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await inc(tiny.ref).data();
    floor.push(performance.now() - t);
  }
  inc.dispose();
  return {
    case: `${name}:${b}`,
    synced: { wall_ms: median(wall), host_ms: median(host), wait_ms: median(wall) - median(host) },
    pipelined: { wall_ms: pipelinedMs, host_ms: median(pipeHost) },
    calls_synced: syncedCalls,
    calls_pipelined: pipeCalls,
    kernels,
    floor_ms: median(floor.slice(5)),
  };
}

const single = arg("case", "");
if (single) {
  const [name, b] = single.split(":");
  await startEngine(device);
  process.stdout.write(JSON.stringify(await profileCase(name as BenchModel, Number(b))) + "\n");
} else {
  const out: Record<string, unknown> = {};
  for (const c of arg("cases", "mlp:256,mlp:4096,cnn:256,vit:256").split(",")) {
    process.stderr.write(`profile ${c} …\n`);
    const child = spawnSync(
      process.execPath,
      [...process.execArgv, process.argv[1], "--case", c, "--device", device, "--steps", String(steps)],
      { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 },
    );
    try {
      out[c] = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
    } catch {
      out[c] = { error: `exit ${child.status}: ${child.stderr.trim().split("\n").slice(-3).join(" | ")}` };
    }
    process.stderr.write(`  ${JSON.stringify(out[c]).slice(0, 400)}\n`);
  }
  const file = arg("out", "");
  if (file) writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  process.stdout.write(summary(out) + "\n");
}
process.exit(0);

type CaseResult = Awaited<ReturnType<typeof profileCase>>;

function summary(out: Record<string, unknown>): string {
  const lines = [
    "| case | synced wall | host (jax-js + WebGPU calls) | in WebGPU calls | wait | kernels | GPU kernel time | submits | pipelined |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const f = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
  for (const [c, r] of Object.entries(out)) {
    if ("error" in (r as object)) {
      lines.push(`| ${c} | ${(r as { error: string }).error} |`);
      continue;
    }
    const x = r as CaseResult;
    lines.push(
      `| ${c} | ${f(x.synced.wall_ms)} | ${f(x.synced.host_ms)} | ${f(x.calls_synced?.api_ms)} | ${f(x.synced.wait_ms)} | ${x.calls_synced?.calls.dispatchWorkgroups ?? x.kernels.count} | ${f(x.kernels.kernel_ms)} | ${x.calls_synced?.calls.submit ?? "–"} | ${f(x.pipelined.wall_ms)} |`,
    );
  }
  return lines.join("\n");
}
