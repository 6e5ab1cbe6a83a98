import { beforeAll, describe, expect, it } from "vitest";
import { jit, numpy as np, random } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { fillLike, namedLeaves, toHost, treeDispose, type Params } from "../../src/engine/tree.js";
import { createModel, modelConfig } from "../../src/nn/models/index.js";
import { makeTrainStep } from "../../src/train/loop.js";
import { UsageError } from "../../src/errors.js";
import {
  adafactor,
  adam,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  clipByValue,
  createOptimizer,
  gaussNewtonBartlett,
  hutchinson,
  injectLearningRate,
  makeSchedule,
  optimizerConfig,
  OPTIMIZERS,
  parseSchedule,
  scaleBySophia,
  setInjectedLearningRate,
  treeBytes,
  type OptimizerConfig,
  type ScheduleConfig,
} from "../../src/optim/index.js";

beforeAll(() => startEngine());

const host = async (x: np.Array) => Array.from(await x.data());

describe("schedules", () => {
  const lr = 0.1;
  const cases: [ScheduleConfig, (t: number) => number][] = [
    [{ kind: "constant" }, () => lr],
    [{ kind: "step", every: 50, gamma: 0.5 }, (t) => lr * 0.5 ** Math.floor(t / 50)],
    [{ kind: "exponential", gamma: 0.99 }, (t) => lr * 0.99 ** t],
    [
      { kind: "cosine", steps: 100, alpha: 0.1 },
      (t) => lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * Math.min(t, 100)) / 100))),
    ],
    [
      { kind: "warmup-cosine", warmup: 10, steps: 110 },
      (t) => (t < 10 ? (lr * t) / 10 : lr * 0.5 * (1 + Math.cos((Math.PI * Math.min(t - 10, 100)) / 100))),
    ],
  ];
  for (const [config, closedForm] of cases)
    it(`${config.kind} follows its closed form`, async () => {
      const schedule = makeSchedule(lr, config);
      for (const t of [0, 1, 5, 9, 10, 49, 50, 99, 100, 150, 300]) {
        const [got] = await host(schedule(np.array(t, { dtype: np.int32 })));
        expect(got, `t = ${t}`).toBeCloseTo(closedForm(t), 6);
      }
    });

  it("parses specs and rejects unknown keys", () => {
    expect(parseSchedule("warmup-cosine:warmup=100,steps=1000")).toEqual({
      kind: "warmup-cosine",
      warmup: 100,
      steps: 1000,
      alpha: undefined,
    });
    expect(() => parseSchedule("cosine:stepz=10")).toThrow(/unknown key/);
    expect(() => parseSchedule("cosine")).toThrow(/needs steps/);
    expect(() => parseSchedule("linear:steps=3")).toThrow(UsageError);
  });
});

describe("transformations", () => {
  it("clip by global norm rescales a large gradient to the limit and leaves a small one alone", async () => {
    const clip = clipByGlobalNorm(1);
    const big = clip.update({ a: np.array([3, 0]), b: np.array([[0, 4]]) }, clip.init({}), {});
    expect(await host(big.updates.a as np.Array)).toEqual([0.6000000238418579, 0]);
    expect(await host(big.updates.b as np.Array)).toEqual([0, 0.800000011920929]);
    const small = clip.update({ a: np.array([0.3, 0.4]) }, clip.init({}), {});
    expect(await host(small.updates.a as np.Array)).toEqual([0.30000001192092896, 0.4000000059604645]);
    const zero = clip.update({ a: np.array([0, 0]) }, clip.init({}), {});
    expect(await host(zero.updates.a as np.Array)).toEqual([0, 0]);
  });

  it("clip by value clips each entry", async () => {
    const r = clipByValue(0.5).update({ a: np.array([-2, 0.1, 0.7]) }, {}, {});
    expect(await host(r.updates.a as np.Array)).toEqual([-0.5, 0.10000000149011612, 0.5]);
  });

  it("an injected learning rate changes between jitted steps without rebuilding the step", async () => {
    const opt = injectLearningRate(0.1);
    const step = jit((g: Params, s: Params) => {
      const r = opt.update(g, s, {});
      return [r.updates, r.state] as [Params, Params];
    });
    let state = opt.init({});
    const [u1, s1] = step({ w: np.array([2]) }, state);
    expect(await host(u1.w as np.Array)).toEqual([-0.20000000298023224]);
    state = setInjectedLearningRate(s1, 0.5);
    const [u2, s2] = step({ w: np.array([2]) }, state);
    expect(await host(u2.w as np.Array)).toEqual([-1]);
    treeDispose(s2);
    step.dispose();
  });

  it("a chain takes at most one link that needs curvature", () => {
    expect(() => chain(scaleBySophia("hutchinson"), scaleBySophia("gauss-newton-bartlett"))).toThrow(
      /one link/,
    );
    expect(chain(clipByValue(1), scaleBySophia("hutchinson", { every: 7 })).curvature).toEqual({
      estimator: "hutchinson",
      every: 7,
    });
  });
});

describe("optimiser configs", () => {
  it("--param keys accept aliases and typed values", () => {
    expect(optimizerConfig("adam", { beta1: "0.8", weight_decay: "0.1", amsgrad: "true" })).toEqual({
      name: "adam",
      lr: 1e-3,
      b1: 0.8,
      weightDecay: 0.1,
      amsgrad: true,
    });
    expect(optimizerConfig("sophiag", { k: "5" }).every).toBe(5);
    expect(optimizerConfig("lion").lr).toBe(1e-4);
  });

  it("unknown keys, ill-typed values and out-of-range values are usage errors", () => {
    expect(() => optimizerConfig("lion", { momentum: "0.9" })).toThrow(/lion has no parameter "momentum"/);
    expect(() => optimizerConfig("rmsprop", { centered: "maybe" })).toThrow(/true or false/);
    expect(() => optimizerConfig("adam", { b1: "x" })).toThrow(/must be a number/);
    expect(() => optimizerConfig("nadam")).toThrow(/unknown optimizer/);
    expect(() => createOptimizer({ name: "adam", lr: 1e-3, momentum: 0.9 } as OptimizerConfig)).toThrow(
      UsageError,
    );
    expect(() => createOptimizer({ name: "adam", lr: 1e-3, b2: 1 })).toThrow(/b2 must be < 1/);
    expect(() => createOptimizer({ name: "sophiah", lr: 1e-3, every: 0 })).toThrow(/every/);
  });
});

describe("optimiser state", () => {
  it("state bytes are exact: Adam keeps two moments and a count, AdaFactor a row and a column per matrix", () => {
    const params = { w: np.zeros([30, 20]), b: np.zeros([20]) };
    const n = 30 * 20 + 20;
    expect(treeBytes(adam({ lr: 1e-3 }).init(params))).toBe(2 * 4 * n + 4);
    expect(treeBytes(adafactor({ lr: 1e-3 }).init(params))).toBe(4 * (30 + 20) + 4 * 20 + 4);
    expect(treeBytes(adafactor({ lr: 1e-3, b1: 0.9 }).init(params))).toBe(4 * (30 + 20) + 4 * 20 + 4 * n + 4);
    expect(treeBytes(createOptimizer({ name: "lion", lr: 1e-4 }).init(params))).toBe(4 * n);
    expect(treeBytes(createOptimizer({ name: "sgd", lr: 1e-2 }).init(params))).toBe(0);
  });

  it("every optimiser's state round-trips through a checkpoint and the run continues bitwise", async () => {
    const model = createModel(modelConfig("mlp", { inputShape: [1, 2, 3], classes: 3 }, { hidden: [5] }));
    const x = random.normal(keyFromSeed(4), [8, 1, 2, 3]);
    const y = random.randint(keyFromSeed(5), { minval: 0, maxval: 3, shape: [8] });
    for (const name of OPTIMIZERS) {
      const config = optimizerConfig(name, name.startsWith("sophia") ? { every: 2, lr: "0.01" } : {});
      const run = async (steps: number[], params: Params, state: Params, opt = createOptimizer(config)) => {
        const step = makeTrainStep(model, opt, { seed: 9 });
        for (const t of steps) {
          const [p, s, loss, correct, gradNorm] = step(params, state, x.ref, y.ref, { step: t });
          params = p;
          state = s;
          treeDispose({ loss, correct, gradNorm });
        }
        step.dispose();
        return { params, state };
      };
      const opt = createOptimizer(config);
      const init = () => model.init(keyFromSeed(1));
      const straight = await run([0, 1, 2, 3, 4, 5], init(), opt.init(init()));
      const half = await run([0, 1, 2], init(), opt.init(init()));
      const saved = await toHost(half.state);
      const restored = fillLike(opt.init(half.params), saved, "state");
      const resumed = await run([3, 4, 5], half.params, restored);
      const a = namedLeaves(straight.params);
      const b = new Map(namedLeaves(resumed.params));
      for (const [leaf, value] of a)
        expect(await host(b.get(leaf)!.ref), `${name} ${leaf}`).toEqual(await host(value.ref));
      treeDispose(straight.state);
      treeDispose(resumed.state);
    }
  });
});

describe("curvature estimates", () => {
  it("Hutchinson's estimate is u ⊙ (H u), cross-leaf Hessian terms included", async () => {
    // L = ½ wᵀAw + ½ c‖M‖² + w₀·M₀₀: H u = (A u_w + u_M₀₀ e₀, c u_M + u_w₀ E₀₀).
    const A = [
      [2, 0.5, 0],
      [0.5, 1, -0.3],
      [0, -0.3, 3],
    ];
    const c = 1.5;
    const loss = (p: Params) => {
      const w = p.w as np.Array;
      const m = p.m as np.Array;
      const quad = np
        .matmul(np.matmul(w.ref.reshape([1, 3]), np.array(A)), w.ref.reshape([3, 1]))
        .sum()
        .mul(0.5);
      const cross = w.slice(0).mul(m.ref.slice(0, 0));
      return quad
        .add(
          np
            .square(m)
            .sum()
            .mul(0.5 * c),
        )
        .add(cross);
    };
    const uw = [1, -1, 1];
    const um = [-1, 1, 1, -1];
    const h = hutchinson(
      loss,
      {
        w: np.array([0.3, -0.2, 0.1]),
        m: np.array([
          [0.5, 1],
          [-1, 2],
        ]),
      },
      { w: np.array(uw), m: np.array(um).reshape([2, 2]) },
    );
    const Au = A.map((row) => row.reduce((s, a, j) => s + a * uw[j], 0));
    const expectW = uw.map((u, i) => u * (Au[i] + (i === 0 ? um[0] : 0)));
    const expectM = um.map((u, i) => u * (c * u + (i === 0 ? uw[0] : 0)));
    (await host(h.w as np.Array)).forEach((v, i) => expect(v).toBeCloseTo(expectW[i], 5));
    (await host(h.m as np.Array)).forEach((v, i) => expect(v).toBeCloseTo(expectM[i], 5));
  });

  it("Gauss–Newton–Bartlett is B·ĝ⊙ĝ with ĝ = (softmax − onehot(ŷ))ᵀx / B for a linear model", async () => {
    const X = [
      [1, 2],
      [-1, 0.5],
      [0.3, -2],
    ];
    const W = [
      [0.2, -0.1],
      [0.4, 0.3],
      [-0.5, 0.1],
      [0, 0.2],
    ];
    const labels = [2, 0, 3];
    const b = X.length;
    const h = gaussNewtonBartlett(
      (p) => np.matmul(np.array(X), (p.w as np.Array).transpose()),
      { w: np.array(W) },
      np.array(labels, { dtype: np.int32 }),
    );
    const g = W.map((row) => row.map(() => 0));
    X.forEach((x, n) => {
      const z = W.map((row) => row[0] * x[0] + row[1] * x[1]);
      const e = z.map((v) => Math.exp(v - Math.max(...z)));
      const sum = e.reduce((a, v) => a + v, 0);
      e.forEach((v, k) =>
        x.forEach((xi, i) => (g[k][i] += ((v / sum - (k === labels[n] ? 1 : 0)) * xi) / b)),
      );
    });
    const got = await host(h.w as np.Array);
    g.flat().forEach((gi, i) => expect(got[i]).toBeCloseTo(b * gi * gi, 6));
  });

  it("Sophia refreshes its Hessian average only on steps 0, k, 2k, … and the probes follow the seed", async () => {
    const model = createModel(modelConfig("mlp", { inputShape: [1, 1, 4], classes: 3 }, { hidden: [4] }));
    const x = random.normal(keyFromSeed(1), [6, 1, 1, 4]);
    const y = random.randint(keyFromSeed(2), { minval: 0, maxval: 3, shape: [6] });
    // sophiah = chain(scaleBySophia → {mu, hess}, weight decay, learning rate)
    const hessOf = (state: Params) => {
      const hess = (state["0"] as Params).hess as Params;
      return host(((hess.fc0 as Params).weight as np.Array).ref);
    };
    const trace = async (seed: number) => {
      const opt = createOptimizer({ name: "sophiah", lr: 1e-3, every: 3 });
      const step = makeTrainStep(model, opt, { seed });
      let params = model.init(keyFromSeed(0));
      let state = opt.init(params);
      const changed: number[] = [];
      let before = await hessOf(state);
      for (let t = 0; t < 7; t++) {
        const [p, s, loss, correct, gradNorm] = step(params, state, x.ref, y.ref, { step: t });
        params = p;
        state = s;
        treeDispose({ loss, correct, gradNorm });
        const after = await hessOf(state);
        if (after.some((v, i) => v !== before[i])) changed.push(t);
        before = after;
      }
      step.dispose();
      treeDispose(params);
      treeDispose(state);
      return { changed, hess: before };
    };
    const a = await trace(1);
    expect(a.changed).toEqual([0, 3, 6]);
    expect((await trace(1)).hess).toEqual(a.hess);
    expect((await trace(2)).hess).not.toEqual(a.hess);
  });
});

describe("applyUpdates", () => {
  it("adds the updates to the params", async () => {
    const p = applyUpdates({ w: np.array([1, 2]) }, { w: np.array([0.5, -1]) });
    expect(await host(p.w as np.Array)).toEqual([1.5, 1]);
  });
});
