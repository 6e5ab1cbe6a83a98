/**
 * Every page type a person opens, screenshotted in headless Chromium and checked for what a user
 * would trip over: "[object Object]", "NaN" or "undefined" in the text, and empty figures (a chart
 * with no drawn marks, an image that did not load, a 3-D view without a canvas). Covers a run's
 * report.html and the lab's runs, run, compare, surface, playground, CT, SVF and sweep pages.
 * Screenshots: test-results/pages/.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAssetsDir } from "../../src/lab/paths.js";
import { startLab, type Lab } from "../../src/lab/server.js";
import { writeRunReport } from "../../src/report/run-report.js";
import { makeStore, SVG, writeRun } from "../lab-fixture.js";
import { hasChromium, openBrowser } from "./browser.js";
import { problems } from "./page-problems.js";
import { writeFeatureFixtures } from "./feature-fixtures.js";
import { expandSweep, parseSweepSpec } from "../../src/sweep/spec.js";
import { sweepRecord, writeSweepRecord } from "../../src/sweep/store.js";

const built = existsSync(join(defaultAssetsDir(), "index.html"));
const SHOTS = resolve("test-results", "pages");
describe.runIf(hasChromium && built)("every page, as a person sees it", () => {
  let lab: Lab;
  let page: Page;
  let close: () => Promise<void>;
  let report = "";

  beforeAll(async () => {
    const store = makeStore([
      {
        id: "mlp-sgd",
        optimizer: "sgd",
        epochs: 3,
        accuracies: [0.62, 0.7, 0.74],
        figures: { "loss.svg": SVG("loss") },
      },
      { id: "mlp-adam", epochs: 3, accuracies: [0.75, 0.8, 0.83], createdAt: "2026-11-02T09:00:00.000Z" },
    ]);
    writeFeatureFixtures(store.root, writeRun);
    // A small sweep: two runs of a learning-rate grid, one finished.
    const spec = parseSweepSpec({ name: "pages", command: "train", grid: { lr: [0.01, 0.1] } });
    const sweep = sweepRecord(spec, expandSweep(spec), "store");
    writeSweepRecord(store.root, sweep);
    sweep.runs.forEach((r, i) =>
      writeRun(store.root, {
        id: r.id,
        accuracies: i === 0 ? [0.6, 0.7] : [],
        status: i === 0 ? "done" : "running",
      }),
    );
    report = await writeRunReport(join(store.root, "mlp-adam"));
    lab = await startLab({ runsRoot: store.root, port: 0, pollMs: 100 });
    const browser = await openBrowser();
    close = browser.close;
    page = await browser.context.newPage();
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await close?.();
    await lab?.close();
  });

  const pages: [string, string, string][] = [
    ["runs", "#/runs", "table.runs tbody tr"],
    ["run", "#/runs/mlp-sgd", "#chart-accuracy svg"],
    ["compare", "#/compare?runs=mlp-sgd,mlp-adam", "#compare-steps svg"],
    ["comparison-run", "#/runs/compare-fixture", "#members-step-loss svg"],
    ["surface", "#/runs/landscape-fixture", ".surface canvas"],
    ["playground", "#/playground?fn=rosenbrock&steps=60", '#playground-contour[data-state="done"]'],
    ["ct", "#/runs/ct-fixture", '[data-file="table.md"] tbody tr'],
    ["svf", "#/runs/svf-eval-fixture", '[data-file="results.json"] tbody tr'],
    ["inits", "#/runs/inits-fixture", "#results-table tbody tr"],
  ];

  for (const [name, hash, ready] of pages)
    it(`the ${name} page shows no [object Object], NaN, undefined or empty figure`, async () => {
      await page.goto(`${lab.url}${hash}`);
      await page.waitForSelector(ready, { timeout: 120_000 });
      await page.waitForLoadState("networkidle");
      await page.waitForTimeout(300); // late charts settle
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
      expect(await problems(page)).toEqual([]);
    });

  it("the sweep page shows no [object Object], NaN, undefined or empty figure", async () => {
    await page.goto(`${lab.url}#/sweeps`);
    await page.locator("#sweep-list a", { hasText: "pages" }).click();
    await page.locator("#sweep-table tbody tr").first().waitFor();
    await page.waitForLoadState("networkidle");
    await page.waitForTimeout(500);
    await page.screenshot({ path: join(SHOTS, "sweep.png"), fullPage: true });
    expect(await problems(page)).toEqual([]);
  });

  it("a run's report.html shows no [object Object], NaN, undefined or empty figure", async () => {
    await page.goto(pathToFileURL(report).href);
    await page.waitForSelector("figure svg");
    await page.screenshot({ path: join(SHOTS, "report.png"), fullPage: true });
    expect(await problems(page)).toEqual([]);
  });

  it("the checker itself catches each kind of problem", async () => {
    const bad = join(SHOTS, "bad.html");
    writeFileSync(
      bad,
      '<p>accuracy NaN</p><figure><svg width="200" height="100"></svg><figcaption>empty</figcaption></figure><img src="missing.png">' +
        '<svg><g class="role-axis"><g class="role-axis-label"><text>1</text><text>2</text><text>2</text></g></g></svg>',
    );
    await page.goto(pathToFileURL(bad).href);
    const found = await problems(page);
    expect(found.some((p) => p.includes('"NaN"'))).toBe(true);
    expect(found.some((p) => p.startsWith("empty figure"))).toBe(true);
    expect(found.some((p) => p.startsWith("image not loaded"))).toBe(true);
    expect(found).toContain("repeated axis ticks: 1, 2, 2");
  });
});
