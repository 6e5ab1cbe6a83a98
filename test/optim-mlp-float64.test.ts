/**
 * 200 steps of every optimiser on a fixed MLP and batch, float64 on both sides, against PyTorch 1.13.
 * Not tighter than float32: jax-js 0.1.25 computes tanh, exp and log only to ~1e-6 relative even in
 * float64, so the model's loss and gradients already differ at that level; the 2-D paths (pure
 * arithmetic) are where float64 agrees to 1e-12.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../src/engine/device.js";
import { loadOptimFixture, replayMlp, type MlpFixture } from "./optim-reference.js";

const fixture = loadOptimFixture<MlpFixture>("mlp.json");
const TOL = 1e-5;

describe("optimisers follow the PyTorch reference trajectory on an MLP (float64, 200 steps)", () => {
  beforeAll(() => startEngine());
  for (const [name, c] of Object.entries(fixture.cases)) {
    const tol = TOL;
    it(`${name} (${JSON.stringify(c.config)}) within ${tol.toExponential(0)}`, async () => {
      const { lossError, snapshots } = await replayMlp(fixture, c, "float64");
      for (const [step, err] of Object.entries(snapshots))
        expect(err, `params after step ${step}`).toBeLessThan(tol);
      expect(lossError, "loss at every step").toBeLessThan(tol);
    });
  }
});
