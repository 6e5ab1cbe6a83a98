import { beforeAll, describe, expect, it } from "vitest";
import { grad, numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { fromNamedLeaves, namedLeaves, treeRef, type Params } from "../../src/engine/tree.js";
import { lmForward, lmInit, type LmConfig } from "../../src/lm/model.js";
import { loraInit, loraParamCount, loraParams } from "../../src/steer/lora/lora.js";
import { leafAt } from "../../src/engine/tree.js";
import { selectTargets } from "../../src/steer/svf/targets.js";
import { createGenerator, sampleToken } from "../../src/lm/generate.js";
import { mulberry32 } from "../../src/engine/rng.js";

const cfg: LmConfig = {
  vocabSize: 20,
  hiddenSize: 16,
  intermediateSize: 24,
  numLayers: 2,
  numHeads: 4,
  numKvHeads: 2,
  ropeTheta: 10000,
  rmsNormEps: 1e-6,
  tieEmbeddings: true,
  attentionBias: false,
  maxPositions: 32,
};
const tokens = () => np.array([[1, 5, 7, 3, 9, 2]], { dtype: np.int32 });

beforeAll(async () => {
  await startEngine();
});

describe("LoRA", () => {
  it("starts from the base model exactly (B = 0) and counts r(m + n) parameters per matrix", async () => {
    const base = lmInit(keyFromSeed(0), cfg);
    const targets = selectTargets(base, "mlp");
    const lora = loraInit(keyFromSeed(1), base, targets, { rank: 2, alpha: 4 });
    const n = namedLeaves(lora).reduce((a, [, x]) => a + x.size, 0);
    expect(n).toBe(loraParamCount(base, targets, 2));
    expect(n).toBe(cfg.numLayers * 3 * 2 * (16 + 24));
    const want = await lmForward(treeRef(base), cfg, tokens()).data();
    const got = await lmForward(loraParams(base, lora, targets, { rank: 2, alpha: 4 }), cfg, tokens()).data();
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it("adds (α/r)·B·A to each target and leaves the other weights alone", async () => {
    const base = lmInit(keyFromSeed(0), cfg);
    const targets = ["model.layers.1.mlp.up_proj.weight"];
    const A = np.array([[1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]); // [1, 16]
    const Bm = np.array(Array.from({ length: 24 }, (_, i) => [i / 10])); // [24, 1]
    const lora = fromNamedLeaves([
      [`${targets[0]}.A`, A],
      [`${targets[0]}.B`, Bm],
    ]);
    const w0 = await leafAt(base, targets[0]).ref.data();
    const other = await leafAt(base, "model.layers.1.mlp.down_proj.weight").ref.data();
    const merged = loraParams(treeRef(base), lora, targets, { rank: 1, alpha: 3 });
    const w = await leafAt(merged, targets[0]).ref.data();
    const a = [1, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    for (let i = 0; i < 24; i++)
      for (let j = 0; j < 16; j++) expect(w[i * 16 + j]).toBeCloseTo(w0[i * 16 + j] + 3 * (i / 10) * a[j], 5);
    expect(Array.from(await leafAt(merged, "model.layers.1.mlp.down_proj.weight").ref.data())).toEqual(
      Array.from(other),
    );
  });

  it("at init the gradient reaches B but not A (A's gradient is Bᵀ·∂W = 0)", async () => {
    const base = lmInit(keyFromSeed(0), cfg);
    const targets = selectTargets(base, "mlp");
    const lora = loraInit(keyFromSeed(1), base, targets, { rank: 2, alpha: 4 });
    const loss = (l: Params, b: Params) =>
      lmForward(loraParams(b, l, targets, { rank: 2, alpha: 4 }), cfg, tokens()).sum();
    const g = grad(loss)(lora, base);
    for (const [name, x] of namedLeaves(g)) {
      const norm = Math.sqrt((await np.square(x).sum().data())[0]);
      if (name.endsWith(".A")) expect(norm, name).toBe(0);
      else expect(norm, name).toBeGreaterThan(0);
    }
  });
});

describe("sampling", () => {
  it("top-k = 1 is greedy, temperature sampling is reproducible from the seed and follows the softmax", () => {
    const logits = [0.1, 2, -1, 1.5];
    const rng = mulberry32(1);
    for (let i = 0; i < 20; i++) expect(sampleToken(logits, 1, 1, rng)).toBe(1);
    const draw = (seed: number) => {
      const r = mulberry32(seed);
      return Array.from({ length: 4000 }, () => sampleToken(logits, 1, 0, r));
    };
    expect(draw(7)).toEqual(draw(7));
    const counts = [0, 0, 0, 0];
    for (const t of draw(7)) counts[t]++;
    const z = logits.reduce((a, l) => a + Math.exp(l), 0);
    logits.forEach((l, i) => expect(Math.abs(counts[i] / 4000 - Math.exp(l) / z)).toBeLessThan(0.03));
  });

  it("batched sampled generation is reproducible from its seed", async () => {
    const params = lmInit(keyFromSeed(2), cfg);
    const gen = createGenerator(cfg);
    const opts = { maxNewTokens: 6, temperature: 1, topK: 5, eosId: 2, padId: 0, seed: 11 };
    const a = await gen.generate(
      treeRef(params),
      [
        [1, 4],
        [1, 5, 6, 7],
      ],
      opts,
    );
    const b = await gen.generate(
      treeRef(params),
      [
        [1, 4],
        [1, 5, 6, 7],
      ],
      opts,
    );
    expect(a).toEqual(b);
    const c = await gen.generate(
      params,
      [
        [1, 4],
        [1, 5, 6, 7],
      ],
      { ...opts, seed: 12 },
    );
    expect(c.tokens).not.toEqual(a.tokens);
    gen.dispose();
  });
});
