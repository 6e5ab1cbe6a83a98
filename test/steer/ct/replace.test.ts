import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../../src/engine/device.js";
import { numpy as np, random } from "../../../src/engine/jax.js";
import { keyFromSeed } from "../../../src/engine/prng.js";
import { countParams, namedLeaves, treeRef, type Params } from "../../../src/engine/tree.js";
import { ctu } from "../../../src/nn/activations.js";
import { linear, type LinearParams } from "../../../src/nn/layers.js";
import { activationSites, createModel, modelConfig, type ModelConfig } from "../../../src/nn/models/index.js";
import { UsageError } from "../../../src/errors.js";
import { replaceActivations } from "../../../src/steer/ct/replace.js";
import { parseBetaGrid, pickBest } from "../../../src/steer/ct/search.js";
import { adaptableWeights, lora, trainableCt } from "../../../src/steer/ct/finetune.js";
import { backboneOf } from "../../../src/steer/ct/probe.js";

beforeAll(async () => {
  await startEngine();
});

const shape: [number, number, number] = [1, 12, 12];
const configs: ModelConfig[] = [
  modelConfig("mlp", { inputShape: shape, classes: 4 }, { hidden: [16, 8] }),
  modelConfig("cnn", { inputShape: shape, classes: 4 }, { channels: [4, 6], dense: 8 }),
  modelConfig("resnet", { inputShape: shape, classes: 4 }, { channels: [4, 8], blocks: 1 }),
];
const input = () => random.normal(keyFromSeed(7), [3, ...shape]);

describe("replaceActivations", () => {
  for (const config of configs) {
    it(`leaves ${config.name} logits bitwise unchanged at β = 1 (shared and per channel), and changes them below`, async () => {
      const model = createModel(config);
      const params = model.init(keyFromSeed(1));
      const want = await model.apply(treeRef(params), input()).data();
      for (const perChannel of [false, true]) {
        const ct = replaceActivations(config, treeRef(params), { beta: 1, perChannel });
        expect(await createModel(ct.config).apply(ct.params, input()).data()).toEqual(want);
      }
      const smooth = replaceActivations(config, treeRef(params), { beta: 0.7 });
      const got = await createModel(smooth.config).apply(smooth.params, input()).data();
      expect(Array.from(got)).not.toEqual(Array.from(want));
    });
  }

  it("puts one scalar β and c per activation layer, or one per channel", () => {
    const config = configs[2];
    const params = createModel(config).init(keyFromSeed(1));
    const sites = activationSites(config);
    expect(sites.map((s) => s.name)).toEqual([
      "act0",
      "block0.act1",
      "block0.act2",
      "block1.act1",
      "block1.act2",
    ]);
    const shared = replaceActivations(config, treeRef(params), { beta: 0.9 });
    const perChannel = replaceActivations(config, params, { beta: 0.9, perChannel: true });
    const shapes = (p: Params) =>
      Object.fromEntries(
        namedLeaves(p)
          .filter(([n]) => /(^|\.)act\d?\./.test(n))
          .map(([n, x]) => [n, x.shape]),
      );
    expect(Object.values(shapes(shared.params))).toEqual(Array(2 * sites.length).fill([]));
    expect(shapes(perChannel.params)["block1.act2.beta"]).toEqual([8]);
    expect(Object.keys(shapes(perChannel.params))).toHaveLength(2 * sites.length);
  });

  it("computes fc → CTU(β, c) → fc for an MLP, as written by hand", async () => {
    const config = modelConfig("mlp", { inputShape: shape, classes: 4 }, { hidden: [16] });
    const params = createModel(config).init(keyFromSeed(2));
    const ct = replaceActivations(config, treeRef(params), { beta: 0.85, c: 0.3 });
    const got = await createModel(ct.config).apply(ct.params, input()).data();
    const x = input().reshape([3, -1]);
    const h = ctu(linear(params.fc0 as LinearParams, x), 0.85, 0.3);
    const want = await linear(params.fc1 as LinearParams, h).data();
    (Array.from(want) as number[]).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
  });

  it("refuses a model whose activations are not ReLU", () => {
    const config = modelConfig("mlp", { inputShape: shape, classes: 4 }, { hidden: [8], activation: "gelu" });
    const params = createModel(config).init(keyFromSeed(1));
    expect(() => replaceActivations(config, params, { beta: 0.9 })).toThrow(UsageError);
    expect(() => replaceActivations(configs[0], {}, { beta: 1.5 })).toThrow(/beta must be in \[0, 1\]/);
  });
});

describe("β grid and choice", () => {
  it("parses start:stop:step and lists, always including β = 1", () => {
    expect(parseBetaGrid("0.7:1:0.1")).toEqual([0.7, 0.8, 0.9, 1]);
    expect(parseBetaGrid("0.7:1:0.01")).toHaveLength(31);
    expect(parseBetaGrid("0.9,0.5")).toEqual([0.5, 0.9, 1]);
    for (const bad of ["0.7:1", "a,b", "1:0.5:0.1", "0.5:2:0.5", ""])
      expect(() => parseBetaGrid(bad)).toThrow(UsageError);
  });

  it("picks the best validation accuracy, ties going to the β closest to 1", () => {
    const s = (beta: number, v: number) => ({ beta, valAccuracy: v, testAccuracy: 0 });
    expect(pickBest([s(0.8, 0.5), s(0.9, 0.7), s(1, 0.6)]).beta).toBe(0.9);
    expect(pickBest([s(0.8, 0.7), s(0.9, 0.7), s(1, 0.6)]).beta).toBe(0.9);
    expect(pickBest([s(0.8, 0.7), s(1, 0.7)]).beta).toBe(1);
  });
});

describe("transfer parametrisations", () => {
  const config = configs[1];

  it("the backbone (identity head) returns exactly what the head sees", async () => {
    const model = createModel(config);
    const params = model.init(keyFromSeed(3));
    const bb = backboneOf(config, params);
    const feats = createModel(bb.config).apply(treeRef(bb.params), input());
    expect(feats.shape).toEqual([3, 8]);
    const viaHead = await linear(treeRef(params.fc1 as Params) as LinearParams, feats).data();
    expect(viaHead).toEqual(await model.apply(treeRef(params), input()).data());
  });

  it("LoRA starts at the base model (B = 0, conv kernels too) and trains r·(out + fan_in) per weight plus the head", async () => {
    const params = createModel(config).init(keyFromSeed(3));
    const p = lora(config, params, { classes: 5, rank: 2 });
    const weights = adaptableWeights(config, params);
    expect(weights.map(([n]) => n)).toEqual(["conv0.weight", "conv1.weight", "fc0.weight"]);
    const adapters = weights.reduce((n, [, s]) => n + 2 * (s[0] + s.slice(1).reduce((a, b) => a * b, 1)), 0);
    expect(countParams(p.trainable)).toBe(adapters + 8 * 5 + 5);
    const built = p.build(treeRef(p.trainable), treeRef(p.frozen));
    for (const name of ["conv0", "conv1", "fc0"]) {
      const w = (built[name] as Params).weight as np.Array;
      expect(await w.data()).toEqual(await ((params[name] as Params).weight as np.Array).ref.data());
    }
  });

  it("trainable CT trains two numbers per channel of every activation plus the head", () => {
    const params = createModel(config).init(keyFromSeed(3));
    const p = trainableCt(config, params, { classes: 5 });
    expect(countParams(p.trainable)).toBe(2 * (4 + 6 + 8) + 8 * 5 + 5);
    expect(p.config.activation).toBe("ctu");
  });
});
