/**
 * What TensorBoard and W&B users expect of the lab, and the defects a new user tripped over
 * (issue 27), each checked in headless Chromium on a small fixture store: run search, sort and
 * tags; smoothing, log/linear and step/epoch/wall-time axes; CSV download; dark mode; the
 * hyper-parameter table; one colour per method; formatted tables; the playground's play/step.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAssetsDir } from "../../src/lab/paths.js";
import { startLab, type Lab } from "../../src/lab/server.js";
import { METHOD_COLORS } from "../../src/report/palette.js";
import { makeStore, writeRun } from "../lab-fixture.js";
import { hasChromium, openBrowser } from "./browser.js";
import { writeFeatureFixtures } from "./feature-fixtures.js";

const built = existsSync(join(defaultAssetsDir(), "index.html"));
const pathPoints = (d: string | null) => (d ? (d.match(/[ML]/g) ?? []).length : 0);

describe.runIf(hasChromium && built)("the lab as TensorBoard and W&B users expect it", () => {
  let lab: Lab;
  let page: Page;
  let close: () => Promise<void>;
  let root: string;
  const errors: string[] = [];

  beforeAll(async () => {
    const store = makeStore([
      {
        id: "mlp-sgd",
        optimizer: "sgd",
        epochs: 3,
        accuracies: [0.62, 0.7, 0.74],
        createdAt: "2026-11-01T09:00:00.000Z",
      },
      { id: "mlp-adam", epochs: 3, accuracies: [0.75, 0.8, 0.83], createdAt: "2026-11-02T09:00:00.000Z" },
    ]);
    root = store.root;
    writeFeatureFixtures(root, writeRun);
    lab = await startLab({ runsRoot: root, port: 0, pollMs: 100 });
    const browser = await openBrowser();
    close = browser.close;
    page = await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
  });

  afterAll(async () => {
    await close?.();
    await lab?.close();
  });

  const rowIds = () =>
    page.$$eval("table.runs tbody tr", (trs) => trs.map((tr) => tr.getAttribute("data-run")));

  it("searches, sorts and tags runs, and keeps the tags in the run's folder", async () => {
    await page.goto(`${lab.url}#/runs`);
    await page.waitForSelector('tr[data-run="mlp-sgd"]');
    await page.fill("#run-search", "mlp-sgd");
    await page.waitForFunction(() => document.querySelectorAll("table.runs tbody tr").length === 1);
    expect(await rowIds()).toEqual(["mlp-sgd"]);
    await page.fill("#run-search", "");
    await page.click('button[data-sort="best"]');
    await page.waitForSelector('th[aria-sort="descending"] button[data-sort="best"]');
    const byBest = await rowIds();
    expect(byBest.indexOf("mlp-adam")).toBeLessThan(byBest.indexOf("mlp-sgd"));
    await page.fill('tr[data-run="mlp-sgd"] input.tag-input', "baseline");
    await page.press('tr[data-run="mlp-sgd"] input.tag-input', "Enter");
    await page.waitForSelector('tr[data-run="mlp-sgd"] button.tag');
    expect(JSON.parse(readFileSync(join(root, "mlp-sgd", "tags.json"), "utf8"))).toEqual(["baseline"]);
    await page.fill("#run-search", "tag:baseline");
    await page.waitForFunction(() => document.querySelectorAll("table.runs tbody tr").length === 1);
    expect(await rowIds()).toEqual(["mlp-sgd"]);
  });

  it("shows every kind of run's best accuracy and what it is in the run list", async () => {
    await page.goto(`${lab.url}#/runs`);
    await page.waitForSelector('tr[data-run="compare-fixture"]');
    const row = await page.textContent('tr[data-run="compare-fixture"]');
    expect(row).toContain("84.57%"); // best member, from summary.json
    expect(row).toContain("sgd, adam, lion");
    expect(await page.textContent('tr[data-run="ct-fixture"]')).toContain("75.00%");
  });

  it("smooths curves, switches log/linear and the x axis between step, epoch and wall time", async () => {
    await page.goto(`${lab.url}#/runs/mlp-sgd`);
    await page.evaluate(() => localStorage.clear());
    await page.reload();
    const chart = "#chart-step-loss";
    await page.waitForSelector(`${chart} g.mark-line path`);
    expect(await page.getAttribute(chart, "data-scale")).toBe("log");
    const raw = await page.$eval(`${chart} g.mark-line path`, (p) => p.getAttribute("d"));
    await page.$eval("#curve-smoothing", (i) => {
      (i as HTMLInputElement).value = "0.9";
      i.dispatchEvent(new Event("change"));
    });
    await page.waitForSelector(`${chart}[data-smoothing="0.9"]`);
    const lines = await page.$$eval(`${chart} g.mark-line path`, (ps) =>
      ps.map((p) => [p.getAttribute("d"), p.getAttribute("stroke-opacity") ?? p.getAttribute("opacity")]),
    );
    // The raw curve, faint, behind the smoothed one; smoothing damps the steps of the raw curve.
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => pathPoints(l[0]))).toEqual([15, 15]);
    expect(lines[0][1]).toBe("0.25");
    expect(lines[1][0]).not.toBe(raw);
    await page.uncheck("#curve-log");
    await page.waitForSelector(`${chart}[data-scale="linear"]`);
    await page.selectOption("#curve-x", "wall");
    await page.waitForSelector(`${chart}[data-x="wall"]`);
    expect(await page.textContent(chart)).toContain("Wall time (s)");
    await page.selectOption("#curve-x", "epoch");
    await page.waitForSelector(`${chart}[data-x="epoch"]`);
    // Settings follow the person to the next page.
    await page.goto(`${lab.url}#/runs/mlp-adam`);
    await page.waitForSelector(`${chart}[data-x="epoch"][data-scale="linear"]`);
    await page.evaluate(() => localStorage.clear());
  });

  it("downloads any chart's data as CSV", async () => {
    await page.goto(`${lab.url}#/runs/mlp-sgd`);
    await page.waitForSelector("#chart-step-loss button.csv");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click("#chart-step-loss button.csv"),
    ]);
    const text = readFileSync((await download.path())!, "utf8");
    const [header, ...rows] = text.trim().split("\n");
    expect(header.split(",")).toEqual(expect.arrayContaining(["step", "epoch", "elapsed_s", "loss"]));
    expect(rows).toHaveLength(15);
  });

  it("follows the system's dark mode", async () => {
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${lab.url}#/runs/mlp-adam`);
    await page.reload(); // charts take the scheme when drawn
    await page.waitForSelector("#chart-step-loss svg .role-title-text text");
    const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(bg).toBe("rgb(13, 17, 23)");
    const title = await page.$eval("#chart-step-loss svg .role-title-text text", (t) =>
      t.getAttribute("fill"),
    );
    expect(title).toBe("#e6edf3");
    await page.goto(`${lab.url}#/runs/landscape-fixture`);
    await page.waitForSelector(".contour svg.marks .role-axis-label text");
    const axis = await page.$eval(".contour svg.marks .role-axis-label text", (t) => t.getAttribute("fill"));
    expect(axis).toBe("#b1bac4");
    await page.emulateMedia({ colorScheme: "light" });
  });

  it("compares runs with a hyper-parameter table, whole run names and whole-number epoch ticks", async () => {
    await page.goto(`${lab.url}#/compare?runs=mlp-sgd,mlp-adam`);
    await page.waitForSelector("#compare-hparams tbody tr");
    const table = await page.$$eval("#compare-hparams tbody tr", (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent)),
    );
    expect(table).toHaveLength(2);
    expect(table.flat()).toEqual(expect.arrayContaining(["sgd", "adam", "74.00%", "83.00%"]));
    await page.waitForSelector("#compare-accuracy svg");
    const legend = await page.$$eval("#compare-accuracy .role-legend-label text", (ts) =>
      ts.map((t) => t.textContent),
    );
    expect(legend).toEqual(["sgd lr 0.001 · mlp-sgd", "adam lr 0.001 · mlp-adam"]);
    const ticks = await page.$$eval("#compare-accuracy .role-axis-label text", (ts) =>
      ts.map((t) => t.textContent),
    );
    const xTicks = ticks.filter((t) => /^\d+$/.test(t ?? ""));
    expect(new Set(xTicks).size).toBe(xTicks.length);
    const strokes = await page.$$eval("#compare-accuracy g.mark-line path", (ps) =>
      ps.map((p) => p.getAttribute("stroke")),
    );
    expect(new Set(strokes)).toEqual(new Set([METHOD_COLORS.sgd, METHOD_COLORS.adam]));
  });

  it("draws each optimiser in its own colour and formats the comparison's summary", async () => {
    await page.goto(`${lab.url}#/runs/compare-fixture`);
    await page.waitForSelector('[data-file="summary.json"] tbody tr');
    const summary = await page.textContent('[data-file="summary.json"]');
    expect(summary).toContain("84.57%");
    expect(summary).toContain("1.74 MB");
    expect(summary).not.toMatch(/best_test_accuracy|\/tmp\/|e\+6/);
    await page.waitForSelector("#members-step-loss g.mark-line path");
    const strokes = await page.$$eval("#members-step-loss g.mark-line path", (ps) =>
      ps.map((p) => p.getAttribute("stroke")),
    );
    expect(strokes).toEqual([METHOD_COLORS.sgd, METHOD_COLORS.adam, METHOD_COLORS.lion]);
  });

  it("shows nested SVF results as columns, not [object Object]", async () => {
    await page.goto(`${lab.url}#/runs/svf-eval-fixture`);
    await page.waitForSelector('[data-file="results.json"] tbody tr');
    const text = await page.textContent('[data-file="results.json"]');
    expect(text).not.toContain("[object Object]");
    expect(text).toContain("svf accuracy");
    expect(text).toContain("12.50%");
  });

  it("shows a CT comparison's table once, text left and numbers right", async () => {
    await page.goto(`${lab.url}#/runs/ct-fixture`);
    await page.waitForSelector('[data-file="table.md"] tbody tr');
    expect(await page.$$('[data-file="results.json"] table')).toHaveLength(0);
    const align = await page.$$eval('[data-file="table.md"] tbody tr:first-child td', (tds) =>
      tds.map((td) => getComputedStyle(td).textAlign),
    );
    expect(align).toEqual(["left", "right", "right", "left"]);
  });

  it("shows an initialiser comparison's results table", async () => {
    await page.goto(`${lab.url}#/runs/inits-fixture`);
    await page.waitForSelector("#results-table tbody tr");
    const heads = await page.$$eval("#results-table th", (ths) => ths.map((th) => th.textContent));
    expect(heads).toContain("Error Rate %");
    expect(await page.$$("#results-table tbody tr")).toHaveLength(2);
  });

  it("links a landscape run to its subject and draws the subject's surface there", async () => {
    await page.goto(`${lab.url}#/runs/landscape-fixture`);
    await page.waitForSelector("#subject-link a");
    expect(await page.getAttribute("#subject-link a", "href")).toBe("#/runs/compare-fixture");
    const card = '[data-file="members/adam/landscape/tour-surface.json"]';
    await page.waitForSelector(`${card} .contour svg`);
    const legend = await page.$$eval(`${card} .contour .role-legend-title text`, (ts) =>
      ts.map((t) => t.textContent),
    );
    expect(legend).toContain("loss");
    // The map is filled to its corners: the top-left corner of the plot is a contour, not blank.
    const corner = await page.$eval(`${card} .contour svg`, (svg) => {
      const axes = Array.from(svg.querySelectorAll(".role-axis-domain")).map((a) =>
        a.getBoundingClientRect(),
      );
      const x = Math.min(...axes.map((b) => b.left)) + 2;
      const y = Math.min(...axes.map((b) => b.top)) + 2;
      return document.elementFromPoint(x, y)?.closest(".mark-path") ? "filled" : "blank";
    });
    expect(corner).toBe("filled");
    expect(await page.textContent("#subject-figures-title")).toBe("Figures of the subject (1)");
  });

  it("plays, pauses and steps the playground's paths, and shows a learning rate as given", async () => {
    await page.goto(
      `${lab.url}#/playground?fn=himmelblau&start=-1,1.5&steps=40&opt=sgd,lr=0.005;adam,lr=0.05`,
    );
    await page.waitForSelector('#playground-contour[data-state="done"]', { timeout: 120_000 });
    expect(await page.textContent('output[for="pg-adam-lr"]')).toBe("0.05");
    await page.click("#pg-rewind");
    await page.waitForSelector('#playground-contour[data-step="0"]');
    await page.click("#pg-step");
    await page.waitForSelector('#playground-contour[data-step="1"][data-state="paused"]');
    const lines = await page.$$eval("#playground-contour g.mark-line path", (ps) =>
      ps.map((p) => p.getAttribute("d")),
    );
    expect(lines.map(pathPoints)).toEqual([2, 2]);
    // Playing draws the rest in about 1.5 s, however many steps (it took over 4 s frame by frame).
    const t0 = Date.now();
    await page.click("#pg-play");
    await page.waitForSelector('#playground-contour[data-state="done"][data-step="40"]', { timeout: 10_000 });
    expect(Date.now() - t0).toBeLessThan(4000);
  });

  it("raised no error in the page", () => {
    expect(errors).toEqual([]);
  });
});
