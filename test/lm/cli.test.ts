import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const cli = ["--import", "tsx", "src/cli/main.ts"];
const llama = "test/fixtures/reference/lm/llama-tiny";

function tiller(args: string[]) {
  return spawnSync(process.execPath, [...cli, ...args], { encoding: "utf8" });
}

describe("tiller lm / svf / lora commands", () => {
  it("lm generate runs a Hugging Face checkpoint directory with its own tokenizer", () => {
    const r = tiller(["lm", "generate", llama, "--prompt", "the cat", "and then", "--max-new-tokens", "3"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0].startsWith('"the cat" → ')).toBe(true);
  });

  it("usage mistakes exit 2 with one line naming the problem", () => {
    const out = mkdtempSync(join(tmpdir(), "tiller-cli-"));
    const cases: [string[], RegExp][] = [
      [["svf", "train", "--task", "math", "--runs", out], /base \(<base>\): required \(or --resume <run>\)/],
      [["svf", "train", llama, "--task", "poetry", "--runs", out], /unknown task "poetry"/],
      [["lora", "train", llama, "--task", "math-hard", "--runs", out], /held out/],
      [["lm", "pretrain", "--task", "math,poetry", "--runs", out], /unknown task "poetry"/],
      [["lm", "pretrain", "--task", "math,reasoning:0", "--runs", out], /bad task weight in "reasoning:0"/],
      [["svf", "eval", llama, "--svf", "math", "--runs", out], /task=run pairs/],
      [["lm", "fork", llama, "--step", "100", "--runs", out], /not an LM pretraining run/],
      [["lm", "fork", llama, "--step", "0", "--runs", out], /--step/],
    ];
    for (const [args, message] of cases) {
      const r = tiller(args);
      expect(r.status, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.stderr.trim().split("\n"), args.join(" ")).toHaveLength(1);
    }
  });

  it("SIGTERM stops a single-threaded pretraining run at a step boundary, marked interrupted", async () => {
    // With one thread every kernel runs on the main thread; the loop must still give signals a turn.
    const out = mkdtempSync(join(tmpdir(), "tiller-sig-"));
    const args = [
      "lm",
      "pretrain",
      "--task",
      "reasoning",
      "--steps",
      "100000",
      "--runs",
      out,
      "--name",
      "sig",
    ];
    const child = spawn(process.execPath, [...cli, ...args], {
      env: { ...process.env, TILLER_THREADS: "1" },
    });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/pretrain \d+\/100000/.test(stderr)) resolve();
      }),
    );
    child.kill("SIGTERM");
    const timeout = setTimeout(() => child.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(timeout);
    expect(code).toBe(130); // interrupted, resumable
    expect(stderr).toMatch(/Interrupted/);
    const status = JSON.parse(readFileSync(join(out, "sig", "status.json"), "utf8")) as { status: string };
    expect(status.status).toBe("interrupted");
  }, 60_000);
});
