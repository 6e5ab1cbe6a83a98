/**
 * Optimiser paths on Rosenbrock from (−1.5, 2), 200 steps, against PyTorch 1.13 (torch.optim, or
 * PyTorch implementations of the published rules): every point, float32 and float64.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../src/engine/device.js";
import { testFunction } from "../src/landscape/functions.js";
import { runPath } from "../src/landscape/paths.js";
import { createOptimizer } from "../src/optim/index.js";
import { fixtureConfig, loadOptimFixture, relError, type PathFixture } from "./optim-reference.js";

const fixture = loadOptimFixture<PathFixture>("rosenbrock.json");
/** Rules without exp/log (jax-js's transcendental functions are float32-accurate even in float64). */
const PURE_ARITHMETIC = new Set(["sgd", "adagrad", "rmsprop", "lion", "sophiah", "lamb", "lars"]);

describe("optimiser paths on Rosenbrock match PyTorch", () => {
  beforeAll(() => startEngine());
  for (const [name, c] of Object.entries(fixture.cases)) {
    for (const dtype of ["float32", "float64"] as const) {
      const optimizer = String(c.config.name);
      const tol =
        dtype === "float32"
          ? Math.max(1e-5, 2 * c.float32_vs_float64)
          : PURE_ARITHMETIC.has(optimizer)
            ? 1e-12
            : 1e-6;
      it(`${name} ${dtype}: every point within ${tol.toExponential(0)}`, async () => {
        const path = await runPath({
          fn: testFunction("rosenbrock"),
          optimizer: createOptimizer(fixtureConfig(c.config)),
          start: fixture.start,
          steps: fixture.steps,
          dtype,
          probes: fixture.probes.map((p) => p.data),
        });
        const expected = c[dtype];
        expect(path.diverged).toBeUndefined();
        expect(path.points).toHaveLength(fixture.steps + 1);
        let worst = 0;
        path.points.forEach((p, i) => (worst = Math.max(worst, relError(p, expected.points[i]))));
        expect(worst, "max over points of |Δ|∞ / |p|∞").toBeLessThan(tol);
        path.values.forEach((v, i) =>
          expect(Math.abs(v - expected.values[i]), `f at point ${i}`).toBeLessThan(
            10 * tol * Math.max(1, Math.abs(expected.values[i])),
          ),
        );
      });
    }
  }
});
