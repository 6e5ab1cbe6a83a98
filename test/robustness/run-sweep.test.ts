/**
 * A hostile run folder: each file a run holds (config, status, metrics, dynamics, checkpoint
 * index, checkpoint) replaced in turn by a symbolic link to a file outside the runs folder (a
 * valid-looking copy carrying a secret), by a FIFO, and by a device node. Every lab route and
 * every CLI command that reads a run is sent at it: nothing outside the runs folder is read (the
 * secret never shows) or written (the outside folder is unchanged), and nothing hangs.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LONG, pool, sha256, tinyTrain, writeDataDir } from "./helpers.js";

const SECRET = "SECRET-7f3a9c-outside-the-runs-folder";
const CLI = ["--import", "tsx", "src/cli/main.ts"];
const FILES = [
  "config.json",
  "status.json",
  "metrics.jsonl",
  "dynamics.jsonl",
  "checkpoints/index.json",
  "checkpoints/epoch-1.safetensors",
] as const;
type Hostile = "link" | "fifo" | "device";

type Outcome = { code: number | null; killed: boolean; out: string };

/** `tiller …` with a deadline: a command still running after `ms` counts as hung and is killed. */
function run(args: string[], ms = 90_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...CLI, ...args],
      { encoding: "utf8", env: { ...process.env, TILLER_THREADS: "0" }, timeout: ms, killSignal: "SIGKILL" },
      (error, stdout, stderr) =>
        resolve({
          code: child.exitCode,
          killed: Boolean(error && (error as { killed?: boolean }).killed),
          out: stdout + stderr,
        }),
    );
  });
}

/** Every file under `dir` with its hash and mtime: "unchanged" means this map is the same. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) visit(p);
      else out[p] = `${sha256(readFileSync(p))}:${st.mtimeMs}`;
    }
  };
  visit(dir);
  return out;
}

let parent: string;
let root: string;
let outside: string;
let data: string;
let canMknod = true;
const variants: { id: string; file: (typeof FILES)[number]; kind: Hostile }[] = [];

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), "tiller-sweep-"));
  root = join(parent, "runs");
  outside = join(parent, "outside");
  data = writeDataDir(join(parent, "data"));
  mkdirSync(outside);
  const base = await run(tinyTrain(root, data, "base", ["--epochs", "1", "--dynamics", "epoch"]), 180_000);
  expect(base.code, base.out).toBe(0);
  // Outside copies that look right, so a reader that follows the link would show the secret.
  const baseDir = join(root, "base");
  for (const f of FILES) {
    const text = readFileSync(join(baseDir, f));
    const target = join(outside, f.replace("/", "-"));
    if (f.endsWith(".json")) {
      const json = JSON.parse(text.toString("utf8")) as Record<string, unknown>;
      writeFileSync(
        target,
        JSON.stringify(f === "status.json" ? { ...json, reason: SECRET } : { ...json, secret: SECRET }),
      );
    } else if (f.endsWith(".jsonl")) {
      const line = { type: "step", epoch: 1, step: 1, loss: 1, elapsed_s: 0, secret: SECRET };
      writeFileSync(target, text.toString("utf8") + JSON.stringify(line) + "\n");
    } else {
      writeFileSync(target, Buffer.concat([text, Buffer.from(SECRET)]));
    }
  }
  // A whole run folder outside, for the lab's job route.
  cpSync(baseDir, join(outside, "run"), { recursive: true });
  symlinkSync(join(outside, "run"), join(root, "linked-run"));
  for (const file of FILES) {
    for (const kind of ["link", "fifo", "device"] as const) {
      const id = `${kind}-${file.replace(/[/.]/g, "-")}`;
      const dir = join(root, id);
      cpSync(baseDir, dir, { recursive: true });
      const path = join(dir, file);
      rmSync(path);
      if (kind === "link") symlinkSync(join(outside, file.replace("/", "-")), path);
      else if (kind === "fifo") execFileSync("mkfifo", [path]);
      else {
        try {
          execFileSync("mknod", [path, "c", "1", "5"], { stdio: "ignore" }); // /dev/zero: endless
        } catch {
          canMknod = false;
          rmSync(dir, { recursive: true, force: true });
          continue;
        }
      }
      variants.push({ id, file, kind });
    }
  }
}, 240_000);

afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The commands that read each file of a run. */
function commandsFor(file: (typeof FILES)[number], id: string): string[][] {
  const out = ["--runs", root];
  const show = ["runs", "show", id, ...out];
  const report = ["report", id, ...out];
  const dynamics = ["dynamics", id, ...out, "-q"];
  const hessian = [
    ...["landscape", "hessian", id, ...out, "--data-dir", data, "-q"],
    ...["--top-k", "1", "--max-iter", "3", "--no-trace", "--examples", "16"],
  ];
  const resume = [
    "train",
    "--resume",
    id,
    ...out,
    "--data-dir",
    data,
    "-q",
    "--no-report",
    "--dynamics",
    "off",
  ];
  const by: Record<(typeof FILES)[number], string[][]> = {
    "config.json": [show, report, dynamics, hessian, resume],
    "status.json": [show, report, resume],
    "metrics.jsonl": [show, report, resume],
    "dynamics.jsonl": [dynamics],
    "checkpoints/index.json": [show, hessian, resume],
    "checkpoints/epoch-1.safetensors": [hessian, resume],
  };
  return by[file];
}

describe("a run folder with links out, FIFOs and device files", () => {
  it("CLI commands that read a run: no secret shown, nothing written outside, no hang", async () => {
    const before = snapshot(outside);
    // The default suite sends device nodes at the logs only; TILLER_LONG sends them everywhere.
    const swept = variants.filter(
      (v) => LONG || v.kind !== "device" || v.file.endsWith(".jsonl") || v.file === "status.json",
    );
    const jobs = [["runs", "list", "--runs", root], ...swept.flatMap((v) => commandsFor(v.file, v.id))];
    const results = await pool(jobs, 3, (args) => run(args));
    results.forEach((r, i) => {
      const what = `tiller ${jobs[i].join(" ")}\n${r.out}`;
      expect(r.killed, `hung: ${what}`).toBe(false);
      expect(r.out, what).not.toContain(SECRET);
      expect(r.out, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    });
    expect(snapshot(outside)).toEqual(before);
    // runs list names every planted run as broken instead of failing as a whole.
    const list = results[0].out;
    expect(results[0].code, list).toBe(0);
    expect(list).toMatch(/^base\s/m);
    expect(list).toMatch(/broken runs:/);
    expect(list).toMatch(/fifo-status-json: .*not a regular file/);
    expect(list).toMatch(/link-config-json: .*outside/);
    if (!canMknod) console.log("mknod not permitted here: device-file variants skipped");
  }, 900_000);

  describe("the lab", () => {
    let lab: ChildProcess;
    let base = "";
    beforeAll(async () => {
      lab = spawn(process.execPath, [...CLI, "lab", "--runs", root, "--port", "0"], {
        env: { ...process.env, TILLER_THREADS: "0" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      lab.stdout?.on("data", (c) => (out += c));
      const deadline = Date.now() + 60_000;
      while (!/Tiller lab: (http:\S+)/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      base = /Tiller lab: (http:\S+?)\/?\s/.exec(out)![1];
    }, 90_000);
    afterAll(() => {
      lab?.kill("SIGKILL");
    });

    /** The body (or its first 2 s of a stream) and status of a GET, failing the test after 10 s. */
    async function get(path: string): Promise<{ status: number; body: string }> {
      const res = await fetch(base + path, { signal: AbortSignal.timeout(10_000) });
      const reader = res.body!.getReader();
      let body = "";
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        const chunk = await Promise.race([
          reader.read(),
          new Promise<null>((r) => setTimeout(() => r(null), Math.max(1, until - Date.now()))),
        ]);
        if (chunk === null || chunk.done) break;
        body += new TextDecoder().decode(chunk.value);
      }
      await reader.cancel().catch(() => undefined);
      return { status: res.status, body };
    }

    it("every route answers, never with the secret, and the server keeps answering", async () => {
      const before = snapshot(outside);
      const paths = ["/api/health", "/api/runs"];
      for (const v of variants) {
        paths.push(`/api/runs/${v.id}`, `/api/runs/${v.id}/metrics`, `/api/runs/${v.id}/events`);
        if (v.file.endsWith(".jsonl")) paths.push(`/api/runs/${v.id}/files/${v.file}`);
      }
      paths.push("/api/runs/linked-run", "/api/runs/linked-run/metrics", "/api/runs/linked-run/events");
      for (const p of paths) {
        const r = await get(p);
        expect(r.body, p).not.toContain(SECRET);
        expect(r.status, `${p}: ${r.body}`).toBeLessThan(500);
      }
      const health = await get("/api/health");
      expect(health.status).toBe(200);
      expect(snapshot(outside)).toEqual(before);
    }, 300_000);

    it("a job on a run that links outside the runs folder is refused and writes nothing there", async () => {
      const before = snapshot(outside);
      const res = await fetch(base + "/api/jobs", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ kind: "landscape-surface", run: "linked-run", steps: 3, examples: 8 }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: string }).error).toMatch(/outside the runs folder/);
      await new Promise((r) => setTimeout(r, 500));
      expect(snapshot(outside)).toEqual(before);
    });
  });
});
