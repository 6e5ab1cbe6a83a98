import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lineChart, trainingCurves } from "../../src/report/charts.js";
import { escapeHtml, reportHtml } from "../../src/report/html.js";
import { readRunMetrics } from "../../src/runs/records.js";
import { writeRunReport } from "../../src/report/run-report.js";
import { renderSvg, svgToPng } from "../../src/report/vega.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "tiller-report-"));
  dirs.push(d);
  return d;
}

const config = {
  id: "run-<script>alert(1)</script>",
  createdAt: "2025-11-25T10:00:00.000Z",
  command: "train",
  model: { name: "mlp", hidden: [128] },
  optimizer: { name: "adam", lr: 0.001 },
  data: { dataset: "fashion-mnist", limit: 2000, normalize: "standard" },
  epochs: 3,
  batchSize: 64,
  seed: 7,
  paramCount: 101770,
};

const step = (epoch: number, s: number, loss: number) =>
  JSON.stringify({ type: "step", epoch, step: s, loss, elapsed_s: s / 10 });
const epochLine = (epoch: number, testAcc: number) =>
  JSON.stringify({
    type: "epoch",
    epoch,
    train_loss: 0.6 / epoch,
    train_accuracy: 0.7 + 0.05 * epoch,
    test_loss: 0.65 / epoch,
    test_accuracy: testAcc,
    elapsed_s: epoch * 10,
  });

function fakeRun(metricsText: string, status: object = { status: "done", epochsCompleted: 3 }): string {
  const dir = tmp();
  writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, 2));
  writeFileSync(
    join(dir, "status.json"),
    JSON.stringify({ updatedAt: "2025-11-25T10:05:00.000Z", ...status }),
  );
  writeFileSync(join(dir, "metrics.jsonl"), metricsText);
  return dir;
}

const goodMetrics = [
  step(1, 1, 2.3),
  step(1, 2, 1.9),
  epochLine(1, 0.8123),
  step(2, 3, 1.2),
  step(2, 4, 0.9),
  epochLine(2, 0.8456),
  step(3, 5, 0.7),
  epochLine(3, 0.8401),
].join("\n");

describe("renderSvg / svgToPng", () => {
  const tiny = lineChart({
    title: "tiny",
    x: { field: "x", title: "X" },
    y: { field: "y", title: "Y" },
    data: [
      { x: 1, y: 2 },
      { x: 2, y: 1 },
      { x: 3, y: 3 },
    ],
  });

  it("renders a line chart to SVG with a path", async () => {
    const svg = await renderSvg(tiny);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("<path");
    expect(svg).toContain("tiny");
  });

  it("rasterises to PNG", async () => {
    const png = svgToPng(await renderSvg(tiny), { width: 300 });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.readUInt32BE(16)).toBe(300); // IHDR width
  });

  it("log scale drops non-positive values instead of failing", async () => {
    const spec = lineChart({
      title: "log",
      x: { field: "x", title: "X" },
      y: { field: "y", title: "Y", scale: "log" },
      data: [
        { x: 1, y: 1 },
        { x: 2, y: 0 },
        { x: 3, y: null },
        { x: 4, y: 0.1 },
      ],
    });
    expect(await renderSvg(spec)).toContain("<path");
  });
});

describe("trainingCurves", () => {
  it("adds a step chart only when steps exist", () => {
    const m = readRunMetrics(fakeRun(goodMetrics));
    expect(trainingCurves(m).stepLoss).toBeDefined();
    expect(trainingCurves({ steps: [], epochs: m.epochs }).stepLoss).toBeUndefined();
  });
});

describe("reportHtml", () => {
  it("escapes text and inlines figures without external assets", () => {
    const html = reportHtml({
      title: "A <b>title</b>",
      sections: [
        {
          heading: "S & T",
          table: { columns: ["k", "v"], rows: [["<i>", null]] },
          figures: [{ svg: '<svg id="a"><path clip-path="url(#a)"/></svg>', caption: "c" }],
        },
      ],
    });
    expect(html).toContain("A &lt;b&gt;title&lt;/b&gt;");
    expect(html).toContain("S &amp; T");
    expect(html).toContain("&lt;i&gt;");
    expect(html).toMatch(/id="fig1-a".*url\(#fig1-a\)/);
    expect(html).not.toMatch(/<(script|link)\b|src=/);
    expect(escapeHtml(`'"`)).toBe("&#39;&quot;");
  });
});

describe("writeRunReport", () => {
  it("writes report.html and figures for a run directory", async () => {
    const dir = fakeRun(goodMetrics);
    const path = await writeRunReport(dir);
    expect(path).toBe(join(dir, "report.html"));
    const html = readFileSync(path, "utf8");
    expect(html.match(/<svg/g)?.length).toBeGreaterThanOrEqual(2);
    expect(html).toContain("84.56%"); // best test accuracy
    expect(html).toContain("84.01%"); // final test accuracy
    expect(html).toContain("101,770");
    expect(html).not.toContain("<script>");
    expect(html).toContain("run-&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(existsSync(join(dir, "figures", "loss.svg"))).toBe(true);
    expect(existsSync(join(dir, "figures", "accuracy.svg"))).toBe(true);
    const leftovers = [...readdirSync(dir), ...readdirSync(join(dir, "figures"))].filter((f) =>
      f.includes(".tmp-"),
    );
    expect(leftovers).toEqual([]);
  });

  it("tolerates a truncated last metrics line", async () => {
    const dir = fakeRun(goodMetrics + '\n{"type":"epoch","epoch":4,"train_lo');
    const m = readRunMetrics(dir);
    expect(m.epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(m.skippedLines).toEqual([]);
    const html = readFileSync(await writeRunReport(dir), "utf8");
    expect(html).not.toContain("Skipped");
  });

  it("skips and reports mid-file debris, keeps the last occurrence per step/epoch", async () => {
    const text = [
      step(1, 1, 2.3),
      '{"type":"step","ep',
      step(1, 1, 2.0),
      epochLine(1, 0.5),
      epochLine(1, 0.6),
    ];
    const dir = fakeRun(text.join("\n") + "\n", { status: "running", epochsCompleted: 1 });
    const m = readRunMetrics(dir);
    expect(m.skippedLines).toEqual([2]);
    expect(m.steps).toHaveLength(1);
    expect(m.steps[0].loss).toBe(2.0);
    expect(m.epochs).toHaveLength(1);
    expect(m.epochs[0].test_accuracy).toBe(0.6);
    const html = readFileSync(await writeRunReport(dir), "utf8");
    expect(html).toContain("Skipped 1 unreadable line(s) in metrics.jsonl (line 2)");
  });

  it("reports a run with no metrics yet", async () => {
    const dir = fakeRun("", { status: "running", epochsCompleted: 0 });
    const html = readFileSync(await writeRunReport(dir), "utf8");
    expect(html).toContain("No epoch has finished yet");
  });

  it("names the file when config.json is missing", async () => {
    const dir = fakeRun(goodMetrics);
    rmSync(join(dir, "config.json"));
    await expect(writeRunReport(dir)).rejects.toThrow(/^config\.json: file not found/);
  });

  it("names the file and problem for corrupt JSON and bad fields", async () => {
    const dir = fakeRun(goodMetrics);
    writeFileSync(join(dir, "status.json"), "{ nope");
    await expect(writeRunReport(dir)).rejects.toThrow(/^status\.json: invalid JSON/);
    writeFileSync(
      join(dir, "status.json"),
      JSON.stringify({ status: "weird", epochsCompleted: 1, updatedAt: "x" }),
    );
    await expect(writeRunReport(dir)).rejects.toThrow(/^status\.json: unexpected content \(status: /);
    writeFileSync(
      join(dir, "status.json"),
      JSON.stringify({ status: "done", epochsCompleted: 1, updatedAt: "x" }),
    );
    writeFileSync(join(dir, "metrics.jsonl"), step(1, 1, 1) + '\n{"type":"step","epoch":1}\n');
    await expect(writeRunReport(dir)).rejects.toThrow(/^metrics\.jsonl: line 2: step: Required/);
  });

  it("error messages are one line", async () => {
    const dir = fakeRun(goodMetrics);
    writeFileSync(join(dir, "config.json"), JSON.stringify({ id: 1 }));
    const err = await writeRunReport(dir).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).not.toContain("\n");
    expect((err as Error).message).toMatch(/^config\.json: unexpected content/);
  });
});
