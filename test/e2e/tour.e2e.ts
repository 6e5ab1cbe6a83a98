/**
 * The tour end to end at the tiny scale: every chapter computed on real Fashion-MNIST and the task
 * suite, report.html opened in headless Chromium with every figure checked for drawn content, then
 * a second run that must reuse every unit from the store.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDataDir } from "../../src/data/fashion-mnist.js";
import { runTour, type TourResult } from "../../src/tour/tour.js";
import type { TourProgress } from "../../src/tour/units/index.js";
import { hasChromium, openBrowser } from "./browser.js";
import { problems } from "./page-problems.js";

const hasData = existsSync(resolveDataDir());
const SHOTS = resolve("test-results", "tour");

function quietProgress(lines: string[]): TourProgress {
  return { start() {}, update() {}, stop() {}, log: (l) => void lines.push(l) };
}

describe.skipIf(!hasData || !hasChromium)("tour at the tiny scale", () => {
  const runs = mkdtempSync(join(tmpdir(), "tiller-tour-e2e-"));
  let first: TourResult;
  const log: string[] = [];

  beforeAll(async () => {
    first = await runTour({ scale: "tiny", runsRoot: runs, progress: quietProgress(log) });
  }, 900_000);
  afterAll(() => rmSync(runs, { recursive: true, force: true }));

  it("computes every unit and writes one report", () => {
    expect(first.planned.map((p) => p.action)).toEqual(first.planned.map(() => "run"));
    expect(first.outcomes).toHaveLength(first.planned.length);
    expect(existsSync(first.report)).toBe(true);
    const html = readFileSync(first.report, "utf8");
    expect(html).not.toMatch(/<script|<link|src="http/); // self-contained
    expect(html).not.toContain("top_eigenvectors"); // figure titles in words
    for (const p of first.planned) expect(html).toContain(`tour/${p.id}`);
  });

  it("the report opens in Chromium with every figure drawn", async () => {
    const figures = first.outcomes.flatMap((o) => o.figures);
    expect(figures.length).toBeGreaterThanOrEqual(10);
    const browser = await openBrowser();
    try {
      const page = await browser.context.newPage();
      await page.goto(pathToFileURL(first.report).href);
      const drawn = await page.$$eval("figure", (els) =>
        els.map((f) => {
          const svg = f.querySelector("svg");
          const box = svg?.getBoundingClientRect();
          return {
            caption: f.querySelector("figcaption")?.textContent ?? "",
            marks: svg ? svg.querySelectorAll("path, rect, line, text, circle").length : 0,
            text: svg ? svg.querySelectorAll("text").length : 0,
            width: box?.width ?? 0,
            height: box?.height ?? 0,
          };
        }),
      );
      expect(drawn).toHaveLength(figures.length);
      for (const d of drawn) {
        expect(d.marks, d.caption).toBeGreaterThan(20);
        expect(d.text, d.caption).toBeGreaterThan(3);
        expect(d.width, d.caption).toBeGreaterThan(100);
        expect(d.height, d.caption).toBeGreaterThan(50);
      }
      const headings = await page.$$eval("h2", (els) => els.map((e) => e.textContent ?? ""));
      for (const h of [
        "1. Initialisers",
        "2. Optimisers",
        "3. Landscape",
        "4. Curvature Tuning",
        "5. Transformer²",
        "Provenance",
      ])
        expect(
          headings.some((x) => x.startsWith(h)),
          h,
        ).toBe(true);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, "report.png"), fullPage: true });
      expect(await problems(page)).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it("a second run reuses every unit and rewrites the same report", async () => {
    const t0 = performance.now();
    const again = await runTour({ scale: "tiny", runsRoot: runs, progress: quietProgress([]) });
    expect(Object.values(again.actions)).toEqual(again.planned.map(() => "reused"));
    expect((performance.now() - t0) / 1000).toBeLessThan(30);
    const strip = (s: string) =>
      s
        .replace(/this invocation \d+ s/, "")
        .replace(/\b(reused|computed|continued after an interruption)\b/g, "");
    expect(strip(readFileSync(again.report, "utf8"))).toBe(strip(readFileSync(first.report, "utf8")));
  }, 120_000);
});
