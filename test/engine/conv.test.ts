/**
 * conv2d and pooling: forward and both gradients against jax-js's own `lax.conv` (float32, every
 * strategy, eager and under jit), against central finite differences in float64, and pooling
 * against hand-computed values.
 */
import { describe, expect, it } from "vitest";
import { grad, jit, lax, numpy as np, valueAndGrad } from "../../src/engine/jax.js";
import {
  avgPool2d,
  conv2d,
  conv2dWith,
  maxPool2d,
  type Conv2dOptions,
  type Conv2dStrategy,
} from "../../src/engine/conv.js";

type Arr = np.Array;

/** Deterministic pseudo-random values in [-0.5, 0.5). */
function rand(shape: number[], seed: number, dtype: np.DType = np.float32): Arr {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === np.float64 ? new Float64Array(n) : new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = s / 4294967296 - 0.5;
  }
  return np.array(data, { dtype }).reshape(shape);
}

async function values(x: Arr): Promise<number[]> {
  return Array.from(await x.data());
}

/** max |a − b| / (1 + max |b|). Consumes both. */
async function relErr(a: Arr, b: Arr): Promise<number> {
  expect(a.shape).toEqual(b.shape);
  const [u, v] = [await values(a), await values(b)];
  let err = 0;
  let scale = 0;
  for (let i = 0; i < u.length; i++) {
    err = Math.max(err, Math.abs(u[i] - v[i]));
    scale = Math.max(scale, Math.abs(v[i]));
  }
  return err / (1 + scale);
}

/** lax.conv with the same padding convention as conv2d. */
function reference(x: Arr, w: Arr, opts: Conv2dOptions): Arr {
  const s = opts.stride ?? 1;
  const p = opts.padding ?? "VALID";
  return typeof p === "number"
    ? lax.conv(x, w, [s, s], [
        [p, p],
        [p, p],
      ] as never)
    : lax.conv(x, w, [s, s], p);
}

const CASES: { name: string; x: number[]; w: number[]; opts: Conv2dOptions }[] = [
  { name: "3×3 SAME, 8→6 channels", x: [2, 8, 7, 6], w: [6, 8, 3, 3], opts: { padding: "SAME" } },
  { name: "3×3 VALID, 3→5 channels", x: [2, 3, 7, 8], w: [5, 3, 3, 3], opts: { padding: "VALID" } },
  { name: "3×2 kernel, default (VALID)", x: [1, 9, 6, 7], w: [4, 9, 3, 2], opts: {} },
  { name: "stride 2 SAME, odd size", x: [2, 8, 9, 8], w: [6, 8, 3, 3], opts: { padding: "SAME", stride: 2 } },
  { name: "stride 2, padding 1", x: [2, 5, 9, 10], w: [7, 5, 3, 3], opts: { padding: 1, stride: 2 } },
  { name: "padding 2, 1 input channel", x: [3, 1, 6, 6], w: [4, 1, 3, 3], opts: { padding: 2 } },
  { name: "1×1 kernel", x: [2, 10, 4, 5], w: [3, 10, 1, 1], opts: {} },
  {
    name: "4×3 kernel SAME, stride 3",
    x: [1, 12, 11, 9],
    w: [8, 12, 4, 3],
    opts: { padding: "SAME", stride: 3 },
  },
];

const STRATEGIES: Conv2dStrategy[] = ["shifted", "im2col"];

describe("conv2d matches lax.conv (float32)", () => {
  for (const c of CASES)
    it(c.name, async () => {
      const x = rand(c.x, 1);
      const w = rand(c.w, 2);
      const expected = reference(x.ref, w.ref, c.opts);
      const g = rand(expected.shape, 3);
      const loss = (f: (x: Arr, w: Arr) => Arr) => (x: Arr, w: Arr, g: Arr) => f(x, w).mul(g).sum();
      const [gxRef, gwRef] = grad(
        loss((x, w) => reference(x, w, c.opts)),
        { argnums: [0, 1] },
      )(x.ref, w.ref, g.ref);
      for (const strategy of STRATEGIES) {
        const f = (x: Arr, w: Arr) => conv2dWith(strategy, x, w, c.opts);
        expect(await relErr(f(x.ref, w.ref), expected.ref), `${strategy} eager`).toBeLessThan(1e-6);
        expect(await relErr(jit(f)(x.ref, w.ref), expected.ref), `${strategy} jit`).toBeLessThan(1e-6);
        const [gx, gw] = jit(grad(loss(f), { argnums: [0, 1] }))(x.ref, w.ref, g.ref);
        expect(await relErr(gx, gxRef.ref), `${strategy} ∂x`).toBeLessThan(1e-6);
        expect(await relErr(gw, gwRef.ref), `${strategy} ∂w`).toBeLessThan(1e-6);
      }
      for (const a of [x, w, g, expected, gxRef, gwRef]) a.dispose();
    });
});

describe("conv2d (auto strategy)", () => {
  it("picks im2col below 8 input channels and shifted taps above; both match lax.conv", async () => {
    for (const c of [CASES[1], CASES[0]]) {
      const x = rand(c.x, 12);
      const w = rand(c.w, 13);
      const expected = reference(x.ref, w.ref, c.opts);
      expect(await relErr(jit((x: Arr, w: Arr) => conv2d(x, w, c.opts))(x, w), expected)).toBeLessThan(1e-6);
    }
  });
});

describe("conv2d gradients match central finite differences (float64)", () => {
  // f(x, w) = Σ conv2d(x, w) ⊙ g; along random directions (u, v):
  // (f(x + εu, w + εv) − f(x − εu, w − εv)) / 2ε  ≈  ⟨∂f/∂x, u⟩ + ⟨∂f/∂w, v⟩.
  const cases = [CASES[0], CASES[3], CASES[5]];
  for (const c of cases)
    for (const strategy of ["shifted", "im2col"] as const)
      it(`${c.name} (${strategy})`, async () => {
        const f64 = np.float64;
        const x = rand(c.x, 4, f64);
        const w = rand(c.w, 5, f64);
        const outShape = conv2dWith("lax", x.ref, w.ref, c.opts).shape;
        const g = rand(outShape, 6, f64);
        const f = jit((x: Arr, w: Arr, g: Arr) => conv2dWith(strategy, x, w, c.opts).mul(g).sum());
        const [value, [gx, gw]] = jit(
          valueAndGrad((x: Arr, w: Arr, g: Arr) => conv2dWith(strategy, x, w, c.opts).mul(g).sum(), {
            argnums: [0, 1],
          }),
        )(x.ref, w.ref, g.ref);
        expect(value.dtype).toBe(f64);
        value.dispose();
        for (let d = 0; d < 3; d++) {
          const u = rand(c.x, 10 + d, f64);
          const v = rand(c.w, 20 + d, f64);
          const eps = 1e-6;
          const plus = f(x.ref.add(u.ref.mul(eps)), w.ref.add(v.ref.mul(eps)), g.ref);
          const minus = f(x.ref.sub(u.ref.mul(eps)), w.ref.sub(v.ref.mul(eps)), g.ref);
          const numeric = ((await values(plus))[0] - (await values(minus))[0]) / (2 * eps);
          const analytic = (await values(gx.ref.mul(u).sum()))[0] + (await values(gw.ref.mul(v).sum()))[0];
          expect(Math.abs(numeric - analytic)).toBeLessThan(1e-7 * (1 + Math.abs(analytic)));
        }
        for (const a of [x, w, g, gx, gw]) a.dispose();
      });
});

describe("conv2d inside jit(valueAndGrad) of a small CNN", () => {
  it("loss and gradients equal the lax.conv model's", async () => {
    type P = { w1: Arr; w2: Arr; fc: Arr };
    const model = (conv: (x: Arr, w: Arr) => Arr) => (p: P, x: Arr) => {
      let h = maxPool2d(np.maximum(conv(x, p.w1), 0), 2);
      h = avgPool2d(np.maximum(conv(h, p.w2), 0), 2);
      return np.square(np.matmul(h.reshape([h.shape[0], -1]), p.fc)).mean();
    };
    const params = () => ({
      w1: rand([8, 1, 3, 3], 7),
      w2: rand([12, 8, 3, 3], 8),
      fc: rand([12 * 2 * 2, 3], 9),
    });
    const x = rand([4, 1, 8, 8], 10);
    const ours = jit(valueAndGrad(model((x, w) => conv2d(x, w, { padding: "SAME" }))));
    const theirs = valueAndGrad(model((x, w) => lax.conv(x, w, [1, 1], "SAME")));
    const [l1, g1] = ours(params(), x.ref);
    const [l2, g2] = theirs(params(), x);
    expect(await relErr(l1, l2)).toBeLessThan(1e-6);
    for (const k of ["w1", "w2", "fc"] as const) expect(await relErr(g1[k], g2[k]), k).toBeLessThan(1e-5);
  });
});

describe("conv2d argument checks", () => {
  it("rejects mismatched channels, bad padding and kernels larger than the input", () => {
    expect(() => conv2d(np.zeros([1, 3, 5, 5]), np.zeros([4, 2, 3, 3]))).toThrow(
      /3 channels but w expects 2/,
    );
    expect(() =>
      conv2d(np.zeros([1, 3, 5, 5]), np.zeros([4, 3, 3, 3]), { padding: "FULL" as never }),
    ).toThrow(/padding must be/);
    expect(() => conv2d(np.zeros([1, 3, 2, 2]), np.zeros([4, 3, 3, 3]))).toThrow(/does not fit/);
    expect(() => conv2d(np.zeros([3, 5, 5]), np.zeros([4, 3, 3, 3]))).toThrow(/\[N, C, H, W\]/);
  });
});

describe("pooling (hand-computed values)", () => {
  // One 4×4 image; windows of the 2×2 pool: [1 3; 0 3] (tie, first wins), [2 2; 1 5],
  // [1 1; 2 0] (the 2), [1 1; 0 2] (the 2).
  const img = [
    [1, 3, 2, 2],
    [0, 3, 1, 5],
    [1, 1, 1, 1],
    [2, 0, 0, 2],
  ];
  const image = () => np.array(img).reshape([1, 1, 4, 4]);

  it("maxPool2d 2×2: values and gradient (first maximum of a window gets it)", async () => {
    expect(await values(maxPool2d(image()))).toEqual([3, 5, 2, 2]);
    const upstream = np.array([10, 20, 30, 40]).reshape([1, 1, 2, 2]);
    const gx = jit(grad((x: Arr, g: Arr) => maxPool2d(x, 2).mul(g).sum()))(image(), upstream);
    expect(await values(gx)).toEqual([0, 10, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 30, 0, 0, 40]);
  });

  it("maxPool2d 3×3 stride 2 (overlapping windows, odd input): values and gradient", async () => {
    // 5×5 input 0..24 except a 30 in the middle: every window contains it.
    const data = Array.from({ length: 25 }, (_, i) => (i === 12 ? 30 : i));
    const x = () => np.array(data).reshape([1, 1, 5, 5]);
    expect(await values(maxPool2d(x(), 3, 2))).toEqual([30, 30, 30, 30]);
    const gx = grad((x: Arr) => maxPool2d(x, 3, 2).sum())(x());
    expect(await values(gx)).toEqual(data.map((_, i) => (i === 12 ? 4 : 0)));
    // Without the 30, the maxima are the bottom-right corners 12, 14, 22, 24.
    const plain = np.arange(25).astype(np.float32).reshape([1, 1, 5, 5]);
    expect(await values(maxPool2d(plain, 3, 2))).toEqual([12, 14, 22, 24]);
  });

  it("maxPool2d 2×2 on an odd size drops the last row and column (floor mode)", async () => {
    const x = np
      .arange(2 * 25)
      .astype(np.float32)
      .reshape([2, 1, 5, 5]);
    expect(await values(maxPool2d(x))).toEqual([6, 8, 16, 18, 31, 33, 41, 43]);
  });

  it("avgPool2d 2×2 and 3×3 stride 1: values and gradient", async () => {
    expect(await values(avgPool2d(image(), 2))).toEqual([7 / 4, 10 / 4, 4 / 4, 4 / 4]);
    const x = np.arange(16).astype(np.float32).reshape([1, 1, 4, 4]);
    // 3×3 windows at (0,0), (0,1), (1,0), (1,1): means of 0..10, centred on 5, 6, 9, 10.
    expect(await values(avgPool2d(x.ref, 3, 1))).toEqual([5, 6, 9, 10]);
    // Each input's gradient is (number of windows covering it) / 9.
    const counts = [1, 2, 2, 1, 2, 4, 4, 2, 2, 4, 4, 2, 1, 2, 2, 1];
    const gx = await values(grad((x: Arr) => avgPool2d(x, 3, 1).sum())(x));
    gx.forEach((v, i) => expect(v).toBeCloseTo(counts[i] / 9, 6));
  });

  it("pools every channel and image independently", async () => {
    const x = rand([3, 4, 6, 6], 11);
    const expected = x.ref.reshape([3, 4, 3, 2, 3, 2]).max([3, 5]);
    expect(await relErr(jit((x: Arr) => maxPool2d(x, 2))(x), expected)).toBe(0);
  });

  it("rejects windows larger than the input", () => {
    expect(() => maxPool2d(np.zeros([1, 1, 2, 2]), 3)).toThrow(/larger than/);
  });
});
