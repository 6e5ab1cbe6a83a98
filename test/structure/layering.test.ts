/**
 * The layers of DESIGN.md, checked with dependency-cruiser (.dependency-cruiser.cjs): no import
 * runs back up, lm/ never imports steer/, no cycles. Violations that existed when the rule came in
 * are listed in .dependency-cruiser-known-violations.json, which may only shrink.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const KNOWN = ".dependency-cruiser-known-violations.json";
/** The baseline's size when it was written; lower this as violations are removed, never raise it. */
const KNOWN_AT_MOST = 0;

type Violation = { from: string; to: string; rule: { name: string; severity: string }; cycle?: unknown[] };
type Report = { summary: { error: number; warn: number; violations: Violation[] } };

describe("layering", () => {
  it("no import runs back up the layers or closes a cycle, beyond the known violations", () => {
    const out = execFileSync(
      process.execPath,
      [
        "node_modules/dependency-cruiser/bin/dependency-cruise.mjs",
        "src",
        "--config",
        ".dependency-cruiser.cjs",
        "--ignore-known",
        KNOWN,
        "--output-type",
        "json",
      ],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 110_000 },
    );
    const { summary } = JSON.parse(out) as Report;
    const fresh = summary.violations
      .filter((v) => v.rule.severity !== "ignore")
      .map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(fresh).toEqual([]);
    expect(summary.error + summary.warn).toBe(0);
  }, 120_000);

  it("the known-violations baseline only shrinks", () => {
    const known = JSON.parse(readFileSync(KNOWN, "utf8")) as Violation[];
    expect(known.length).toBeLessThanOrEqual(KNOWN_AT_MOST);
  });
});
