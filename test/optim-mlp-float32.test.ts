/**
 * 200 steps of every optimiser on a fixed MLP and batch, float32, against PyTorch 1.13
 * (torch.optim where it has the optimiser; PyTorch implementations of the published rules otherwise).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../src/engine/device.js";
import { loadOptimFixture, replayMlp, type MlpFixture } from "./optim-reference.js";

const fixture = loadOptimFixture<MlpFixture>("mlp.json");
const TOL = 1e-5;

describe("optimisers follow the PyTorch reference trajectory on an MLP (float32, 200 steps)", () => {
  beforeAll(() => startEngine());
  for (const [name, c] of Object.entries(fixture.cases)) {
    // A float32 run cannot agree with PyTorch better than PyTorch's own float32 run agrees with its
    // float64 run; Sophia's clipped sign steps make that floor 1e-5 to 5e-5 (they pass at 1e-5 in float64).
    const tol = Math.max(TOL, 2 * c.float32_vs_float64);
    it(`${name} (${JSON.stringify(c.config)}) within ${tol.toExponential(0)}`, async () => {
      const { lossError, snapshots } = await replayMlp(fixture, c, "float32");
      for (const [step, err] of Object.entries(snapshots))
        expect(err, `params after step ${step}`).toBeLessThan(tol);
      expect(lossError, "loss at every step").toBeLessThan(tol);
    });
  }
});
