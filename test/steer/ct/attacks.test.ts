import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../../src/engine/device.js";
import { jit, numpy as np, valueAndGrad } from "../../../src/engine/jax.js";
import { keyFromSeed } from "../../../src/engine/prng.js";
import { treeRef, type Params } from "../../../src/engine/tree.js";
import { loadFashionMnist } from "../../../src/data/fashion-mnist.js";
import { firstExamples } from "../../../src/data/subsets.js";
import { softmaxCrossEntropy } from "../../../src/nn/layers.js";
import { createModel, modelConfig } from "../../../src/nn/models/index.js";
import { applyUpdates, createOptimizer, type OptState } from "../../../src/optim/index.js";
import { makeAttacker, onPixels, robustAccuracy, type Attack } from "../../../src/steer/ct/attacks.js";
import { replaceActivations } from "../../../src/steer/ct/replace.js";
import { defaultThreats, epsText } from "../../../src/steer/ct/robustness.js";
import { attackBatchFor } from "../../../src/steer/ct/session.js";
import { parseEpsList } from "../../../src/requests/ct.js";

type T = { shape: number[]; data: number[] };
const ref = JSON.parse(
  readFileSync(new URL("../../fixtures/reference/ct/attacks.json", import.meta.url), "utf8"),
) as {
  params: Record<string, T>;
  x: T;
  y: T;
  cases: Record<
    string,
    { activation: string; beta: number; kind: Attack["kind"]; eps: number; steps: number; adversarial: T }
  >;
};
const f64 = (t: T) => np.array(t.data, { dtype: np.float64 }).reshape(t.shape);

beforeAll(async () => {
  await startEngine();
});

describe("adversarial attacks", () => {
  for (const [name, c] of Object.entries(ref.cases))
    it(`match PyTorch's adversarial examples: ${name}`, async () => {
      const config = modelConfig("mlp", { inputShape: [1, 4, 4], classes: 3 }, { hidden: [8] });
      const params: Params = {
        fc0: { weight: f64(ref.params["fc0.weight"]), bias: f64(ref.params["fc0.bias"]) },
        fc1: { weight: f64(ref.params["fc1.weight"]), bias: f64(ref.params["fc1.bias"]) },
      };
      const m =
        c.activation === "ctu" ? replaceActivations(config, params, { beta: c.beta }) : { config, params };
      const model = createModel(m.config);
      const attacker = makeAttacker(onPixels(model.apply, "scale"));
      const adv = await attacker.run(m.params, f64(ref.x), np.array(ref.y.data, { dtype: np.int32 }), {
        kind: c.kind,
        eps: c.eps,
        steps: c.steps,
      });
      const got = await adv.data();
      let worst = 0;
      c.adversarial.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v))));
      expect(worst).toBeLessThan(1e-6);
      attacker.dispose();
    });

  it("lose accuracy monotonically as ε grows, and ε = 0 gives the clean accuracy", async () => {
    const data = loadFashionMnist({ limit: 3000, testLimit: 400, normalize: "scale" });
    const train = data.train;
    const test = firstExamples(data.test, 300);
    const config = modelConfig("mlp", { inputShape: [1, 28, 28], classes: 10 }, { hidden: [64] });
    const model = createModel(config);
    let params = model.init(keyFromSeed(1));
    const opt = createOptimizer({ name: "adam", lr: 3e-3 });
    let state = opt.init(params);
    const step = jit((p: Params, s: OptState, x: np.Array, y: np.Array) => {
      const [l, g] = valueAndGrad((q: Params) => softmaxCrossEntropy(model.apply(q, x), y))(treeRef(p));
      const { updates, state: next } = opt.update(g, s, p);
      return [applyUpdates(p, updates), next, l] as [Params, OptState, np.Array];
    });
    for (let epoch = 0; epoch < 3; epoch++)
      for (let i = 0; i + 100 <= train.n; i += 100) {
        const x = np.array(train.images.subarray(i * 784, (i + 100) * 784)).reshape([100, 1, 28, 28]);
        const y = np.array(train.labels.subarray(i, i + 100), { dtype: np.int32 });
        const [p, s, l] = step(params, state, x, y);
        params = p;
        state = s;
        l.dispose();
      }
    step.dispose();
    const apply = onPixels(model.apply, "scale");
    const clean = await robustAccuracy(apply, params, test, null);
    expect(clean).toBeGreaterThan(0.6);
    for (const kind of ["pgd-linf", "pgd-l2", "fgsm"] as const) {
      const epsList =
        kind === "pgd-l2" ? [0, 0.1, 0.25, 0.5, 1, 2] : [0, 1 / 255, 2 / 255, 4 / 255, 8 / 255, 16 / 255];
      const accs: number[] = [];
      for (const eps of epsList)
        accs.push(await robustAccuracy(apply, params, test, { kind, eps, steps: 10 }));
      expect(accs[0], `${kind} at ε = 0`).toBe(clean);
      for (let i = 1; i < accs.length; i++)
        expect(accs[i], `${kind}: ${accs}`).toBeLessThanOrEqual(accs[i - 1]);
      expect(accs.at(-1)!, `${kind}: ${accs}`).toBeLessThan(clean - 0.2);
    }
  }, 120_000);
});

describe("robustness threats and batches", () => {
  it("parses ℓ∞ budgets as numbers or k/255 and names them back", () => {
    expect(parseEpsList("1/255, 2/255")).toEqual([1 / 255, 2 / 255]);
    expect(parseEpsList("0.01")).toEqual([0.01]);
    for (const bad of ["", "0", "1/0", "2", "a/255", "1/2/3"])
      expect(() => parseEpsList(bad)).toThrow(/budget/);
    const names = defaultThreats([1 / 255, 0.01]).map((t) => t.name);
    expect(names).toContain("PGD-10 ℓ∞ ε=1/255");
    expect(names).toContain("PGD-10 ℓ∞ ε=0.01");
    expect(epsText(8 / 255)).toBe("8/255");
  });

  it("attacks a conv net in small batches by default (input gradients need ~10 MiB an image)", () => {
    expect(attackBatchFor({ name: "mlp" })).toBe(250);
    for (const name of ["cnn", "resnet", "vit"]) expect(attackBatchFor({ name })).toBe(64);
  });
});
