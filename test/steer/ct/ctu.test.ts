import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../../src/engine/device.js";
import { grad, jit, numpy as np } from "../../../src/engine/jax.js";
import { activate, ctu, relu } from "../../../src/nn/activations.js";
import { checkCase, loadReference, type Tensor } from "../../reference.js";

beforeAll(async () => {
  await startEngine();
});

const ref = loadReference("ct/ctu.json").ctu;
const WIDE = [-1e4, -1e3, -50, -20.5, -3, -1, -1e-3, -0, 0, 1e-7, 1e-3, 0.5, 1, 7, 20.5, 50, 1e3, 1e4];

describe("CTU", () => {
  it("is ReLU bitwise at β = 1, in values and gradients, for number and array β", async () => {
    const x = () => np.array(WIDE);
    const want = await relu(x()).data();
    expect(await ctu(x(), 1).data()).toEqual(want);
    expect(await ctu(x(), np.array(1), np.array(0.5)).data()).toEqual(want);
    const gRelu = await grad((v: np.Array) => relu(v).sum())(x()).data();
    const gCtu = await grad((v: np.Array) => ctu(v, np.array(1), 0.5).sum())(x()).data();
    expect(gCtu).toEqual(gRelu);
  });

  for (const [name, c] of Object.entries(ref))
    it(`matches the float64 reference (mpmath) in value and d/dx, d/dβ, d/dc to 1e-6: ${name}`, async () => {
      await checkCase(c, (v) => ctu(v.x, v.beta, v.c), 1e-6);
    });

  it("has no NaN or Inf in float32 values or gradients at |x| up to 1e4, and stays within 1e-5 of the reference", async () => {
    for (const c of Object.values(ref)) {
      const x = np.array((c.inputs.x as Tensor).data);
      const b = c.config!.beta as number;
      const k = c.config!.c as number;
      const y = Array.from(await ctu(x.ref, b, k).data()) as number[];
      y.forEach((v, i) => {
        const want = c.output.data[i];
        expect(Math.abs(v - want) / Math.max(1, Math.abs(want))).toBeLessThan(1e-5);
      });
      const [gb, gc] = grad((p: np.Array[]) => ctu(x.ref, p[0], p[1]).sum(), { argnums: 0 })([
        np.array(b),
        np.array(k),
      ]);
      const gx = grad((v: np.Array) => ctu(v, np.array(b), np.array(k)).sum())(x);
      for (const g of [gb, gc, gx]) expect(Array.from(await g.data()).every(Number.isFinite)).toBe(true);
    }
  });

  it("works inside jit: ReLU bitwise at β = 1, the eager values to float32 rounding otherwise", async () => {
    const f = jit((x: np.Array, b: np.Array, c: np.Array) => ctu(x, b, c));
    expect(await f(np.array(WIDE), np.array(1), np.array(0.5)).data()).toEqual(
      await relu(np.array(WIDE)).data(),
    );
    const eager = await ctu(np.array(WIDE), np.array(0.8), np.array(0.3)).data();
    const jitted = Array.from(await f(np.array(WIDE), np.array(0.8), np.array(0.3)).data()) as number[];
    jitted.forEach((v, i) =>
      expect(Math.abs(v - eager[i])).toBeLessThanOrEqual(3e-7 * Math.max(1, Math.abs(eager[i]))),
    );
    f.dispose();
  });

  it("applies per-channel β and c along axis 1 of NCHW activations and the last axis of [B, F]", async () => {
    const raw = (v: number[]) => np.array(v.map((p) => Math.log(p / (1 - p))));
    const betas = [0.6, 0.9, 0.99];
    const cs = [0.5, 0.2, 0.8];
    const data = Array.from({ length: 2 * 3 * 2 * 2 }, (_, i) => Math.sin(i) * 3);
    const x = np.array(data).reshape([2, 3, 2, 2]);
    const y = await activate("ctu", x, { beta: raw(betas), c: raw(cs) }).data();
    const flat = np.array(data).reshape([2, 3, 4]).transpose([0, 2, 1]).reshape([8, 3]);
    const y2 = await activate("ctu", flat, { beta: raw(betas), c: raw(cs) }).data();
    for (let n = 0; n < 2; n++)
      for (let ch = 0; ch < 3; ch++)
        for (let p = 0; p < 4; p++) {
          const i = (n * 3 + ch) * 4 + p;
          const one = (await ctu(np.array([data[i]]), betas[ch], cs[ch]).data())[0];
          expect(y[i]).toBeCloseTo(one, 5);
          expect(y2[(n * 4 + p) * 3 + ch]).toBeCloseTo(one, 5);
        }
  });

  it("keeps gradients finite when σ(raw β) rounds to 1 in float32", async () => {
    const x = np.array(WIDE);
    const g = grad((raw: np.Array) => activate("ctu", x.ref, { beta: raw, c: np.array(0) }).sum())(
      np.array(40),
    );
    expect(Number.isFinite((await g.data())[0])).toBe(true);
    x.dispose();
  });
});
