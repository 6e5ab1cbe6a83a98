import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const cli = ["--import", "tsx", resolve("src/cli/main.ts")];

describe("commands with the data missing", () => {
  it("exits 1 with one line naming the folder, and leaves no run behind", () => {
    const runs = mkdtempSync(join(tmpdir(), "tiller-nodata-"));
    const r = spawnSync(
      process.execPath,
      [...cli, "train", "--data-dir", "/nonexistent", "--epochs", "1", "--out", runs],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\/nonexistent does not exist/);
    expect(readdirSync(runs)).toEqual([]);
  }, 60_000);

  it("npm start (the tour) stops at once and prints the one command that installs the data", () => {
    const runs = mkdtempSync(join(tmpdir(), "tiller-nodata-"));
    const r = spawnSync(process.execPath, [...cli, "tour", "--scale", "tiny", "--runs", runs], {
      encoding: "utf8",
      env: { ...process.env, TILLER_DATA: "/nonexistent" },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('"sudo apt-get install dataset-fashion-mnist"');
  }, 120_000);
});
