import { beforeAll, describe, expect, it } from "vitest";
import { numpy as np } from "../../src/engine/jax.js";
import { startEngine } from "../../src/engine/device.js";
import { createOptimizer, optimizerConfig, OPTIMIZERS } from "../../src/optim/index.js";
import { UsageError } from "../../src/errors.js";
import { evaluateGrid, FUNCTIONS, testFunction } from "../../src/landscape/functions.js";
import { contourSegments, joinSegments, pathFigure, runPath } from "../../src/landscape/paths.js";

beforeAll(() => startEngine());

async function f(name: string, x: number, y: number, params: Record<string, number> = {}) {
  const fn = testFunction(name, params);
  return (await fn.f(np.array(x, { dtype: np.float64 }), np.array(y, { dtype: np.float64 })).data())[0];
}

describe("2-D test functions", () => {
  it("take their closed-form values", async () => {
    const cases: [string, number, number, number, Record<string, number>?][] = [
      ["rosenbrock", 1, 1, 0],
      ["rosenbrock", -1.5, 2, 2.5 ** 2 + 100 * (2 - 2.25) ** 2],
      ["rosenbrock", 0.5, 0.5, 0.5 ** 2 + 10 * (0.5 - 0.25) ** 2, { b: 10 }],
      ["himmelblau", 3, 2, 0],
      ["himmelblau", 0, 0, 121 + 49],
      ["rastrigin", 0, 0, 0],
      ["rastrigin", 0.5, 1, 20 + 0.25 + 10 + 1 - 10],
      ["saddle", 1, 2, 0.5 - 1 + 3],
      ["quadratic", 1, -1, 3],
      ["gaussian", 0, 0, -1],
      [
        "gaussian",
        1,
        2,
        0.5 - 2 * Math.exp(-((1 - 1) ** 2) / 2 - (2 - 1) ** 2 / (2 * 0.25)),
        { A: 2, x0: 1, y0: 1, sigma2: 0.5, offset: 0.5 },
      ],
    ];
    for (const [name, x, y, expected, params] of cases)
      expect(await f(name, x, y, params), `${name}(${x}, ${y})`).toBeCloseTo(expected, 5);
  });

  it("Himmelblau's four minima are zeros", async () => {
    for (const [x, y] of testFunction("himmelblau").minima)
      expect(await f("himmelblau", x, y)).toBeLessThan(1e-9);
  });

  it("unknown functions and parameters are usage errors", () => {
    expect(() => testFunction("beale")).toThrow(UsageError);
    expect(() => testFunction("rosenbrock", { c: 1 })).toThrow(
      /rosenbrock has no parameter "c" \(it takes: a, b\)/,
    );
    expect(() => testFunction("saddle", { A: 1 })).toThrow(/takes none/);
    expect(() => testFunction("gaussian", { sigma1: 0 })).toThrow(/sigma1/);
  });
});

describe("optimiser paths", () => {
  it("gradient descent on x² + 2y² follows the closed form (1 − 2η)ᵗx₀, (1 − 4η)ᵗy₀", async () => {
    const lr = 0.1;
    const path = await runPath({
      fn: testFunction("quadratic"),
      optimizer: createOptimizer({ name: "sgd", lr }),
      start: [1.5, -1],
      steps: 20,
      dtype: "float64",
    });
    expect(path.points).toHaveLength(21);
    expect(path.values).toHaveLength(21);
    path.points.forEach(([x, y], t) => {
      expect(x).toBeCloseTo(1.5 * (1 - 2 * lr) ** t, 12);
      expect(y).toBeCloseTo(-1 * (1 - 4 * lr) ** t, 12);
      expect(path.values[t]).toBeCloseTo(x * x + 2 * y * y, 12);
    });
  });

  it("a diverging path stops at its last finite point and says where", async () => {
    const path = await runPath({
      fn: testFunction("quadratic"),
      optimizer: createOptimizer({ name: "sgd", lr: 2 }),
      start: [1, 1],
      steps: 200,
    });
    expect(path.diverged).toBeDefined();
    expect(path.diverged!.message).toMatch(/^diverged at step \d+/);
    expect(path.points.length).toBeLessThan(200);
    expect(path.points.length).toBe(path.values.length);
    expect(path.points.length).toBe(path.diverged!.step);
    expect(path.points.flat().every(Number.isFinite)).toBe(true);
    expect(path.values.every(Number.isFinite)).toBe(true);
    // y is multiplied by 1 − 4·2 = −7 per step, so f ≈ 2y² overflows float32 (3.4e38) once 7ᵗ > 1.3e19.
    expect(path.diverged!.step).toBe(Math.ceil(Math.log(Math.sqrt(3.4e38 / 2)) / Math.log(7)));
  });

  it("every optimiser runs on every function", async () => {
    for (const fn of FUNCTIONS)
      for (const name of OPTIMIZERS) {
        const path = await runPath({
          fn: testFunction(fn),
          optimizer: createOptimizer({ ...optimizerConfig(name), lr: 1e-4 }),
          start: testFunction(fn).start,
          steps: 4,
        });
        expect(path.diverged, `${name} on ${fn}`).toBeUndefined();
        expect(path.points, `${name} on ${fn}`).toHaveLength(5);
        expect(path.points[0]).toEqual(testFunction(fn).start);
      }
  });
});

describe("contours and the paths figure", () => {
  it("marching squares puts the x² + y² = r² contour on the circle, joined into one closed line", () => {
    const xs = Array.from({ length: 41 }, (_, i) => -2 + i * 0.1);
    const values = xs.flatMap((y) => xs.map((x) => x * x + y * y));
    const segments = contourSegments(xs, xs, values, 1);
    expect(segments.length).toBeGreaterThan(40);
    for (const s of segments)
      for (const r of [Math.hypot(s.x, s.y), Math.hypot(s.x2, s.y2)])
        expect(Math.abs(r - 1)).toBeLessThan(0.01);
    const lines = joinSegments(segments);
    expect(lines).toHaveLength(1);
    expect(lines[0][0]).toEqual(lines[0].at(-1));
  });

  it("the figure layers contours, one line per optimiser, starts and minima", async () => {
    const fn = testFunction("rosenbrock");
    const path = await runPath({
      fn,
      optimizer: createOptimizer({ name: "adam", lr: 0.01 }),
      start: fn.start,
      steps: 5,
    });
    const spec = pathFigure(fn, await evaluateGrid(fn, 20, 20), [{ label: "adam", result: path }]) as {
      layer: { data: { values: { optimizer?: string }[] } }[];
    };
    expect(spec.layer).toHaveLength(4);
    expect(spec.layer[1].data.values.filter((d) => d.optimizer === "adam")).toHaveLength(6);
    expect(spec.layer[3].data.values).toEqual([{ x: 1, y: 1 }]);
  });
});
