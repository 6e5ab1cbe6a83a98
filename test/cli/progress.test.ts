import { describe, expect, it } from "vitest";
import { lossField, rateText } from "../../src/cli/progress.js";

describe("progress lines", () => {
  it("say the loss once: an analysis's detail 'loss 0.6269' is not printed as 'loss loss 0.6269'", () => {
    expect(lossField("loss 0.6269")).toEqual({ loss: "0.6269" });
    expect(lossField(undefined)).toEqual({ loss: "–" });
  });
});

describe("progress rates", () => {
  it("read as items per second, or seconds per item when an item takes longer than a second", () => {
    expect(rateText(25, 2)).toBe("12.5 steps/s");
    expect(rateText(2, 80, "β")).toBe("40 s/β");
    expect(rateText(1, 3)).toBe("3 s/step");
    expect(rateText(0, 5)).toBe("–");
  });
});
