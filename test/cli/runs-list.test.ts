import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { makeStore, writeRun } from "../lab-fixture.js";

describe("tiller runs list", () => {
  it("names what each run is and shows a comparison's best accuracy, not '?'", () => {
    const { root } = makeStore([{ id: "mlp-adam", accuracies: [0.7, 0.75] }]);
    const cmp = writeRun(root, { id: "compare-run", createdAt: "2026-10-01T00:00:00.000Z" });
    writeFileSync(
      join(cmp, "config.json"),
      JSON.stringify({
        id: "compare-run",
        command: "compare",
        members: [{ label: "sgd" }, { label: "adam" }],
      }),
    );
    writeFileSync(
      join(cmp, "summary.json"),
      JSON.stringify([
        { optimizer: "sgd", best_test_accuracy: 0.5024 },
        { optimizer: "adam", best_test_accuracy: 0.8457 },
      ]),
    );
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", resolve("src/cli/main.ts"), "runs", "list", "--runs", root],
      {
        encoding: "utf8",
      },
    );
    expect(r.status).toBe(0);
    const line = r.stdout.split("\n").find((l) => l.startsWith("compare-run"))!;
    expect(line).toMatch(/compare\s+sgd, adam\s+done\s+84\.57%/);
    expect(r.stdout).not.toContain("?");
    expect(r.stdout.split("\n").find((l) => l.startsWith("mlp-adam"))).toMatch(
      /mlp\s+adam 0\.001\s+done\s+75\.00%/,
    );
  }, 60_000);
});
