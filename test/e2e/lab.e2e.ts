/**
 * The lab end to end in real headless Chromium: a fixture run store behind `startLab`, the built
 * UI (npm run build:lab), and a person's path through it — the run list, a run's curves and
 * figures, a stored loss surface in 2-D and 3-D, two runs compared, the optimiser playground
 * (checked point for point against the same code run here in Node), and a training job started
 * from the form whose live curve grows while it trains. Screenshots go to test-results/lab/.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveDataDir } from "../../src/data/fashion-mnist.js";
import { startEngine } from "../../src/engine/device.js";
import { testFunction } from "../../src/landscape/functions.js";
import { runPath } from "../../src/landscape/paths.js";
import { defaultAssetsDir } from "../../src/lab/paths.js";
import { startLab, type Lab } from "../../src/lab/server.js";
import { createOptimizer, optimizerConfig } from "../../src/optim/index.js";
import { makeStore, SVG } from "../lab-fixture.js";
import { hasChromium, openBrowser, SHOTS } from "./browser.js";

const built = existsSync(join(defaultAssetsDir(), "index.html"));
const hasData = existsSync(resolveDataDir());

/** A stored surface as `tiller landscape surface` writes it: f = λ₁² + 2λ₂² with a trajectory. */
function surfaceRecord() {
  const x = Array.from({ length: 21 }, (_, i) => -0.2 + (0.4 * i) / 20);
  const y = x.slice();
  const loss = y.map((b) => x.map((a) => 0.5 + 10 * a * a + 20 * b * b));
  return {
    format: "tiller-landscape-v1",
    kind: "surface",
    name: "surface-random-epoch-3",
    createdAt: "2026-11-02T10:00:00.000Z",
    center: { loss: 0.5, accuracy: 0.8 },
    panels: [
      {
        directions: [0, 1],
        grid: { x, y, loss, accuracy: loss.map((r) => r.map(() => 0.8)) },
        trajectory: [
          { epoch: 1, x: 0.15, y: 0.12 },
          { epoch: 2, x: 0.06, y: 0.05 },
          { epoch: 3, x: 0, y: 0 },
        ],
      },
    ],
    directions: { kind: "random", seed: 0, filterNormalized: true },
  };
}

/** Results as the Hessian, dynamics, Curvature Tuning and SVF commands write them. */
function writeAnalyses(dir: string) {
  writeFileSync(
    join(dir, "landscape", "hessian-epoch-3.json"),
    JSON.stringify({
      format: "tiller-landscape-v1",
      kind: "hessian",
      name: "hessian-epoch-3",
      createdAt: "2026-11-02T10:00:00.000Z",
      eigen: { method: "lanczos", eigenvalues: [5.2, 3.1, 1.7], converged: true },
      trace: { estimate: 20.5, stderr: 0.8, samples: 100, converged: true },
      density: { nodes: [[-0.1, 0.02, 1.7, 3.1, 5.2]], weights: [[0.3, 0.4, 0.1, 0.1, 0.1]] },
    }),
  );
  writeFileSync(
    join(dir, "dynamics.jsonl"),
    [1, 2, 3]
      .map((e) =>
        JSON.stringify({
          type: "epoch",
          epoch: e,
          step: 5 * e,
          loss: 1 / e,
          grad_norm: 2 / e,
          param_change: 0.5 / e,
          param_change_from_start: 0.5 * e,
          weight_norm: 10 + e,
          loss_improvement: 0.1 / e,
        }),
      )
      .join("\n") + "\n",
  );
  const scores = [0.5, 0.7, 0.9, 1].map((beta) => ({
    beta,
    valAccuracy: 0.7 + beta / 10,
    testAccuracy: 0.69 + beta / 10,
  }));
  writeFileSync(
    join(dir, "results.json"),
    JSON.stringify({ mode: "direct", c: 0.5, scores, base: scores[3], best: scores[3] }),
  );
  writeFileSync(
    join(dir, "table.md"),
    "| method | trainable params | test acc |\n| --- | ---: | ---: |\n| base | 0 | 41.00% |\n| SVF | 2,048 | 55.50% |\n| LoRA | 16,384 | 53.25% |\n",
  );
}

/** Number of points in an SVG path's `d` (one M then an L per further point). */
const pathPoints = (d: string | null) => (d ? (d.match(/[ML]/g) ?? []).length : 0);

describe.runIf(hasChromium && built)("the lab in headless Chromium", () => {
  let lab: Lab;
  let page: Page;
  let close: () => Promise<void>;
  const errors: string[] = [];

  beforeAll(async () => {
    const store = makeStore([
      {
        id: "mlp-sgd",
        optimizer: "sgd",
        epochs: 3,
        accuracies: [0.62, 0.7, 0.74],
        createdAt: "2026-11-01T09:00:00.000Z",
        figures: { "loss.svg": SVG("loss figure") },
      },
      { id: "mlp-adam", epochs: 3, accuracies: [0.75, 0.8, 0.83], createdAt: "2026-11-02T09:00:00.000Z" },
    ]);
    mkdirSync(join(store.root, "mlp-adam", "landscape"));
    mkdirSync(join(store.root, "mlp-sgd", "landscape"));
    writeFileSync(
      join(store.root, "mlp-adam", "landscape", "surface-random-epoch-3.json"),
      JSON.stringify(surfaceRecord()),
    );
    writeAnalyses(join(store.root, "mlp-sgd"));
    lab = await startLab({ runsRoot: store.root, port: 0, pollMs: 100 });
    const browser = await openBrowser();
    close = browser.close;
    page = await browser.context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
  });

  afterAll(async () => {
    await close?.();
    await lab?.close();
  });

  it("lists the runs of the store, newest first, with status and best accuracy", async () => {
    await page.goto(lab.url);
    await page.waitForSelector("table.runs tbody tr");
    const rows = await page.$$eval("table.runs tbody tr", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-run"), tr.getAttribute("data-status"), tr.textContent]),
    );
    expect(rows.map((r) => r[0])).toEqual(["mlp-adam", "mlp-sgd"]);
    expect(rows.map((r) => r[1])).toEqual(["done", "done"]);
    expect(rows[0][2]).toContain("83.00%");
    await page.screenshot({ path: join(SHOTS, "runs.png"), fullPage: true });
  });

  it("opens a run from the keyboard and draws its curves and figures", async () => {
    await page.goto(`${lab.url}#/runs`);
    await page.waitForSelector('tr[data-run="mlp-sgd"] a');
    await page.focus('tr[data-run="mlp-sgd"] a');
    await page.keyboard.press("Enter");
    await page.waitForSelector("#chart-step-loss svg");
    // 500 images in batches of 100: 5 logged steps per epoch, 3 epochs.
    expect(await page.getAttribute("#chart-step-loss", "data-rows")).toBe("15");
    const line = await page.$eval("#chart-step-loss g.mark-line path", (p) => p.getAttribute("d"));
    expect(pathPoints(line)).toBe(15);
    const accuracy = await page.$$eval("#chart-accuracy g.mark-line path", (ps) =>
      ps.map((p) => p.getAttribute("d")),
    );
    expect(accuracy.map(pathPoints)).toEqual([3, 3]); // train and test, 3 epochs each
    await page.waitForSelector(".gallery img");
    const loaded = await page.$eval(".gallery img", (img) => (img as HTMLImageElement).naturalWidth);
    expect(loaded).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, "run.png"), fullPage: true });
  });

  it("draws a stored loss surface as a contour map with its trajectory and as a 3-D surface", async () => {
    await page.goto(`${lab.url}#/runs/mlp-adam`);
    await page.waitForSelector('[data-file="landscape/surface-random-epoch-3.json"] .contour svg');
    const card = '[data-file="landscape/surface-random-epoch-3.json"]';
    const contourPaths = await page.$$eval(`${card} .contour svg path`, (ps) => ps.length);
    expect(contourPaths).toBeGreaterThan(10);
    expect(await page.getAttribute(`${card} .contour`, "data-path-points")).toBe("training trajectory:3");
    await page.waitForSelector(`${card} .surface [data-surface] canvas, ${card} .surface canvas`);
    expect(await page.getAttribute(`${card} .surface`, "data-surface")).toBe("21x21");
    const canvas = await page.$eval(`${card} .surface canvas`, (c) => [
      (c as HTMLCanvasElement).width,
      (c as HTMLCanvasElement).height,
    ]);
    expect(canvas[0] * canvas[1]).toBeGreaterThan(10_000);
    // The 3-D view answers the keyboard: rotating changes the camera.
    await page.click(`${card} button[aria-label="rotate left"]`);
    await page.screenshot({ path: join(SHOTS, "surface.png"), fullPage: true });
  });

  it("shows the Hessian spectrum, the dynamics panels, CT's accuracy vs β and an SVF table", async () => {
    await page.goto(`${lab.url}#/runs/mlp-sgd`);
    const hessian = '[data-file="landscape/hessian-epoch-3.json"]';
    await page.waitForSelector(`${hessian} g.mark-rect path`);
    expect(await page.$$eval(`${hessian} g.mark-rect path`, (ps) => ps.length)).toBe(3);
    expect(await page.textContent(hessian)).toContain("trace ≈ 20.50 ± 0.80");
    const density = await page.$$eval(`${hessian} g.mark-line path`, (ps) =>
      ps.map((p) => p.getAttribute("d")),
    );
    expect(density.map(pathPoints)).toEqual([600]);
    for (const key of ["loss", "grad_norm", "param_change", "weight_norm", "loss_improvement"]) {
      await page.waitForSelector(`#dynamics-${key} g.mark-line path`);
      // The first epoch has no previous loss, so no loss improvement to show.
      expect(await page.getAttribute(`#dynamics-${key}`, "data-rows"), key).toBe(
        key === "loss_improvement" ? "2" : "3",
      );
    }
    await page.waitForSelector("#ct-beta g.mark-line path");
    expect(await page.getAttribute("#ct-beta", "data-rows")).toBe("8");
    expect(await page.textContent('[data-file="results.json"]')).toContain("best β = 1");
    const table = await page.$$eval('[data-file="table.md"] tbody tr', (trs) =>
      trs.map((tr) => Array.from(tr.querySelectorAll("td")).map((td) => td.textContent)),
    );
    expect(table).toEqual([
      ["base", "0", "41.00%"],
      ["SVF", "2,048", "55.50%"],
      ["LoRA", "16,384", "53.25%"],
    ]);
    await page.screenshot({ path: join(SHOTS, "analyses.png"), fullPage: true });
  });

  it("compares two runs on one chart", async () => {
    await page.goto(`${lab.url}#/runs`);
    await page.waitForSelector('tr[data-run="mlp-sgd"] input[type=checkbox]');
    await page.check('tr[data-run="mlp-sgd"] input[type=checkbox]');
    await page.check('tr[data-run="mlp-adam"] input[type=checkbox]');
    await page.click("#compare-selected");
    await page.waitForSelector("#compare-accuracy svg");
    expect(await page.getAttribute("#compare-accuracy", "data-rows")).toBe("6");
    const lines = await page.$$eval("#compare-accuracy g.mark-line path", (ps) =>
      ps.map((p) => [p.getAttribute("stroke"), p.getAttribute("d")]),
    );
    expect(lines).toHaveLength(2);
    expect(new Set(lines.map((l) => l[0])).size).toBe(2);
    expect(lines.map((l) => pathPoints(l[1]))).toEqual([3, 3]);
  });

  it("runs the library's optimisers in the browser: paths of the expected length, equal to Node's", async () => {
    await page.goto(
      `${lab.url}#/playground?fn=himmelblau&start=-1,1.5&steps=50&opt=sgd,lr=0.005;adam,lr=0.1`,
    );
    await page.waitForSelector('#playground-contour[data-state="done"]', { timeout: 120_000 });
    expect(await page.getAttribute("#playground-contour", "data-path-points")).toBe("sgd:51,adam:51");
    const lines = await page.$$eval("#playground-contour g.mark-line path", (ps) =>
      ps.map((p) => p.getAttribute("d")),
    );
    expect(lines.map(pathPoints).sort()).toEqual([51, 51]);
    const ends = await page.$$eval("#playground-results tr[data-optimizer]", (trs) =>
      trs.map((tr) => [tr.getAttribute("data-optimizer"), tr.getAttribute("data-end")]),
    );
    await startEngine();
    const fn = testFunction("himmelblau");
    for (const [name, lr] of [
      ["sgd", 0.005],
      ["adam", 0.1],
    ] as const) {
      const node = await runPath({
        fn,
        optimizer: createOptimizer(optimizerConfig(name, { lr })),
        start: [-1, 1.5],
        steps: 50,
      });
      const browser = ends
        .find((e) => e[0] === name)![1]!
        .split(",")
        .map(Number);
      expect(browser[0]).toBeCloseTo(node.points.at(-1)![0], 5);
      expect(browser[1]).toBeCloseTo(node.points.at(-1)![1], 5);
    }
    await page.screenshot({ path: join(SHOTS, "playground.png"), fullPage: true });

    // A click on the map moves the start there and draws new paths from it.
    const box = (await page.locator("#playground-contour svg.marks").boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await page.waitForFunction(
      () => (document.querySelector("#pg-start-x") as HTMLInputElement).value !== "-1",
    );
    await page.waitForSelector('#playground-contour[data-state="done"]', { timeout: 120_000 });
    const x = Number(await page.inputValue("#pg-start-x"));
    const y = Number(await page.inputValue("#pg-start-y"));
    expect(x).toBeLessThan(0); // left part of the [-5, 5] map
    expect(y).toBeGreaterThan(0); // upper part
    expect(page.url()).toContain(`start=${+x.toPrecision(6)}`);
  });

  it.runIf(hasData)("starts a training job from the form and shows its curve growing live", async () => {
    await page.goto(`${lab.url}#/runs`);
    await page.click("#new-job summary");
    await page.selectOption("#job-model", "mlp");
    await page.selectOption("#job-optimizer", "adam");
    await page.fill("#job-epochs", "2");
    await page.fill("#job-batchSize", "50");
    await page.fill("#job-limit", "500");
    await page.fill("#job-logEvery", "1");
    await page.click("#new-job button[type=submit]");
    await page.waitForURL(/#\/runs\/.+-lab-/);
    const seen: number[] = [];
    const deadline = Date.now() + 150_000;
    let shot = false;
    while (Date.now() < deadline) {
      const rows = await page.getAttribute("#chart-step-loss", "data-rows").catch(() => null);
      if (rows !== null && Number(rows) !== seen.at(-1)) seen.push(Number(rows));
      if (!shot && seen.length && seen.at(-1)! < 20) {
        await page.screenshot({ path: join(SHOTS, "live-training.png"), fullPage: true });
        shot = true;
      }
      if (seen.at(-1) === 20 && (await page.$(".run-header .status-done"))) break;
      await page.waitForTimeout(100);
    }
    // 500 images / 50 per batch = 10 steps an epoch, 2 epochs, a line per step.
    expect(seen.at(-1)).toBe(20);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    const line = await page.$eval("#chart-step-loss g.mark-line path", (p) => p.getAttribute("d"));
    expect(pathPoints(line)).toBe(20);
    await page.screenshot({ path: join(SHOTS, "trained.png"), fullPage: true });
  });

  it("raised no error in the page", () => {
    expect(errors).toEqual([]);
  });
});
