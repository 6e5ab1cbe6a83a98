/** The flat-params training step (src/train/flat-step.ts) against the per-leaf step it replaces. */
import { beforeAll, describe, expect, it } from "vitest";
import { random } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed, splitKey } from "../../src/engine/prng.js";
import { namedLeaves, toHost, treeRef, type Params } from "../../src/engine/tree.js";
import { createModel, modelConfig } from "../../src/nn/models/index.js";
import { createOptimizer, type OptimizerConfig } from "../../src/optim/index.js";
import { canFlatten, flatLayoutOf, flattenParams, unflattenParams } from "../../src/optim/flat.js";
import { makeTrainStep } from "../../src/train/loop.js";
import { initFlatState, makeFlatTrainStep } from "../../src/train/flat-step.js";

beforeAll(async () => {
  await startEngine();
});

const model = () =>
  createModel(modelConfig("mlp", { inputShape: [1, 6, 6], classes: 10 }, { hidden: [20, 12] }));

function batch(seed: number) {
  const [kx, ky] = splitKey(keyFromSeed(seed), 2);
  return {
    x: random.normal(kx, [16, 1, 6, 6]),
    y: random.randint(ky, { minval: 0, maxval: 10, shape: [16] }),
  };
}

async function maxDifference(a: Params, b: Params): Promise<number> {
  const [ha, hb] = [await toHost(a), await toHost(b)];
  let worst = 0;
  for (const [name, t] of Object.entries(ha))
    t.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - hb[name].data[i]))));
  return worst;
}

describe("flat params", () => {
  it("flattening and unflattening a tree gives back every leaf", async () => {
    const params = model().init(keyFromSeed(1));
    const layout = flatLayoutOf(params);
    expect(layout.size).toBe(36 * 20 + 20 + 20 * 12 + 12 + 12 * 10 + 10);
    const back = unflattenParams(flattenParams(treeRef(params)), layout);
    expect(namedLeaves(back).map(([n]) => n)).toEqual(namedLeaves(params).map(([n]) => n));
    expect(await maxDifference(params, back)).toBe(0);
  });

  it.each<OptimizerConfig>([
    { name: "adam", lr: 1e-2 },
    { name: "momentum", lr: 0.05, momentum: 0.9, weightDecay: 1e-3 },
  ])("three %o steps on flat params give the losses and weights of the per-leaf step", async (config) => {
    expect(canFlatten(config)).toBe(true);
    const m = model();
    const opt = createOptimizer(config);
    let params = m.init(keyFromSeed(2));
    const layout = flatLayoutOf(params);
    let flat = flattenParams(treeRef(params));
    let state = opt.init(params);
    let flatState = initFlatState(opt, flat);
    const treeStep = makeTrainStep(m, opt);
    const flatStep = makeFlatTrainStep(m, opt, layout);
    for (let i = 0; i < 3; i++) {
      const { x, y } = batch(10 + i);
      const [p, s, loss, correct, norm] = treeStep(params, state, x.ref, y.ref);
      const [f, fs, fLoss, fCorrect, fNorm] = flatStep(flat, flatState, x, y);
      [params, state, flat, flatState] = [p, s, f, fs];
      expect((await fLoss.data())[0]).toBeCloseTo((await loss.data())[0], 6);
      expect((await fCorrect.data())[0]).toBe((await correct.data())[0]);
      expect((await fNorm.data())[0]).toBeCloseTo((await norm.data())[0], 5);
    }
    expect(await maxDifference(params, unflattenParams(flat, layout))).toBeLessThan(1e-6);
    treeStep.dispose();
    flatStep.dispose();
  });

  it("is refused for optimisers that scale each leaf by itself", () => {
    expect(canFlatten({ name: "lamb", lr: 1e-3 })).toBe(false);
    expect(canFlatten({ name: "adafactor", lr: 1e-3 })).toBe(false);
  });
});
