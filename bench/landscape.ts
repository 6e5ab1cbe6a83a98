/**
 * Bench case: a 40×40 loss surface of the Fashion-MNIST MLP (784-512-64-10, ReLU) on 256 images —
 * 1600 evaluations of L(w + a·d₁ + b·d₂) — in Tiller (jitted point evaluations with the weights and
 * directions on the device) and in PyTorch doing the same evaluation as the book's
 * `xy_perturb_loss` (scripts/reference/bench_landscape.py). Random images, labels, weights and
 * directions: the timing does not depend on them.
 */
import os from "node:os";
import { pathToFileURL } from "node:url";
import { startEngine } from "../src/engine/device.js";
import { keyFromSeed } from "../src/engine/prng.js";
import { treeRef } from "../src/engine/tree.js";
import { createModel, modelConfig } from "../src/nn/models/index.js";
import { createObjective } from "../src/landscape/objective.js";
import { randomDirections } from "../src/landscape/directions.js";
import { surface2d } from "../src/landscape/surface.js";
import { layoutOf, vectorOf } from "../src/landscape/vector.js";
import { runPythonJson } from "./python.js";
import { createRng, spreadSeed } from "../src/engine/rng.js";

type Row = [string, number, number | undefined, "ms" | "GFLOP/s"];

/** Times the surface in both; adds `landscape_surface_ms` (and the grid size) to the results. */
export async function landscapeBench(o: {
  quick: boolean;
  skipTorch: boolean;
  /** PyTorch's device for the reference ("cpu" unless given). */
  torchDevice?: "cpu" | "cuda";
  results: { tiller: Record<string, unknown>; torch: Record<string, unknown> | null };
}): Promise<Row[]> {
  await startEngine();
  const steps = o.quick ? 10 : 40;
  const model = createModel(modelConfig("mlp", { inputShape: [1, 28, 28], classes: 10 }));
  const params = model.init(keyFromSeed(0));
  const layout = layoutOf(params);
  const w = await vectorOf(treeRef(params));
  const rng = createRng(spreadSeed(1));
  const n = 256;
  const data = {
    n,
    shape: [1, 28, 28] as [number, number, number],
    images: Float32Array.from({ length: n * 784 }, () => rng.normal()),
    labels: Int32Array.from({ length: n }, () => Math.floor(rng.next() * 10)),
  };
  const objective = createObjective(model, layout, data, n);
  const { vectors } = randomDirections(w, layout, { seed: 2 });
  const plane = objective.subspace(w, vectors);
  await plane.at([0.1, 0.1]); // compile
  process.stderr.write(`landscape: ${steps}×${steps} surface in Tiller …\n`);
  const t0 = performance.now();
  await surface2d(plane, { steps });
  const tillerMs = performance.now() - t0;
  o.results.tiller.landscape_surface_points_per_call = plane.pointsPerCall;
  plane.dispose();
  objective.dispose();
  o.results.tiller.landscape_surface_ms = tillerMs;
  o.results.tiller.landscape_surface_steps = steps;
  let torchMs: number | undefined;
  if (!o.skipTorch) {
    process.stderr.write(`landscape: ${steps}×${steps} surface in PyTorch …\n`);
    const torch = await runPythonJson<{ surface_ms: number; steps: number; torch_version: string }>(
      "bench_landscape.py",
      ["--steps", String(steps), "--device", o.torchDevice ?? "cpu"],
    );
    torchMs = torch.surface_ms;
    if (o.results.torch) o.results.torch.landscape_surface_ms = torchMs;
  }
  return [
    [`loss surface ${steps}×${steps} (MLP, 256 images, ${steps * steps} points)`, tillerMs, torchMs, "ms"],
  ];
}

// `node --import tsx bench/landscape.ts [--quick] [--no-torch] [--torch-device cuda]`: this case
// alone (TILLER_DEVICE picks Tiller's device).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = { tiller: {}, torch: {} };
  const [row] = await landscapeBench({
    quick: process.argv.includes("--quick"),
    skipTorch: process.argv.includes("--no-torch"),
    torchDevice: process.argv.includes("--torch-device") ? "cuda" : "cpu",
    results,
  });
  const ratio = row[2] === undefined ? "–" : `${(row[1] / row[2]).toFixed(2)}×`;
  process.stdout.write(
    `${row[0]}, ${JSON.stringify(results.tiller)}: Tiller ${row[1].toFixed(0)} ms, PyTorch ${row[2]?.toFixed(0) ?? "–"} ms, Tiller / PyTorch ${ratio}\n` +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
  );
  process.exit(0);
}
