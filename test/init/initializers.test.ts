import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed, splitKey, type Key } from "../../src/engine/prng.js";
import { UsageError } from "../../src/errors.js";
import { calculateGain, computeFans, type Nonlinearity } from "../../src/init/fans.js";
import { initializers, type Initializer } from "../../src/init/initializers.js";
import {
  canonicalInitName,
  initializerByName,
  INIT_NAMES,
  validateInitOptions,
} from "../../src/init/registry.js";

type TorchCase = {
  init: keyof typeof initializers;
  options: Record<string, unknown>;
  shape: number[];
  std: number;
  mean: number;
  maxAbs?: number;
};
type TorchFixture = {
  fans: { shape: number[]; fanIn: number; fanOut: number }[];
  gains: { nonlinearity: Nonlinearity; param: number | null; gain: number }[];
  inits: TorchCase[];
};
const torch: TorchFixture = JSON.parse(
  readFileSync(new URL("../fixtures/reference/init/torch_init.json", import.meta.url), "utf8"),
);

const build = (c: TorchCase): Initializer =>
  (initializers[c.init] as (o: Record<string, unknown>) => Initializer)(c.options);
const label = (c: TorchCase) => `${c.init}(${JSON.stringify(c.options)}) [${c.shape}]`;

/** √(mean w²) and mean over draws of `init` with fresh keys until `atLeast` entries are seen. */
async function sampleStats(init: Initializer, shape: number[], atLeast: number, seed: number) {
  const size = shape.reduce((a, b) => a * b, 1);
  const draws = Math.ceil(atLeast / size);
  const keys = splitKey(keyFromSeed(seed), draws);
  let sq = 0;
  let sum = 0;
  let maxAbs = 0;
  for (const key of keys) {
    const w = init(key, shape);
    expect(w.shape).toEqual(shape);
    for (const v of await w.data()) {
      sq += v * v;
      sum += v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  }
  const n = draws * size;
  return { rms: Math.sqrt(sq / n), mean: sum / n, maxAbs, n };
}

/** max |QᵀQ − I| over the Gram of the smaller side of the [rows, cols] view, scaled by 1/gain². */
async function orthogonalityError(w: np.Array, gain = 1): Promise<number> {
  const rows = w.shape[0];
  const data = await w.data();
  const cols = data.length / rows;
  const [k, len, at] =
    rows >= cols
      ? [cols, rows, (v: number, t: number) => data[t * cols + v]]
      : [rows, cols, (v: number, t: number) => data[v * cols + t]];
  let worst = 0;
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < len; t++) s += at(i, t) * at(j, t);
      worst = Math.max(worst, Math.abs(s / (gain * gain) - (i === j ? 1 : 0)));
    }
  return worst;
}

beforeAll(async () => {
  await startEngine();
});

describe("initialisers against torch.nn.init", () => {
  it("fans of linear and conv weights are PyTorch's (conv: in·kh·kw and out·kh·kw)", () => {
    for (const f of torch.fans)
      expect(computeFans(f.shape), `[${f.shape}]`).toEqual({ fanIn: f.fanIn, fanOut: f.fanOut });
    expect(() => computeFans([10])).toThrow(UsageError);
  });

  it("gains are torch.nn.init.calculate_gain's", () => {
    for (const g of torch.gains)
      expect(
        calculateGain(g.nonlinearity, g.param ?? undefined),
        `${g.nonlinearity}(${g.param})`,
      ).toBeCloseTo(g.gain, 14);
  });

  it("every initialiser's formula std is PyTorch's empirical std within 0.5%, and its bound PyTorch's max |w|", () => {
    for (const c of torch.inits) {
      const init = build(c);
      expect(init.std(c.shape) / c.std - 1, label(c)).toBeLessThan(0.005);
      expect(init.std(c.shape) / c.std - 1, label(c)).toBeGreaterThan(-0.005);
      if (c.maxAbs !== undefined) {
        const bound = init.std(c.shape) * Math.sqrt(3);
        expect(c.maxAbs, label(c)).toBeLessThanOrEqual(bound * (1 + 1e-6));
        expect(c.maxAbs, label(c)).toBeGreaterThan(bound * 0.995);
      }
    }
  });

  it("every initialiser's empirical std over ≥ 50,000 entries matches its formula within 2%, mean ≈ 0", async () => {
    let seed = 100;
    for (const c of torch.inits) {
      const init = build(c);
      const want = init.std(c.shape);
      const s = await sampleStats(init, c.shape, 50_000, seed++);
      expect(Math.abs(s.rms / want - 1), label(c)).toBeLessThan(0.02);
      expect(Math.abs(s.mean), label(c)).toBeLessThan((5 * want) / Math.sqrt(s.n));
      if (c.maxAbs !== undefined)
        expect(s.maxAbs, label(c)).toBeLessThanOrEqual(want * Math.sqrt(3) * (1 + 1e-6));
    }
  });
});

describe("orthogonal initialisers", () => {
  it("give ‖WᵀW − I‖ < 1e-4 for square, tall, wide and conv-shaped weights", async () => {
    const keys = splitKey(keyFromSeed(7), 6);
    const shapes = [
      [512, 512],
      [784, 512],
      [64, 512],
      [10, 64],
      [64, 32, 3, 3],
      [1, 5],
    ];
    for (const [i, shape] of shapes.entries()) {
      const err = await orthogonalityError(initializers.orthogonal()(keys[i], shape));
      expect(err, `[${shape}]`).toBeLessThan(1e-4);
    }
  });

  it("scale by the gain, and scaled_orthogonal by √(2/fan_in) unless told otherwise", async () => {
    const [k1, k2, k3] = splitKey(keyFromSeed(8), 3);
    expect(await orthogonalityError(initializers.orthogonal({ gain: 3 })(k1, [96, 40]), 3)).toBeLessThan(
      1e-4,
    );
    const s = Math.sqrt(2 / 40);
    expect(await orthogonalityError(initializers.scaledOrthogonal()(k2, [96, 40]), s)).toBeLessThan(1e-4);
    expect(
      await orthogonalityError(initializers.scaledOrthogonal({ scale: 0.5 })(k3, [30, 70]), 0.5),
    ).toBeLessThan(1e-4);
  });

  it("are Haar-distributed: the trace of a 4×4 draw has mean 0 and E[tr²] = 1", async () => {
    // For Q uniform on O(n), E[tr Q] = 0 and E[(tr Q)²] = 1; a QR without the sign fix fails this
    // (its diagonal leans negative).
    const n = 4;
    const draws = 400;
    let s = 0;
    let s2 = 0;
    for (const key of splitKey(keyFromSeed(9), draws)) {
      const d = await initializers.orthogonal()(key, [n, n]).data();
      const tr = d[0] + d[5] + d[10] + d[15];
      s += tr;
      s2 += tr * tr;
    }
    expect(Math.abs(s / draws)).toBeLessThan(0.2); // SE 0.05
    expect(Math.abs(s2 / draws - 1)).toBeLessThan(0.3); // SE ≈ 0.07
  });
});

describe("initialisers by name", () => {
  it("L-Momentum rescales to mean(w²) = α exactly (α = 0.81 = 0.9² by default)", async () => {
    const [k1, k2] = splitKey(keyFromSeed(11), 2);
    const cases: [Initializer, number, Key][] = [
      [initializers.lMomentum(), 0.81, k1],
      [initializers.lMomentum({ alpha: 0.04 }), 0.04, k2],
    ];
    for (const [init, alpha, key] of cases) {
      const d = await init(key, [64, 784]).data();
      let sq = 0;
      for (const v of d) sq += v * v;
      const ms = sq / d.length;
      expect(ms / alpha).toBeCloseTo(1, 4); // float32 rounding of the mean
    }
  });

  it("the same key gives the same weights, another key other weights", async () => {
    for (const name of INIT_NAMES) {
      const init = initializerByName(name);
      const a = await init(keyFromSeed(1), [20, 30]).data();
      const b = await init(keyFromSeed(1), [20, 30]).data();
      const c = await init(keyFromSeed(2), [20, 30]).data();
      expect(Array.from(a), name).toEqual(Array.from(b));
      expect(Array.from(a), name).not.toEqual(Array.from(c));
    }
  });

  it("kaiming takes its gain from the nonlinearity; xavier and orthogonal default to gain 1", () => {
    const shape = [64, 32, 3, 3];
    const fanIn = 32 * 9;
    expect(initializerByName("kaiming_normal", { nonlinearity: "relu" }).std(shape)).toBeCloseTo(
      Math.sqrt(2 / fanIn),
      12,
    );
    expect(
      initializerByName("he_normal", { nonlinearity: "leaky_relu", slope: 0.25 }).std(shape),
    ).toBeCloseTo(Math.sqrt(2 / (1 + 0.0625) / fanIn), 12);
    expect(
      initializerByName("kaiming_uniform", { nonlinearity: "tanh", mode: "fan_out" }).std(shape),
    ).toBeCloseTo(5 / 3 / Math.sqrt(64 * 9), 12);
    expect(initializerByName("glorot_normal").std(shape)).toBeCloseTo(Math.sqrt(2 / (fanIn + 64 * 9)), 12);
    expect(initializerByName("lecun").std([10, 784])).toBeCloseTo(1 / 28, 12);
  });

  it("an unknown name or a bad option is a usage error naming the choices", () => {
    expect(canonicalInitName("lecun_normal")).toBe("lecun");
    expect(() => canonicalInitName("kaiming")).toThrow(/unknown initialiser "kaiming".*kaiming_normal/);
    expect(() => canonicalInitName("kaiming")).toThrow(UsageError);
    expect(() => validateInitOptions({ alpha: -1 })).toThrow(/alpha must be a positive number/);
    expect(() => validateInitOptions({ mode: "fan_avg" as never })).toThrow(/fan_in or fan_out/);
  });
});
