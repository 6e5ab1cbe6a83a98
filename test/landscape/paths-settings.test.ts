import { describe, expect, it } from "vitest";
import { defaultPathStart, parseOptimizerList, stableParams } from "../../src/landscape/analyses.js";
import { contourPanel } from "../../src/landscape/figures.js";

describe("optimiser paths on a fitted Gaussian", () => {
  it("start off both diagonals of the grid, so optimisers on a round bowl take different lines", () => {
    const grid = { x: [-1, 0, 1], y: [-1, 0, 1] };
    const [x, y] = defaultPathStart(grid);
    expect(Math.abs(Math.abs(x) - Math.abs(y))).toBeGreaterThan(0.3);
  });

  it("lower the book's SGD and momentum rates where the bowl is steep enough for them to zig-zag", () => {
    // Curvature 32 (the tour's fit: A 26, σ 0.9): SGD at the book's 0.1 has lr·L = 3.2 > 2.
    const [sgd, momentum, adam] = parseOptimizerList("sgd,momentum,adam");
    const L = 32;
    const s = Number(stableParams(sgd, L).lr);
    expect(s * L).toBeLessThanOrEqual(1 + 1e-12);
    // Gradient descent on f = L x²/2 contracts by |1 − lr·L| per step: no sign flips at lr·L ≤ 1.
    expect(1 - s * L).toBeGreaterThanOrEqual(0);
    const m = stableParams(momentum, L);
    expect(Number(m.lr) * L).toBeLessThan(2 * (1 + Number(m.momentum)));
    expect(stableParams(adam, L)).toEqual(adam.params);
    // A gentle bowl keeps the book's values, and a rate given by the user is never changed.
    expect(stableParams(sgd, 1)).toEqual(sgd.params);
    const [mine] = parseOptimizerList("sgd:lr=0.5");
    expect(stableParams(mine, L).lr).toBe("0.5");
  });

  it("the figure marks where each path starts and ends, in the method's colour", () => {
    const spec = contourPanel(
      {
        x: [0, 1],
        y: [0, 1],
        loss: [
          [1, 2],
          [3, 4],
        ],
      },
      {
        title: "t",
        overlays: [
          {
            label: "sgd",
            points: [
              { x: 0, y: 1 },
              { x: 0.5, y: 0.5 },
              { x: 0.4, y: 0.4 },
            ],
          },
          {
            label: "adam",
            points: [
              { x: 0, y: 1 },
              { x: 0.6, y: 0.5 },
            ],
          },
        ],
      },
    ) as unknown as { layer: { mark: { type: string; color?: string }; data: { values: object[] } }[] };
    const markers = spec.layer.filter((l) => l.mark.type === "point");
    expect(markers).toHaveLength(2);
    expect(markers.map((m) => m.data.values.length)).toEqual([2, 2]);
    const lines = spec.layer.filter((l) => l.mark.type === "line").map((l) => l.mark.color);
    expect(lines).toEqual(["#0072B2", "#D55E00"]); // sgd blue, adam vermillion: the palette's
  });
});
