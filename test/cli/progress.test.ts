import { describe, expect, it } from "vitest";
import { lossField } from "../../src/cli/progress.js";

describe("progress lines", () => {
  it("say the loss once: an analysis's detail 'loss 0.6269' is not printed as 'loss loss 0.6269'", () => {
    expect(lossField("loss 0.6269")).toEqual({ loss: "0.6269" });
    expect(lossField(undefined)).toEqual({ loss: "–" });
  });
});
