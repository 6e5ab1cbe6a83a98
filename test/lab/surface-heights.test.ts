import { describe, expect, it } from "vitest";
import { surfaceHeights } from "../../src/lab/ui/charts/surface3d.js";

/** Rosenbrock (a = 1, b = 100) on the playground's 90×90 grid over [−2, 2] × [−1, 3]. */
function rosenbrock() {
  const n = 90;
  const xs = Array.from({ length: n }, (_, i) => -2 + (4 * i) / (n - 1));
  const ys = Array.from({ length: n }, (_, j) => -1 + (4 * j) / (n - 1));
  const values = ys.flatMap((y) => xs.map((x) => (1 - x) ** 2 + 100 * (y - x * x) ** 2));
  return { xs, ys, values };
}

describe("3-D surface heights", () => {
  it("keep a narrow valley's floor smooth on a log scale: no spikes between grid neighbours", () => {
    const grid = rosenbrock();
    const { z } = surfaceHeights(grid, true);
    const n = grid.xs.length;
    const h = (i: number, j: number) => z(grid.values[j * n + i]);
    let worst = 0;
    for (let j = 1; j < n - 1; j++)
      for (let i = 1; i < n - 1; i++) {
        // A spike: a point far below all four of its neighbours.
        const around = Math.min(h(i - 1, j), h(i + 1, j), h(i, j - 1), h(i, j + 1));
        worst = Math.max(worst, around - h(i, j));
      }
    // With ε = 10⁻⁴ of the range (the map's) the deepest spike is 0.26 decades; here 0.06.
    expect(worst).toBeLessThan(0.1);
  });

  it("leave a linear surface as it is", () => {
    const grid = { xs: [0, 1], ys: [0, 1], values: [1, 2, 3, 4] };
    expect(surfaceHeights(grid, false).z(3)).toBe(3);
  });
});
