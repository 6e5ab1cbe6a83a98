import { describe, expect, it } from "vitest";
import { convergenceEpochs, convergenceWindow, smoothedLosses } from "../../src/train/convergence.js";

describe("convergence speed", () => {
  it("an exponential decay to a floor converges where 90% of the drop is covered (closed form)", () => {
    // ℓ_t = 1 + 2·e^(−t/τ) with no noise; window 1 makes ℓ̄ = ℓ. The drop from ℓ₁ to ℓ_T is
    // 2(e^(−1/τ) − e^(−T/τ)); the first t with ℓ_t ≤ ℓ₁ − 0.9·drop solves e^(−t/τ) ≤ 0.1e^(−1/τ) + 0.9e^(−T/τ).
    const tau = 50;
    const T = 1000;
    const losses = Array.from({ length: T }, (_, i) => 1 + 2 * Math.exp(-(i + 1) / tau));
    const bound = 0.1 * Math.exp(-1 / tau) + 0.9 * Math.exp(-T / tau);
    const tStar = Math.ceil(-tau * Math.log(bound));
    expect(convergenceEpochs(losses, 100, { window: 1 })).toBeCloseTo(tStar / 100, 12);
  });

  it("a faster decay gives a smaller number", () => {
    const curve = (tau: number) => Array.from({ length: 600 }, (_, i) => 0.3 + 2 * Math.exp(-i / tau));
    expect(convergenceEpochs(curve(20), 200)).toBeLessThan(convergenceEpochs(curve(80), 200));
  });

  it("no progress or a non-finite loss (a diverged run) gives NaN", () => {
    expect(convergenceEpochs([2, 2.1, 2.3, 2.2], 2)).toBeNaN();
    expect(convergenceEpochs([2, 1, NaN], 2)).toBeNaN();
    expect(convergenceEpochs([2, 1, Infinity], 2)).toBeNaN();
    expect(convergenceEpochs([], 2)).toBeNaN();
  });

  it("smoothing is a trailing mean over 5% of an epoch", () => {
    expect(convergenceWindow(235)).toBe(12);
    expect(convergenceWindow(3)).toBe(1);
    expect(smoothedLosses([4, 2, 6, 0], 2)).toEqual([4, 3, 4, 3]);
  });
});
