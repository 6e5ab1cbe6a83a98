import { describe, expect, it } from "vitest";
import { grad, numpy as np, random } from "../src/engine/jax.js";
import { keyFromSeed, splitKey } from "../src/engine/prng.js";
import { countParams, namedLeaves, treeMap, treeRef, type Params } from "../src/engine/tree.js";
import { createModel, modelConfig } from "../src/nn/models/index.js";
import { createOptimizer } from "../src/optim/index.js";
import { makeTrainStep } from "../src/train/loop.js";

const data = { inputShape: [1, 28, 28] as [number, number, number], classes: 10 };

function batch(n: number, seed = 1) {
  const [kx, ky] = splitKey(keyFromSeed(seed), 2);
  return {
    x: random.normal(kx, [n, 1, 28, 28]),
    y: random.randint(ky, { minval: 0, maxval: 10, shape: [n] }),
  };
}

describe("models", () => {
  it("the default MLP is the book's 784-512-64-10 SimpleNetwork", () => {
    const params = createModel(modelConfig("mlp", data)).init(keyFromSeed(0));
    expect(countParams(params)).toBe(784 * 512 + 512 + 512 * 64 + 64 + 64 * 10 + 10);
    expect(namedLeaves(params).map(([n, x]) => `${n}:${x.shape}`)).toEqual([
      "fc0.weight:512,784",
      "fc0.bias:512",
      "fc1.weight:64,512",
      "fc1.bias:64",
      "fc2.weight:10,64",
      "fc2.bias:10",
    ]);
  });

  it("the default CNN has ~0.82 M parameters (conv 32 → pool → conv 64 → pool → dense 256 → 10)", () => {
    const params = createModel(modelConfig("cnn", data)).init(keyFromSeed(0));
    expect(countParams(params)).toBe(320 + 18496 + 3136 * 256 + 256 + 2570);
  });

  it("PyTorch's default init bound U(±1/√fan_in) holds for every weight", async () => {
    const params = createModel(modelConfig("cnn", data)).init(keyFromSeed(0));
    const fanIn: Record<string, number> = { conv0: 9, conv1: 32 * 9, fc0: 3136, fc1: 256 };
    for (const [name, x] of namedLeaves(params)) {
      const bound = 1 / Math.sqrt(fanIn[name.split(".")[0]]);
      const v = Array.from(await x.ref.data()) as number[];
      const max = v.reduce((a, b) => Math.max(a, Math.abs(b)), 0);
      expect(max, name).toBeLessThanOrEqual(bound);
      if (v.length >= 100) expect(max, name).toBeGreaterThan(0.9 * bound);
    }
  });

  for (const name of ["mlp", "cnn", "vit"])
    it(`${name}: logits have shape [batch, 10] and a few steps overfit a small batch`, async () => {
      const model = createModel(
        modelConfig(name, data, name === "cnn" ? { channels: [4, 8], dense: 16 } : {}),
      );
      const opt = createOptimizer({ name: "adam", lr: 3e-3 });
      let params = model.init(keyFromSeed(2));
      let state = opt.init(params);
      const { x, y } = batch(16);
      const logits = model.apply(treeRef(params), x.ref);
      expect(logits.shape).toEqual([16, 10]);
      logits.dispose();
      const step = makeTrainStep(model, opt);
      const losses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const [p, s, loss, correct, gn] = step(params, state, x.ref, y.ref);
        params = p;
        state = s;
        losses.push((await loss.data())[0]);
        correct.dispose();
        gn.dispose();
      }
      step.dispose();
      expect(losses[29]).toBeLessThan(0.5 * losses[0]);
    });

  // A squared-error loss on a ReLU MLP: only exact arithmetic, because jax-js's float64 exp/tanh are
  // float32-accurate and would drown a finite difference (cross-entropy is checked against PyTorch).
  it("MLP gradients match central finite differences in float64", async () => {
    const model = createModel(
      modelConfig("mlp", { inputShape: [1, 2, 3], classes: 3 }, { hidden: [5, 4], activation: "relu" }),
    );
    const params = treeMap((p) => p.astype(np.float64), model.init(keyFromSeed(4)));
    const [kx] = splitKey(keyFromSeed(5), 1);
    const x = random.normal(kx, [4, 1, 2, 3]).astype(np.float64);
    const target = np.array(
      [
        [1, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
        [0, 0, 1],
      ],
      { dtype: np.float64 },
    );
    const loss = (p: Params) => np.square(model.apply(p, x.ref).sub(target.ref)).mean();
    const g = grad(loss)(treeRef(params));
    const h = 1e-5;
    for (const [name, leaf] of namedLeaves(params)) {
      const gv = await namedLeaves(g)
        .find(([n]) => n === name)![1]
        .ref.data();
      const base = Array.from(await leaf.ref.data()) as number[];
      for (const i of [0, base.length - 1]) {
        const at = async (delta: number) => {
          const perturbed = treeMap((p) => p, treeRef(params));
          const v = base.slice();
          v[i] += delta;
          const parts = name.split(".");
          ((perturbed as Record<string, Params>)[parts[0]] as Record<string, np.Array>)[parts[1]].dispose();
          ((perturbed as Record<string, Params>)[parts[0]] as Record<string, np.Array>)[parts[1]] = np
            .array(Float64Array.from(v), { dtype: np.float64 })
            .reshape(leaf.shape);
          return (await loss(perturbed).data())[0];
        };
        const fd = ((await at(h)) - (await at(-h))) / (2 * h);
        expect(Math.abs(fd - gv[i]), `${name}[${i}]`).toBeLessThan(1e-9 + 1e-7 * Math.abs(fd));
      }
    }
  });
});
