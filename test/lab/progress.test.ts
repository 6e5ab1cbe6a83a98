import { describe, expect, it } from "vitest";
import { progressOf } from "../../src/lab/ui/views/progress.js";

describe("a run page's progress line", () => {
  it("never lags the curves: an epoch the stream reported counts even if the server's read is older", () => {
    const stale = { progress: { fraction: 0, epoch: 0, epochs: 3, step: 0, steps: 30 } };
    const p = progressOf(stale, { epoch: { epoch: 1 }, step: { step: 10, epoch: 1 } })!;
    expect(p.epoch).toBe(1);
    expect(p.step).toBe(10);
    expect(Math.round(100 * p.fraction)).toBe(33);
  });

  it("keeps the server's numbers when they are ahead", () => {
    const ahead = { progress: { fraction: 0.5, epoch: 1, epochs: 2, step: 10, steps: 20 } };
    expect(progressOf(ahead, {})).toEqual({ fraction: 0.5, epoch: 1, epochs: 2, step: 10, steps: 20 });
  });
});
