/**
 * The lab's sweep page in real headless Chromium over a hand-written run store (a sweep of six
 * runs, one still running): the hyper-parameter table sorts and filters, the parallel-coordinates
 * plot draws one line per finished run, the best run is linked, and when the running run finishes
 * the page shows it without a reload. Screenshot: test-results/lab/sweep.png.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultAssetsDir } from "../../src/lab/paths.js";
import { startLab, type Lab } from "../../src/lab/server.js";
import { expandSweep, parseSweepSpec } from "../../src/sweep/spec.js";
import { sweepRecord, writeSweepRecord, type SweepRecord } from "../../src/sweep/store.js";
import { hasChromium, openBrowser, SHOTS } from "./browser.js";

const built = existsSync(join(defaultAssetsDir(), "index.html"));

/** Final accuracy in this fixture: Lion > Adam > SGD at one learning rate, and 0.1 beats 0.01 by 0.09. */
const accuracy = (optimizer: string, lr: number) => ({ sgd: 0.5, adam: 0.7, lion: 0.75 })[optimizer]! + lr;

function writeRun(root: string, id: string, values: Record<string, unknown>, epochs: number, status: string) {
  const dir = join(root, id);
  mkdirSync(join(dir, "checkpoints"), { recursive: true });
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({ id, command: "train", createdAt: "2026-12-07T10:00:00Z" }),
  );
  const acc = accuracy(values.optimizer as string, values.lr as number);
  const lines = Array.from({ length: epochs }, (_, i) => ({
    type: "epoch",
    epoch: i + 1,
    train_loss: 1 / (i + 2),
    train_accuracy: acc - 0.1 / (i + 1),
    test_loss: 1 / (i + 2),
    test_accuracy: acc - 0.1 / (i + 1),
    elapsed_s: 2 * (i + 1),
  }));
  writeFileSync(join(dir, "metrics.jsonl"), lines.map((l) => JSON.stringify(l) + "\n").join(""));
  writeFileSync(
    join(dir, "status.json"),
    JSON.stringify({ status, epochsCompleted: epochs, updatedAt: new Date().toISOString() }),
  );
}

describe.runIf(hasChromium && built)("the lab's sweep page", () => {
  const root = mkdtempSync(join(tmpdir(), "tiller-sweep-e2e-"));
  let record: SweepRecord;
  let lab: Lab;
  let page: Page;
  let close: () => Promise<void>;

  beforeAll(async () => {
    const spec = parseSweepSpec({
      name: "e2e",
      command: "train",
      fixed: { hidden: [16], epochs: 2 },
      grid: { optimizer: ["sgd", "adam", "lion"], lr: [0.01, 0.1] },
    });
    record = sweepRecord(spec, expandSweep(spec), "store");
    writeSweepRecord(root, record);
    record.runs.forEach((r, i) =>
      i < 5 ? writeRun(root, r.id, r.values, 2, "done") : writeRun(root, r.id, r.values, 0, "running"),
    );
    lab = await startLab({ runsRoot: root, port: 0, pollMs: 100 });
    const browser = await openBrowser();
    close = browser.close;
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await close?.();
    await lab?.close();
  });

  it("shows the table, the parallel coordinates and the best run, and follows a run as it finishes", async () => {
    await page.goto(`${lab.url}/#/sweeps`);
    await page.locator("#sweep-list a", { hasText: "e2e" }).click();
    await page.locator("#sweep-table tbody tr").first().waitFor();
    expect(await page.locator("#sweep-table tbody tr").count()).toBe(6);
    await page.locator('#sweep-parallel[data-lines="5"] svg').waitFor();
    expect(await page.locator("#sweep-parallel svg path").count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator("#sweep-curves svg").count()).toBe(1);
    // Sorted by final accuracy, best first: Adam at lr 0.1 (the unfinished Lion 0.1 has no accuracy yet).
    const first = page.locator("#sweep-table tbody tr").first();
    expect(await first.locator("td").nth(0).textContent()).toBe("adam");
    expect(await first.locator("td").nth(1).textContent()).toBe("0.1");
    const best = record.runs.find((r) => r.values.optimizer === "adam" && r.values.lr === 0.1)!.id;
    expect(await page.locator("#best-run a").getAttribute("href")).toBe(`#/runs/${best}`);

    await page.locator('button.sort[data-key="lr"]').click(); // ascending by a swept value
    expect(await page.locator("#sweep-table tbody tr td:nth-child(2)").allTextContents()).toEqual([
      "0.01",
      "0.01",
      "0.01",
      "0.1",
      "0.1",
      "0.1",
    ]);
    await page.locator("#sweep-filter").fill("lion");
    expect(await page.locator("#sweep-table tbody tr").count()).toBe(2);
    await page.locator("#sweep-filter").fill("");

    // The last run finishes while the page is open.
    const last = record.runs[5];
    writeRun(root, last.id, last.values, 2, "done");
    await page.locator('#sweep-summary[data-done="6"]').waitFor({ timeout: 15_000 });
    await page.locator('#sweep-parallel[data-lines="6"]').waitFor();
    expect(await page.locator(`#sweep-table tr[data-run="${last.id}"]`).getAttribute("data-state")).toBe(
      "done",
    );
    // Lion at 0.1 (0.8) is now the best run.
    expect(await page.locator("#best-run a").getAttribute("href")).toBe(`#/runs/${last.id}`);
    await page.selectOption("#sweep-metric", "best_loss");
    await page.locator("#sweep-parallel svg").waitFor();
    await page.screenshot({ path: join(SHOTS, "sweep.png"), fullPage: true });
  });
});
