import { describe, expect, it } from "vitest";
import { mcnemarExact, pairedComparison } from "../../src/steer/compare.js";

describe("paired comparison of a base model and an expert (svf eval)", () => {
  it("gives the exact two-sided McNemar p-value (closed-form binomial tails)", () => {
    // 10 gained, 2 lost: 2 · (C(12,0) + C(12,1) + C(12,2)) / 2^12.
    expect(mcnemarExact(10, 2)).toBeCloseTo((2 * (1 + 12 + 66)) / 4096, 12);
    expect(mcnemarExact(2, 10)).toBeCloseTo((2 * (1 + 12 + 66)) / 4096, 12);
    expect(mcnemarExact(20, 0)).toBeCloseTo(2 / 2 ** 20, 15);
    expect(mcnemarExact(5, 5)).toBe(1);
    expect(mcnemarExact(0, 0)).toBe(1);
  });

  it("stays finite for thousands of discordant questions", () => {
    const p = mcnemarExact(1100, 900);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-5);
  });

  it("counts questions gained and lost, not the net change", () => {
    const before = [true, true, false, false, true];
    const after = [true, false, true, true, true];
    expect(pairedComparison(before, after)).toEqual({ gained: 2, lost: 1, pValue: mcnemarExact(2, 1) });
    expect(() => pairedComparison([true], [])).toThrow(/paired comparison/);
  });
});
