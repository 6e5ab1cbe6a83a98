import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const cli = ["--import", "tsx", resolve("src/cli/main.ts")];

describe("tiller train with its data missing", () => {
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
});
