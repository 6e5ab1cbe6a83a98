/**
 * Issue 27 defect 11: at a small scale chapters 4 and 5 show no effect, and the report says so
 * plainly, with the noise of its test sets, and names where the full-size result is.
 */
import { describe, expect, it } from "vitest";
import { tourReportHtml } from "../../src/tour/report.js";
import { CT_RESULTS, CT_CHAPTER } from "../../src/tour/units/ct.js";
import { SVF_CHAPTER, T2_RESULTS } from "../../src/tour/units/svf.js";
import type { UnitOutcome } from "../../src/tour/units/index.js";
import type { PlannedUnit } from "../../src/tour/plan.js";

function outcome(
  unit: string,
  config: Record<string, unknown>,
  values: Record<string, unknown>,
): UnitOutcome {
  return {
    unit: unit as UnitOutcome["unit"],
    key: "k",
    id: `${unit}-k`,
    config,
    finishedAt: "2026-12-07T00:00:00Z",
    seconds: 1,
    lines: [`${unit} ran`],
    tables: [],
    figures: [],
    values,
  };
}

const ctCompare = (accuracy: Record<string, number>) =>
  outcome("ct-compare", { epochs: 2 }, { testAccuracy: accuracy, testCount: 2000 });

// The quick tour of issue 27: SVF equal to the base, reasoning at 3.13 %, best at step 0, 0 % → 0 %.
const svfOutcomes = [
  outcome("lm", { steps: 300 }, {}),
  ...["math", "code", "reasoning"].map((t) => outcome(`svf-${t}`, { steps: 20 }, { bestStep: 0 })),
  outcome(
    "svf-eval",
    {},
    {
      rows: [
        { task: "math", heldOut: false, base: 0.0234, svf: 0.0234, n: 128 },
        { task: "code", heldOut: false, base: 0.1, svf: 0.1, n: 128 },
        { task: "reasoning", heldOut: false, base: 0.0313, svf: 0.0313, n: 128 },
      ],
    },
  ),
  outcome("svf-adapt", {}, { base: { accuracy: 0 }, fewshot: { accuracy: 0 } }),
];

describe("what the tour's numbers mean at its scale", () => {
  it("chapter 4 says CT shows no effect within the test set's noise, why trainable CT trails, and where the full result is", () => {
    const notes = CT_CHAPTER.atThisScale!("quick", [
      ctCompare({ "linear probe": 0.836, "linear probe + CT": 0.838, "trainable CT": 0.674 }),
    ]).join("\n");
    expect(notes).toMatch(/2,000 test images.*about 2\.2 points are noise/);
    expect(notes).toMatch(/within that noise: no effect can be told at this scale/);
    expect(notes).toMatch(/Trainable CT \(67\.40%\) trails the linear probe \(83\.60%\).*not a measurement/);
    expect(notes).toContain(CT_RESULTS);
  });

  it("chapter 4 reports a change beyond the noise as a change", () => {
    const notes = CT_CHAPTER.atThisScale!("full", [
      ctCompare({ "linear probe": 0.8, "linear probe + CT": 0.86, "trainable CT": 0.85 }),
    ]).join("\n");
    expect(notes).toMatch(/moves the linear probe's test accuracy from 80\.00% to 86\.00%\./);
    expect(notes).not.toMatch(/no effect|trails/);
  });

  it("chapter 5 says there is no effect to see, why, and where the full result is", () => {
    const notes = SVF_CHAPTER.atThisScale!("quick", svfOutcomes).join("\n");
    expect(notes).toMatch(/pretrained for 300 steps and each expert for 20 steps/);
    expect(notes).toMatch(/128 generated answers/);
    expect(notes).toMatch(/below the 33 %.*not yet learnt to write an option/);
    expect(notes).toMatch(/no effect to see/);
    expect(notes).toMatch(/math, code, reasoning were best on validation at step 0/);
    expect(notes).toMatch(/0\.00% → 0\.00%/);
    expect(notes).toContain(T2_RESULTS);
  });

  it("the report prints each chapter's note after its results", () => {
    const planned = svfOutcomes.map((o) => ({
      id: o.id,
      unit: { name: o.unit, chapter: 5 },
    })) as unknown as PlannedUnit[];
    const html = tourReportHtml({
      root: "/nowhere",
      scale: "quick",
      planned,
      outcomes: svfOutcomes,
      actions: {},
      seconds: 1,
    });
    expect(html).toContain("no effect to see");
    expect(html).toContain(T2_RESULTS);
    expect(html.indexOf("svf-eval ran")).toBeLessThan(html.indexOf("no effect to see"));
  });
});
