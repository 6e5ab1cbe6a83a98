/**
 * The pretraining step's two paths: one jitted whole-batch step, and the micro-batched one the host
 * backends use for the larger LM (summed gradients over slices of the batch, divided by the whole
 * batch's token count). They must agree, and padding a batch to a fixed length must not change
 * the loss.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { namedLeaves, treeDispose } from "../../src/engine/tree.js";
import { trainStream, type TaskExample } from "../../src/data/tasks/index.js";
import { makeBatch } from "../../src/lm/batch.js";
import { lmInit } from "../../src/lm/model.js";
import { presetConfig, taskTokenizer } from "../../src/lm/presets.js";
import { makePretrainStep, microBatchSize } from "../../src/lm/pretrain.js";
import { adamw } from "../../src/optim/index.js";

beforeAll(async () => {
  await startEngine("wasm");
});

const cfg = presetConfig("tiny");
const tok = taskTokenizer();
const stream = trainStream(["math", "code", "reasoning", "dispatch"], 7);
const examples = Array.from({ length: 8 }, () => stream.next().value as TaskExample);

async function oneStep(opts: { microBatch?: number; minLength?: number }) {
  const optimizer = adamw({ lr: 3e-3, weightDecay: 0.01 });
  const params = lmInit(keyFromSeed(0), cfg);
  const state = optimizer.init(params);
  const step = makePretrainStep(cfg, optimizer, { microBatch: opts.microBatch });
  const b = makeBatch(tok, examples, "all", 16, opts.minLength ?? 0);
  const [p, s, loss, norm] = step(
    params,
    state,
    np.array(b.tokens, { dtype: np.int32 }).reshape([b.B, b.T]),
    np.array(b.mask).reshape([b.B, b.T - 1]),
  );
  const out = {
    T: b.T,
    loss: (await loss.data())[0],
    norm: (await norm.data())[0],
    leaves: await Promise.all(namedLeaves(p).map(async ([n, x]) => [n, await x.ref.data()] as const)),
  };
  treeDispose(p);
  treeDispose(s);
  step.dispose();
  return out;
}

describe("LM pretraining step", () => {
  it("micro-batching (4 slices of 2) gives the whole-batch loss, gradient norm and update", async () => {
    const whole = await oneStep({});
    const micro = await oneStep({ microBatch: 2 });
    expect(micro.loss).toBeCloseTo(whole.loss, 5);
    expect(Math.abs(micro.norm - whole.norm) / whole.norm).toBeLessThan(1e-4);
    for (let i = 0; i < whole.leaves.length; i++) {
      const [name, a] = whole.leaves[i];
      const b = micro.leaves[i][1];
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(Number(a[j]) - Number(b[j])));
      // Adam divides by √v, so float-level gradient differences show up at ~lr·1e-3 in the update.
      expect(worst, name).toBeLessThan(1e-4);
    }
  });

  it("padding the batch to a fixed length leaves the loss unchanged", async () => {
    const short = await oneStep({});
    const padded = await oneStep({ minLength: 192 });
    expect(padded.T).toBe(192);
    expect(padded.T).toBeGreaterThan(short.T);
    expect(padded.loss).toBeCloseTo(short.loss, 5);
  });

  it("splits only where the host's 4 GiB memory would be at risk", () => {
    expect(microBatchSize(presetConfig("tiny"), 64, 160, "wasm")).toBe(64);
    expect(microBatchSize(presetConfig("small"), 64, 96, "wasm")).toBe(32);
    expect(microBatchSize(presetConfig("small"), 64, 192, "wasm")).toBe(8);
    expect(microBatchSize(presetConfig("small"), 64, 192, "webgpu")).toBe(64);
  });
});
