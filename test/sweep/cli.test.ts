/** `tiller sweep` on bad input: one clear line and exit code 2 (usage) or 1 (runtime), never a stack. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "./redis.js";

const cli = ["--import", "tsx", "src/cli/main.ts"];

function tiller(args: string[]): Promise<{ status: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("tiller sweep errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "tiller-sweep-cli-"));
  const spec = (name: string, body: unknown) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, typeof body === "string" ? body : JSON.stringify(body));
    return file;
  };
  const fixed = { hidden: [16], epochs: 1, limit: 512 };

  it("a malformed spec, an unknown option, an out-of-range value and an unreachable Redis each give one line", async () => {
    const port = await freePort(); // nothing listens there
    const [malformed, unknown, range, redis] = await Promise.all([
      tiller(["sweep", "plan", spec("malformed", '{ "command": "train", ')]),
      tiller(["sweep", "plan", spec("unknown", { command: "train", fixed, grid: { lerning_rate: [0.1] } })]),
      tiller([
        "sweep",
        "run",
        spec("range", { command: "train", fixed, grid: { momentum: [0.9, 1.5] } }),
        "--runs",
        dir,
      ]),
      tiller([
        ...["sweep", "run", spec("ok", { command: "train", fixed }), "--runs", dir],
        ...["--queue", `redis://user:hunter2@127.0.0.1:${port}/0`],
      ]),
    ]);
    expect(malformed.status).toBe(2);
    expect(malformed.stderr).toMatch(/^tiller: error: .*malformed\.json: not valid JSON/);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /^tiller: error: sweep spec: run 1 \(lerning_rate=0\.1\): unknown option "lerning_rate" \(known: model, task, hidden/,
    );
    expect(range.status).toBe(2);
    expect(range.stderr).toMatch(
      /^tiller: error: sweep spec: run 2 \(momentum=1\.5\): invalid train request: momentum \(--momentum\): expected a number < 1, got 1\.5\n$/,
    );
    expect(redis.status).toBe(1);
    expect(redis.stderr).toMatch(
      new RegExp(`tiller: error: cannot reach Redis at redis://\\*\\*\\*@127\\.0\\.0\\.1:${port}/0`),
    );
    for (const r of [malformed, unknown, range, redis]) expect(r.stderr).not.toMatch(/hunter2|\n\s+at /);
  });
});
