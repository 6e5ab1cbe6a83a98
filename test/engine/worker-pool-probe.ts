/**
 * Child process for worker-pool.test.ts and native-blas.test.ts: four jitted Adam steps of the MLP (the trainer's own
 * makeTrainStep) on a fixed random batch of 256; prints every loss and the sum of each final
 * weight as JSON, then returns without shutting the pool down — a hang here means the pool keeps
 * the process alive.
 */
import { startEngine } from "../../src/engine/device.js";
import { namedLeaves } from "../../src/engine/tree.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { createModel, modelConfig } from "../../src/nn/models/index.js";
import { createOptimizer } from "../../src/optim/index.js";
import { makeTrainStep } from "../../src/train/loop.js";
import { nativeBlasStatus } from "../../src/engine/blas.js";
import { randomBatch } from "../../bench/train-step.js";

await startEngine();
// PROBE_MODEL picks another model (native-blas.test.ts runs the CNN and the ViT too).
const name = (process.env.PROBE_MODEL ?? "mlp") as "mlp" | "cnn" | "vit";
const model = createModel(modelConfig(name, { inputShape: [1, 28, 28], classes: 10 }));
const opt = createOptimizer({ name: "adam", lr: 1e-3 });
let params = model.init(keyFromSeed(0));
let state = opt.init(params);
const step = makeTrainStep(model, opt);
const { x, y } = randomBatch(keyFromSeed(1), name === "mlp" ? 256 : 16);
const losses: number[] = [];
for (let i = 0; i < 4; i++) {
  const [p, s, loss, correct, gradNorm] = step(params, state, x.ref, y.ref);
  params = p;
  state = s;
  correct.dispose();
  gradNorm.dispose();
  losses.push((await loss.data())[0]);
}
const sums: Record<string, number> = {};
for (const [name, leaf] of namedLeaves(params)) {
  sums[name] = Array.from(await leaf.ref.data(), Number).reduce((a, b) => a + b, 0);
}
const probe = Buffer.from(
  "0061736d0100000001080160037b7b7b017b030201000a0d010b00200020012002fd85020b",
  "hex",
);
console.log(
  JSON.stringify({ losses, sums, relaxedSimd: WebAssembly.validate(probe), blas: nativeBlasStatus() }),
);
