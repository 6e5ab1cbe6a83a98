import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { namedLeaves, treeDispose, treeRef, type Params } from "../../src/engine/tree.js";
import { answerTokens, evalSplits, getFamily, trainSplit } from "../../src/data/tasks/index.js";
import { dispatch } from "../../src/data/tasks/dispatch.js";
import { lmInit } from "../../src/lm/model.js";
import { presetConfig, taskTokenizer } from "../../src/lm/presets.js";
import { initPolicy, SVF_DEFAULTS } from "../../src/steer/svf/compose.js";
import { expertParams, expertZ, type Expert } from "../../src/steer/svf/expert.js";
import { decompose, factorsFromHost, type SvdFactors } from "../../src/steer/svf/svd.js";
import { selectTargets } from "../../src/steer/svf/targets.js";
import { cem, compareFitness } from "../../src/steer/svf/adapt/cem.js";
import { parseDispatch, readDispatch } from "../../src/steer/svf/adapt/dispatch.js";
import { dispatchWarnings, type SelfAdaptResult } from "../../src/steer/svf/adapt/session.js";
import { composer, type ExpertLibrary } from "../../src/steer/svf/adapt/library.js";
import { alphaDim, coefficients, layerOf, mixExperts } from "../../src/steer/svf/adapt/mix.js";
import { RouteWeights } from "../../src/steer/svf/adapt/two-pass.js";

const CATS = ["math", "code", "reasoning"];

describe("dispatch parser", () => {
  it("reads the last \\boxed{…} and tolerates case, spaces and prefixes", () => {
    expect(parseDispatch("\\boxed{math}", CATS)).toBe("math");
    expect(parseDispatch("  \\boxed{ Code }", CATS)).toBe("code");
    expect(parseDispatch("boxed{reasoning}", CATS)).toBe("reasoning");
    expect(parseDispatch("\\boxed(reas)", CATS)).toBe("reasoning");
    expect(parseDispatch("\\boxed{math} no wait \\boxed{code}", CATS)).toBe("code");
    expect(parseDispatch("\\boxed{other}", CATS)).toBe("other");
    expect(parseDispatch("reasoning", CATS)).toBe("reasoning");
  });

  it("sends junk, empty, ambiguous and unknown answers to other", () => {
    for (const junk of [
      "",
      "   ",
      "\\boxed{}",
      "\\boxed{ma}",
      "\\boxed{poetry}",
      "\\boxed{math code}",
      "\\boxed{math",
      "boxed",
      "}{\\",
      "mathematics and code",
      "\\boxed{\\boxed{}}",
      "7",
      "A",
      "\u0000\u00ff€",
    ])
      expect(parseDispatch(junk, CATS), JSON.stringify(junk)).toBe("other");
    expect(parseDispatch("\\boxed{c}", ["code", "chem"])).toBe("other");
    expect(readDispatch("\\boxed{poetry}", CATS)).toBeNull();
    expect(readDispatch("\\boxed{Other}", CATS)).toBe("other");
    expect(parseDispatch("\\boxed{co}", ["code", "chem"])).toBe("other");
  });

  it("the dispatch task asks for exactly what the parser reads, within the answer budget", () => {
    const tok = taskTokenizer();
    for (const e of evalSplits("dispatch").test.slice(0, 64)) {
      expect(tok.decode(tok.encode(e.question + e.answer))).toBe(e.question + e.answer);
      expect(CATS).toContain(parseDispatch(e.answer, CATS));
      expect(e.question).toMatch(/^Classify as math, code, reasoning or other: /);
      expect(tok.encode(e.answer).length + 1).toBeLessThanOrEqual(answerTokens(["dispatch"]));
    }
    expect(dispatch.answerTokens).toBe(answerTokens(["dispatch"]));
    expect(getFamily("mixture").heldOut).toBe(false);
  });

  it("mixture training questions never repeat a component's validation or test question", () => {
    const held = new Set(
      CATS.flatMap((c) =>
        Object.values(evalSplits(c))
          .flat()
          .map((e) => e.question),
      ),
    );
    const train = trainSplit("mixture", 600, 0);
    expect(train.filter((e) => held.has(e.question))).toEqual([]);
    expect(new Set(train.map((e) => e.answer.length > 0)).size).toBe(1);
  });
});

describe("dispatch warnings", () => {
  it("say so when a pass-1 model mostly cannot answer the adaptation prompt", () => {
    const result = (unparseable: number) =>
      ({
        confusion: {
          prompt: { labels: [...CATS, "other"], rows: [], accuracy: 0, unparseable, prompts: 100 },
        },
      }) as unknown as SelfAdaptResult;
    expect(dispatchWarnings(result(80))[0]).toMatch(
      /base model did not answer .* 80% .* --strategy classifier/,
    );
    expect(dispatchWarnings(result(10))).toEqual([]);
  });
});

describe("cross-entropy method", () => {
  it("finds the optimum of a known fitness in the unit box", async () => {
    const target = [0.2, 0.75, 0.9, 0.05];
    const r = await cem(
      async (xs) => xs.map((x) => ({ score: -x.reduce((s, v, j) => s + (v - target[j]) ** 2, 0) })),
      { dim: 4, iterations: 25, seed: 3 },
    );
    r.best.forEach((v, j) => expect(Math.abs(v - target[j])).toBeLessThan(0.05));
    expect(r.history).toHaveLength(25);
    expect(r.history[24].best).toBeGreaterThan(r.history[0].best);
  });

  it("stays in [lo, hi] and finds a corner optimum outside the box's interior", async () => {
    const r = await cem(async (xs) => xs.map((x) => ({ score: x[0] - x[1] })), { dim: 2, iterations: 15 });
    expect(r.best[0]).toBeCloseTo(1, 2);
    expect(r.best[1]).toBeCloseTo(0, 2);
    for (const g of r.history) for (const m of g.mean) expect(m >= 0 && m <= 1).toBe(true);
  });

  it("re-evaluates the best point every generation and breaks ties by the secondary score", async () => {
    const seen: number[][][] = [];
    // A flat score: only the tiebreak (closeness to 0.3) can rank.
    const r = await cem(
      async (xs) => {
        seen.push(xs.map((x) => [...x]));
        return xs.map((x) => ({ score: 1, tiebreak: -Math.abs(x[0] - 0.3) }));
      },
      { dim: 1, iterations: 12, population: 32, seed: 1 },
    );
    expect(Math.abs(r.best[0] - 0.3)).toBeLessThan(0.03);
    for (let g = 1; g < seen.length; g++) {
      const prevBest = [...seen[g - 1]].sort((a, b) => Math.abs(a[0] - 0.3) - Math.abs(b[0] - 0.3))[0];
      expect(seen[g][31]).toEqual(prevBest);
    }
    expect(compareFitness({ score: 1, tiebreak: -1 }, { score: 1, tiebreak: -2 })).toBeLessThan(0);
    expect(compareFitness({ score: 0.5 }, { score: 1, tiebreak: -9 })).toBeGreaterThan(0);
  });
});

describe("α mixing of expert vectors", () => {
  let lib: ExpertLibrary;
  let experts: Expert[];
  beforeAll(async () => {
    await startEngine();
    const cfg = presetConfig("tiny");
    const params = lmInit(keyFromSeed(0), cfg);
    const targets = selectTargets(params, "mlp");
    const factors: SvdFactors = factorsFromHost(await decompose(params, targets), targets);
    experts = [11, 12, 13].map((seed) => ({
      policy: initPolicy(keyFromSeed(seed), factors, { ...SVF_DEFAULTS, noise: 1 }),
      meta: {},
      maxMult: 1,
      targets,
    }));
    lib = {
      lm: { cfg, params, tokenizer: taskTokenizer(), source: "test" },
      targets,
      factors,
      categories: CATS,
      experts,
      zs: experts.map(expertZ),
      runs: {},
    };
  });

  const host = async (tree: Params) =>
    Promise.all(
      namedLeaves(tree).map(async ([n, x]) => [n, Array.from(await x.data()) as number[]] as const),
    );

  it("a one-hot α gives exactly that expert's z and weights", async () => {
    for (let k = 0; k < 3; k++) {
      const alpha = [0, 0, 0].map((_, j) => (j === k ? 1 : 0));
      const mixed = mixExperts(lib.zs, lib.targets, alpha, { perLayer: false, normalise: true });
      expect(await host(mixed)).toEqual(await host(treeRef(lib.zs[k])));
    }
    const compose = composer(lib);
    const viaMix = compose.params(
      mixExperts(lib.zs, lib.targets, [0, 1, 0], { perLayer: false, normalise: false }),
    );
    const viaExpert = compose.params(treeRef(lib.zs[1]));
    const a = await host(viaMix);
    expect(a).toEqual(await host(viaExpert));
    // …and the compiled composition agrees with the eager expertParams of part 1.
    const eager = expertParams(
      treeRef(lib.lm.params),
      treeRef(lib.factors as unknown as Params) as never,
      experts[1],
    );
    const b = new Map(await host(eager));
    for (const [name, v] of a) {
      const w = b.get(name)!;
      const scale = Math.max(...w.map(Math.abs));
      expect(Math.max(...v.map((x, i) => Math.abs(x - w[i]))) / scale, name).toBeLessThan(1e-5);
    }
    compose.dispose();
  });

  it("per-layer α picks each layer's expert; α is read per target", async () => {
    const L = [...new Set(lib.targets.map(layerOf))].length;
    expect(L).toBe(2);
    expect(alphaDim(3, lib.targets, true)).toBe(6);
    // expert-major: [k0 l0, k0 l1, k1 l0, k1 l1, k2 l0, k2 l1]: layer 0 from expert 2, layer 1 from expert 0.
    const mixed = await host(
      mixExperts(lib.zs, lib.targets, [0, 1, 0, 0, 1, 0], { perLayer: true, normalise: false }),
    );
    const z0 = new Map(await host(treeRef(lib.zs[0])));
    const z2 = new Map(await host(treeRef(lib.zs[2])));
    for (const [name, v] of mixed) expect(v, name).toEqual((layerOf(name) === 0 ? z2 : z0).get(name));
    expect(coefficients([0.2, 0.6, 0.2], 3, lib.targets, { perLayer: false, normalise: true })[0]).toEqual(
      [0.2, 0.6, 0.2].map((x) => x / 1),
    );
    expect(coefficients([1, 1, 2], 3, lib.targets, { perLayer: false, normalise: true })[0]).toEqual([
      0.25, 0.25, 0.5,
    ]);
    expect(coefficients([0, 0, 0], 3, lib.targets, { perLayer: false, normalise: false })[0]).toEqual([
      1 / 3,
      1 / 3,
      1 / 3,
    ]);
    expect(() => coefficients([1, 2], 3, lib.targets, { perLayer: false, normalise: false })).toThrow(
      /expected 3/,
    );
  });

  it("pass 2 builds each expert's weights once however many prompts use it", () => {
    let built = 0;
    const w = new RouteWeights(lib.lm.params, (route) => {
      built++;
      return composer(lib).params(treeRef(lib.zs[CATS.indexOf(route)]));
    });
    for (const r of ["math", "code", "math", "other", "math", "code"]) w.get(r);
    expect(built).toBe(2);
    expect(w.get("other")).toBe(lib.lm.params);
    w.dispose();
    treeDispose({});
  });
});
