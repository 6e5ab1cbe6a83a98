import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDataDir } from "../../src/data/fashion-mnist.js";
import { UsageError } from "../../src/errors.js";
import {
  compareInits,
  formatTable,
  resolveCompareConfigs,
  TABLE_COLUMNS,
  tableCsv,
  type InitCompareRequest,
  type InitCompareRow,
} from "../../src/train/init-compare.js";

const hasData = existsSync(resolveDataDir());

const base: InitCompareRequest = {
  model: "mlp",
  modelOptions: { hidden: [64, 32], activation: "prelu" },
  inits: ["kaiming_normal", "l_momentum"],
  optimizer: { name: "sgd", lr: 0.01, momentum: 0.9 },
  epochs: 1,
  batchSize: 64,
  seed: 1,
  limit: 640,
  logEvery: 5,
};

const row = (over: Partial<InitCompareRow>): InitCompareRow => ({
  method: "m",
  status: "done",
  errorRate: 12.345,
  convergenceSpeed: 0.5,
  conditionNumber: 3.21,
  spectralNorm: 1.5,
  effectiveRankRatio: 0.95,
  executionTime: 10.04,
  divergedAtStep: null,
  reason: null,
  ...over,
});

describe("init compare: the table", () => {
  it("prints the book's columns, nan for a diverged method and inf for a singular matrix", () => {
    const rows = [
      row({ method: "kaiming_normal" }),
      row({
        method: "l_momentum",
        status: "diverged",
        errorRate: NaN,
        convergenceSpeed: NaN,
        conditionNumber: Infinity,
      }),
    ];
    const lines = formatTable(rows).split("\n");
    expect(lines[0].split(/\s{2,}/)).toEqual([...TABLE_COLUMNS]);
    expect(lines[2].split(/\s+/)).toEqual([
      "kaiming_normal",
      "12.35",
      "0.50",
      "3.21",
      "1.500",
      "0.950",
      "10.0",
    ]);
    expect(lines[3].split(/\s+/)).toEqual(["l_momentum", "nan", "nan", "inf", "1.500", "0.950", "10.0"]);
    const csv = tableCsv(rows).trim().split("\n");
    expect(csv[0]).toBe([...TABLE_COLUMNS, "Status"].join(","));
    expect(csv[2]).toBe("l_momentum,nan,nan,inf,1.500,0.950,10.0,diverged");
  });

  it("bad method lists are usage errors before any data is read", () => {
    expect(() => resolveCompareConfigs({ ...base, inits: [] })).toThrow(UsageError);
    expect(() => resolveCompareConfigs({ ...base, inits: ["kaiming_normal", "he_normal"] })).toThrow(
      /"kaiming_normal" is listed twice/,
    );
    expect(() => resolveCompareConfigs({ ...base, inits: ["xavier"] })).toThrow(
      /unknown initialiser "xavier"/,
    );
  });

  it("every method gets the same seed, data and optimiser; L-Momentum's α follows the momentum", () => {
    const configs = resolveCompareConfigs({ ...base, optimizer: { name: "sgd", lr: 0.01, momentum: 0.8 } });
    expect(configs.map((c) => c.id)).toEqual(["kaiming_normal", "l_momentum"]);
    expect(new Set(configs.map((c) => JSON.stringify([c.seed, c.data, c.optimizer, c.batchSize]))).size).toBe(
      1,
    );
    expect((configs[1].model as { initOptions?: { alpha?: number } }).initOptions?.alpha).toBeCloseTo(
      0.64,
      12,
    );
  });
});

describe.runIf(hasData)("init compare on Fashion-MNIST (640 images)", () => {
  it("a diverging initialiser is marked diverged with nan in the table, and the comparison goes on", async () => {
    const root = mkdtempSync(join(tmpdir(), "tiller-init-compare-"));
    const inits = ["l_momentum", "kaiming_normal"]; // the diverging one first: the next must still run
    const { run, rows, status } = await compareInits({ ...base, inits, runsRoot: root, name: "cmp" });
    expect(status).toBe("done");
    expect(rows.map((r) => [r.method, r.status])).toEqual([
      ["l_momentum", "diverged"],
      ["kaiming_normal", "done"],
    ]);
    const [lm, km] = rows;
    expect(lm.errorRate).toBeNaN();
    expect(lm.convergenceSpeed).toBeNaN();
    expect(lm.divergedAtStep).toBeGreaterThanOrEqual(1);
    expect(lm.reason).toMatch(/(loss|gradient norm) became (NaN|Infinity|-Infinity)/);
    // at init: mean(w²) = 0.81 on every matrix, so the spectra are finite and large
    expect(lm.spectralNorm).toBeGreaterThan(5);
    expect(km.errorRate).toBeGreaterThan(0);
    expect(km.errorRate).toBeLessThan(60);
    expect(km.convergenceSpeed).toBeGreaterThan(0);
    expect(km.convergenceSpeed).toBeLessThanOrEqual(1);

    const read = (...p: string[]) => readFileSync(run.path(...p), "utf8");
    expect(read("table.csv").split("\n")[1]).toMatch(
      /^l_momentum,nan,nan,[\d.]+,[\d.]+,[\d.]+,[\d.]+,diverged$/,
    );
    const table = JSON.parse(read("table.json"));
    expect(table.rows[0].errorRate).toBeNull();
    expect(table.rows[1].errorRate).toBeCloseTo(km.errorRate, 10);
    expect(table.layers.kaiming_normal.atInit.map((l: { name: string }) => l.name)).toEqual([
      "fc0.weight",
      "fc1.weight",
      "fc2.weight",
    ]);
    const spectra = JSON.parse(read("spectra.json"));
    expect(spectra.kaiming_normal["fc0.weight"].atInit).toHaveLength(64);
    // Stopped at the first non-finite loss or gradient norm: the weights are blown up (or NaN).
    const top = spectra.l_momentum["fc0.weight"].trained[0] as number | null;
    expect(top === null || top > 1e6).toBe(true);
    expect(JSON.parse(read("methods", "l_momentum", "status.json")).status).toBe("diverged");
    expect(JSON.parse(read("methods", "kaiming_normal", "status.json")).status).toBe("done");
    expect(JSON.parse(read("status.json")).status).toBe("done");
    for (const f of ["figures/loss.svg", "figures/spectra.svg"]) expect(read(f)).toMatch(/^<svg/);
    expect(read("report.html")).toContain("l_momentum diverged at step");
  });
});
