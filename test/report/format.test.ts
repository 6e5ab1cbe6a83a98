import { describe, expect, it } from "vitest";
import { bytes, count, formatField, label, param, percent, sig } from "../../src/report/format.js";
import { colorScale, methodColor, SERIES_COLORS } from "../../src/report/palette.js";

describe("number formatting", () => {
  it("writes accuracies as percents with two decimals and missing values as a dash", () => {
    expect(percent(0.8457)).toBe("84.57%");
    expect(percent(Number.NaN)).toBe("–");
    expect(percent(undefined)).toBe("–");
  });

  it("writes sizes in SI bytes with three significant digits", () => {
    expect(bytes(1_741_612)).toBe("1.74 MB");
    expect(bytes(512)).toBe("512 B");
    expect(bytes(3_483_220_000)).toBe("3.48 GB");
  });

  it("keeps significant digits without exponents for everyday magnitudes", () => {
    expect(sig(435_077)).toBe("435,100");
    expect(sig(0.62694, 4)).toBe("0.6269");
    expect(sig(2.5e-6)).toBe("2.5e-6");
    expect(count(435_077)).toBe("435,077");
  });

  it("shows a learning rate as given", () => {
    expect(param(0.05)).toBe("0.05");
    expect(param(1e-5)).toBe("1e-5");
  });

  it("turns field names into words and formats each field by what it holds", () => {
    expect(label("final_test_accuracy")).toBe("final test accuracy");
    expect(label("trainableParams")).toBe("trainable params");
    expect(formatField("best_test_accuracy", 0.8155)).toBe("81.55%");
    expect(formatField("opt_state_bytes", 1_741_612)).toBe("1.74 MB");
    expect(formatField("trainableParams", 435_077)).toBe("435,077");
    expect(formatField("lr", 0.001)).toBe("0.001");
  });
});

describe("one palette", () => {
  it("gives each known optimiser the same colour on every chart, whatever the order", () => {
    const a = colorScale(["sgd", "adam", "lion"]);
    const b = colorScale(["lion", "adam", "sgd"]);
    for (const name of ["sgd", "adam", "lion"])
      expect(a.range[a.domain.indexOf(name)]).toBe(b.range[b.domain.indexOf(name)]);
    expect(methodColor("adam lr 0.001")).toBe(methodColor("adam"));
  });

  it("gives unknown names distinct series colours not used by the known ones", () => {
    const s = colorScale(["sgd", "run-a", "run-b"]);
    expect(new Set(s.range).size).toBe(3);
    expect(s.range.every((c) => SERIES_COLORS.includes(c))).toBe(true);
  });
});

describe("the shared formatter and palette", () => {
  it("import nothing, so the lab's browser bundle never pulls Node-only code through them", async () => {
    const { readFileSync } = await import("node:fs");
    for (const f of ["src/report/format.ts", "src/report/palette.ts"])
      expect(readFileSync(f, "utf8"), f).not.toMatch(/^\s*import\s/m);
  });
});
