/**
 * A run is owned by one process, its folder is made safely, and what it records stays true:
 * a second writer is refused while the first lives and takes over once it is gone; folders the
 * kernel refuses fail with one line instead of hanging; --resume refuses options the run's config
 * fixes; a full disk never hides the first error or leaves a half-made run behind; and readers
 * cope with what Tiller itself writes (null metrics, broken neighbours).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobQueue } from "../../src/lab/jobs.js";
import { LabRequestError } from "../../src/lab/run-data.js";
import { acquireRunLock, LOCK_FILE, RunBusyError } from "../../src/runs/lock.js";
import { Run } from "../../src/runs/store.js";
import {
  expectCleanFailure,
  readJsonFile,
  spawnTiller,
  tiller,
  tinyTrain,
  writeDataDir,
  type CliResult,
} from "./helpers.js";

const parent = mkdtempSync(join(tmpdir(), "tiller-own-"));
const runs = join(parent, "runs");
const data = join(parent, "data");

/** A pid that is certainly not running: a child that has exited and been reaped. */
function deadPid(): number {
  return spawnSync("true").pid!;
}

beforeAll(async () => {
  writeDataDir(data);
  const r = await tiller(tinyTrain(runs, data, "base", ["--epochs", "1"]));
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  // The full-disk tests mount a tmpfs in here; it must go before the folder can.
  spawnSync("umount", [join(parent, "tmpfs")], { stdio: "ignore" });
  rmSync(parent, { recursive: true, force: true });
});

function copyRun(id: string): string {
  const dir = join(runs, id);
  cpSync(join(runs, "base"), dir, { recursive: true });
  const config = readJsonFile(join(dir, "config.json"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, id }));
  return dir;
}

describe("one process owns a run", () => {
  it("a train --resume of a run being trained is refused with one line; a SIGKILLed owner's lock is taken over", async () => {
    const dir = join(runs, "busy");
    const first = spawnTiller(tinyTrain(runs, data, "busy", ["--epochs", "400"]));
    let firstErr = "";
    first.stderr?.on("data", (c) => (firstErr += c));
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(dir, LOCK_FILE)) && Date.now() < deadline && first.exitCode === null)
      await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dir, LOCK_FILE)), firstErr).toBe(true);
    const second = await tiller(["train", "--resume", "busy", "--runs", runs, "-q"]);
    expectCleanFailure(second, 1, new RegExp(`run busy is in use by process ${first.pid}`));
    // SIGKILL leaves a stale lock: the next writer (a report) takes it over.
    first.kill("SIGKILL");
    await new Promise((r) => first.on("exit", r));
    expect(readJsonFile<{ pid: number }>(join(dir, LOCK_FILE)).pid).toBe(first.pid);
    const report = await tiller(["report", "busy", "--runs", runs]);
    expect(report.status, report.stderr).toBe(0);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, 180_000);

  it("a lock whose owner is gone is taken over, and the dead writer's temp files are removed", () => {
    const dir = copyRun("stale");
    const pid = deadPid();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostName(), since: "then" }));
    const temp = join(dir, "checkpoints", `.epoch-2.safetensors.tmp-${pid}`);
    writeFileSync(temp, "half a checkpoint");
    const run = Run.openForWriting(dir);
    expect(readJsonFile<{ pid: number }>(join(dir, LOCK_FILE)).pid).toBe(process.pid);
    expect(existsSync(temp)).toBe(false);
    run.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("a lock held by a live process refuses every writer, naming the owner", () => {
    const dir = copyRun("held");
    writeFileSync(
      join(dir, LOCK_FILE),
      JSON.stringify({ pid: process.ppid, host: hostName(), since: "now" }),
    );
    expect(() => acquireRunLock(dir)).toThrow(RunBusyError);
    expect(() =>
      new Run(dir).appendMetric({
        type: "eval",
        step: 1,
        task: "t",
        split: "s",
        accuracy: 1,
        n: 1,
        elapsed_s: 0,
      }),
    ).toThrow(new RegExp(`in use by process ${process.ppid}`));
  });
});

function hostName(): string {
  return execFileSync("hostname").toString().trim();
}

describe("folders the kernel refuses", () => {
  it("--runs /proc/x (and the old --out) and lab --runs /proc/x fail with one line instead of hanging", async () => {
    const cases = [
      ["train", "--runs", "/proc/x", "-q", "--data-dir", data],
      [
        "optim",
        "compare",
        "--optimizers",
        "sgd,adam",
        "--runs",
        "/proc/x",
        "-q",
        "--data-dir",
        data,
        "--limit",
        "64",
      ],
      ["init", "compare", "--inits", "lecun", "--runs", "/proc/x", "-q", "--data-dir", data, "--limit", "64"],
      ["optim", "path", "--fn", "rosenbrock", "--steps", "5", "--out", "/proc/x", "-q"],
      ["lab", "--runs", "/proc/x", "--port", "0"],
    ];
    const results = await Promise.all(cases.map((args) => tillerWithin(args, 60_000)));
    for (const r of results)
      expectCleanFailure(r, 1, /cannot create (run directory|folder) \/proc\/x.*\(ENOENT at \/proc\/x\)/);
  }, 120_000);
});

/** `tiller …`, SIGKILLed after `ms` (the status is then null and the test fails). */
async function tillerWithin(args: string[], ms: number): Promise<CliResult> {
  const child = spawnTiller(args);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (c) => (stdout += c));
  child.stderr?.on("data", (c) => (stderr += c));
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const status = await new Promise<number>((r) => child.on("exit", (code) => r(code ?? -1)));
  clearTimeout(timer);
  return { status, stdout, stderr, args };
}

describe("--resume and the run's config", () => {
  it("options the config fixes are refused with one line, and nothing is trained", async () => {
    const dir = copyRun("fixed");
    const before = readFileSync(join(dir, "metrics.jsonl"), "utf8");
    const r = await tiller([
      "train",
      "--resume",
      "fixed",
      "--runs",
      runs,
      "--lr",
      "5",
      "--optimizer",
      "sgd",
      "-q",
    ]);
    expectCleanFailure(r, 2, /fixed by the run's config on --resume/);
    expect(readFileSync(join(dir, "metrics.jsonl"), "utf8")).toBe(before);
  }, 60_000);

  it("lm pretrain, svf train and lora train refuse options with --resume too", async () => {
    const cases: [string[], string][] = [
      [["lm", "pretrain", "--resume", "x", "--steps", "5"], "--steps"],
      [["svf", "train", "--resume", "x", "--task", "math"], "--task"],
      [["lora", "train", "--resume", "x", "--rank", "2"], "--rank"],
    ];
    const results = await Promise.all(cases.map(([args]) => tiller([...args, "--runs", runs])));
    results.forEach((r, i) =>
      expectCleanFailure(r, 2, new RegExp(`${cases[i][1]}: fixed by the run's config on --resume`)),
    );
  }, 60_000);

  it("a config.json with wrong types is named as such, not as an engine failure", async () => {
    const dir = copyRun("bad-types");
    const config = readJsonFile(join(dir, "config.json"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({ ...config, batchSize: "x", model: { name: "mlp", hidden: ["a"] } }),
    );
    const r = await tiller(["train", "--resume", "bad-types", "--runs", runs, "-q", "--data-dir", data]);
    expectCleanFailure(
      r,
      1,
      /config\.json: unexpected content \(.*model\.hidden\.0: Expected number.*batchSize: Expected number/,
    );
  }, 60_000);
});

describe("readers and what Tiller writes", () => {
  it("runs show prints a run whose test loss is null (a skipped evaluation or an empty test set)", async () => {
    const dir = copyRun("null-test");
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .map((e) => (e.type === "epoch" ? { ...e, test_loss: null, test_accuracy: null } : e));
    writeFileSync(join(dir, "metrics.jsonl"), lines.map((l) => JSON.stringify(l) + "\n").join(""));
    const r = await tiller(["runs", "show", "null-test", "--runs", runs]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^1\s+\d\.\d{4}\s+[\d.]+%\s+–\s+–/m);
  }, 60_000);

  it("runs list shows the good runs and names each broken entry with its reason", async () => {
    const listRoot = join(parent, "list");
    mkdirSync(listRoot);
    cpSync(join(runs, "base"), join(listRoot, "good"), { recursive: true });
    mkdirSync(join(listRoot, "null-config"));
    writeFileSync(join(listRoot, "null-config", "config.json"), "null");
    symlinkSync(join(parent, "nowhere"), join(listRoot, "dangling"));
    const r = await tiller(["runs", "list", "--runs", listRoot]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^good\s+mlp\s+adam/m);
    expect(r.stdout).toMatch(/^dangling\s.*broken/m);
    expect(r.stdout).toMatch(/^ {2}null-config: config\.json: not a run config/m);
    expect(r.stdout).toMatch(/^ {2}dangling: a symbolic link to nothing/m);
    const json = JSON.parse((await tiller(["runs", "list", "--runs", listRoot, "--json"])).stdout) as {
      id: string;
      broken?: string;
    }[];
    expect(json.map((e) => [e.id, Boolean(e.broken)])).toEqual([
      ["good", false],
      ["dangling", true],
      ["null-config", true],
    ]);
  }, 60_000);

  it("init compare with every row diverged exits 1, as optim compare does", async () => {
    const r = await tiller([
      ...["init", "compare", "--inits", "scaled_orthogonal", "--init-scale", "1e30", "--epochs", "1"],
      ...["--hidden", "8", "--limit", "64", "--data-dir", data, "--runs", runs, "-q"],
    ]);
    expect(r.status, r.stderr + r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^scaled_orthogonal\s+nan/m);
  }, 120_000);

  it("an optim compare stopped before any epoch ended records 0 epochs completed", async () => {
    const child = spawnTiller([
      ...["optim", "compare", "--optimizers", "sgd,adam", "--epochs", "50", "--hidden", "8"],
      ...["--data-dir", data, "--runs", runs, "--name", "cut", "-q", "--log-every", "1"],
    ]);
    const metrics = join(runs, "cut", "members", "sgd", "metrics.jsonl");
    const deadline = Date.now() + 60_000;
    while (
      Date.now() < deadline &&
      !(existsSync(metrics) && readFileSync(metrics, "utf8").includes('"step"'))
    )
      await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGINT");
    await new Promise((r) => child.on("exit", r));
    const status = readJsonFile<{ status: string; epochsCompleted: number }>(
      join(runs, "cut", "status.json"),
    );
    expect(status.status).toBe("interrupted");
    const done = new Run(join(runs, "cut", "members", "sgd"))
      .metrics()
      .filter((m) => m.type === "epoch").length;
    expect(done).toBeLessThan(50);
    // The adam member never started: no epoch was finished by every member.
    expect(status.epochsCompleted).toBe(0);
  }, 120_000);
});

describe("the lab's job queue", () => {
  it("refuses a job beyond its queue limit with 429, saying so", async () => {
    // One job runs and never ends, so the others wait.
    const queue = new JobQueue({ runsRoot: runs, maxQueued: 2, launcher: () => spawn("sleep", ["600"]) });
    const job = (i: number) => ({
      kind: "train",
      model: "mlp",
      optimizer: "adam",
      lr: 0.001,
      epochs: 1,
      name: `q${i}`,
    });
    try {
      for (const i of [1, 2, 3]) queue.submit(job(i));
      expect(queue.list().map((j) => j.status)).toEqual(["queued", "queued", "running"]);
      let refused: unknown;
      try {
        queue.submit(job(4));
      } catch (e) {
        refused = e;
      }
      expect(refused).toBeInstanceOf(LabRequestError);
      expect((refused as LabRequestError).status).toBe(429);
      expect((refused as Error).message).toMatch(/the job queue is full \(2 jobs waiting, the limit is 2\)/);
    } finally {
      await queue.close(1000);
    }
  });
});

describe("a full disk", () => {
  it("a checkpoint's ENOSPC is the error reported even when the status cannot be written either", async () => {
    const { startEngine } = await import("../../src/engine/device.js");
    const { loadFashionMnist } = await import("../../src/data/fashion-mnist.js");
    const { resolveTrainConfig } = await import("../../src/train/session.js");
    const { train } = await import("../../src/train/loop.js");
    await startEngine();
    const config = resolveTrainConfig(
      {
        model: "mlp",
        modelOptions: { hidden: [8] },
        optimizer: { name: "sgd", lr: 0.01 },
        epochs: 1,
        batchSize: 64,
        seed: 0,
        logEvery: 1,
      },
      "enospc",
    );
    /** The disk fills as the first checkpoint is written: that write and every later status write fail. */
    class FullDisk extends Run {
      full = false;
      override saveCheckpoint(): void {
        this.full = true;
        throw new Error(`cannot write ${this.path("checkpoints", "epoch-1.safetensors")}: ENOSPC`);
      }
      override setStatus(...args: Parameters<Run["setStatus"]>): void {
        if (this.full) throw new Error(`cannot write ${this.path("status.json")}: ENOSPC`);
        super.setStatus(...args);
      }
    }
    Run.create(runs, "enospc", config).release();
    const run = new FullDisk(join(runs, "enospc"));
    await expect(train(config, loadFashionMnist({ dataDir: data }), run)).rejects.toThrow(
      /cannot write .*epoch-1\.safetensors: ENOSPC/,
    );
  });

  const mount = join(parent, "tmpfs");
  const mounted = (() => {
    mkdirSync(mount);
    return spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mount]).status === 0;
  })();

  it.skipIf(!mounted)(
    "train --name X on a full disk fails with one line and leaves no folder; X works once space is back",
    async () => {
      const filler = join(mount, "filler");
      // Fill the tmpfs to the last byte.
      spawnSync("sh", ["-c", `cat /dev/zero > "${filler}"`]);
      const r = await tiller(tinyTrain(mount, data, "X", ["--epochs", "1"]));
      expectCleanFailure(r, 1, /ENOSPC/);
      expect(existsSync(join(mount, "X"))).toBe(false);
      rmSync(filler);
      const again = await tiller(tinyTrain(mount, data, "X", ["--epochs", "1"]));
      expect(again.status, again.stderr).toBe(0);
    },
    120_000,
  );
});
