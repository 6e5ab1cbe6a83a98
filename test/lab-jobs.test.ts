/**
 * Jobs started from the lab: real `tiller train` child processes writing into the runs folder,
 * with their progress in the run list; and the queue's own behaviour (order, cancel, failure)
 * with small stand-in commands in place of training.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveDataDir } from "../src/data/fashion-mnist.js";
import { JobQueue, jobCommand, parseJobRequest, type Launcher } from "../src/lab/jobs.js";
import { startLab, type Lab } from "../src/lab/server.js";
import { makeStore } from "./lab-fixture.js";

const hasData = existsSync(resolveDataDir());

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.close();
  lab = undefined;
});

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => `${p}:${statSync(join(dir, p)).mtimeMs}`)
    .sort();
}

describe.runIf(hasData)("a training job started from the lab", () => {
  it("runs tiller train as a child process, writes only its run, and the list shows its progress", async () => {
    const store = makeStore([]);
    const outsideBefore = tree(store.parent).filter((p) => !p.startsWith("runs"));
    lab = await startLab({ runsRoot: store.root, port: 0, pollMs: 50 });
    const res = await fetch(new URL("/api/jobs", lab.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        kind: "train",
        model: "mlp",
        optimizer: "sgd",
        lr: 0.05,
        epochs: 1,
        limit: 500,
        batchSize: 100,
      }),
    });
    expect(res.status).toBe(202);
    const job = (await res.json()) as { id: string; runId: string; args: string[] };
    expect(job.args.slice(0, 3)).toEqual(["train", "--model", "mlp"]);

    type Listed = { id: string; status: string; progress?: { fraction: number }; job?: { status: string } };
    const listed = async () => {
      const { runs } = (await (await fetch(new URL("/api/runs", lab!.url))).json()) as { runs: Listed[] };
      return runs.find((r) => r.id === job.runId);
    };
    const jobStatus = async () =>
      ((await (await fetch(new URL(`/api/jobs/${job.id}`, lab!.url))).json()) as { status: string }).status;
    // Poll until the job has ended; the job is asked first, so a list read after that is never older.
    let ended = await jobStatus();
    while (ended === "running" || ended === "queued") {
      await new Promise((r) => setTimeout(r, 100));
      ended = await jobStatus();
    }
    const run = await listed();
    expect(run?.job?.status).toBe(ended);
    const fractions = run?.progress ? [run.progress.fraction] : [];
    const done = await lab.jobs.settled(job.id);
    expect(done.status, done.log).toBe("done");
    expect(done.exitCode).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    const status = JSON.parse(readFileSync(join(store.root, job.runId, "status.json"), "utf8"));
    expect(status.status).toBe("done");
    const lines = readFileSync(join(store.root, job.runId, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n");
    expect(lines.filter((l) => l.includes('"type":"step"')).length).toBeGreaterThanOrEqual(1);
    expect(readdirSync(store.root)).toEqual([job.runId]);
    expect(tree(store.parent).filter((p) => !p.startsWith("runs"))).toEqual(outsideBefore);
  });
});

/** A launcher running `node -e <script>` in place of tiller; the script sees the job's args. */
function scriptLauncher(script: string): Launcher {
  return (args, env) =>
    spawn(process.execPath, ["-e", script, "--", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
}

const trainJob = (name: string) => ({
  kind: "train",
  model: "mlp",
  optimizer: "adam",
  lr: 0.001,
  epochs: 1,
  name,
});

describe("the job queue", () => {
  it("runs jobs one at a time in the order they came, keeping their output", async () => {
    const { root } = makeStore([]);
    const starts: string[] = [];
    const jobs = new JobQueue({
      runsRoot: root,
      launcher: (args, env) => {
        starts.push(args[args.indexOf("--name") + 1]);
        return scriptLauncher(`console.log("start " + process.argv.at(-1)); setTimeout(() => {}, 150)`)(
          args,
          env,
        );
      },
    });
    const a = jobs.submit(trainJob("run-a"));
    const b = jobs.submit(trainJob("run-b"));
    expect(jobs.get(a.id).status).toBe("running");
    expect(jobs.get(b.id).status).toBe("queued");
    const first = await jobs.settled(a.id);
    const second = await jobs.settled(b.id);
    expect(starts).toEqual(["run-a", "run-b"]);
    expect(first.log).toContain("start run-a");
    expect(second.status).toBe("done");
    expect(Date.parse(second.startedAt!)).toBeGreaterThanOrEqual(Date.parse(first.endedAt!));
    await jobs.close();
  });

  it("cancels a running job with SIGTERM and drops a queued one", async () => {
    const { root } = makeStore([]);
    const jobs = new JobQueue({
      runsRoot: root,
      launcher: scriptLauncher(
        `process.on("SIGTERM", () => { console.log("got SIGTERM"); process.exit(130); }); console.log("ready"); setInterval(() => {}, 1000)`,
      ),
    });
    const running = jobs.submit(trainJob("long-a"));
    const queued = jobs.submit(trainJob("long-b"));
    while (!jobs.get(running.id).log.includes("ready")) await new Promise((r) => setTimeout(r, 20));
    expect(jobs.cancel(queued.id).status).toBe("cancelled");
    jobs.cancel(running.id);
    const ended = await jobs.settled(running.id);
    expect(ended.status).toBe("cancelled");
    expect(ended.exitCode).toBe(130);
    expect(ended.log).toContain("got SIGTERM");
    expect(jobs.get(queued.id).startedAt).toBeUndefined();
    await jobs.close();
  });

  it("reports a command that fails, with the end of its output", async () => {
    const { root } = makeStore([]);
    const jobs = new JobQueue({
      runsRoot: root,
      logBytes: 64,
      launcher: scriptLauncher(`console.error("x".repeat(500) + " tiller: error: no data"); process.exit(1)`),
    });
    const job = await jobs.settled(jobs.submit(trainJob("fails")).id);
    expect(job.status).toBe("failed");
    expect(job.exitCode).toBe(1);
    expect(job.log.length).toBeLessThanOrEqual(64);
    expect(job.log).toContain("tiller: error: no data");
  });
});

describe("job commands", () => {
  it("turns each form into the tiller command line a person would type", () => {
    const train = jobCommand(
      parseJobRequest({
        kind: "train",
        model: "mlp",
        optimizer: "sgd",
        lr: 0.05,
        epochs: 2,
        limit: 500,
        name: "t1",
      }),
      "/runs",
    );
    expect(train.args).toEqual(
      "train --model mlp --optimizer sgd --lr 0.05 --epochs 2 --limit 500 --runs /runs --name t1".split(" "),
    );
    const compare = jobCommand(
      parseJobRequest({
        kind: "optim-compare",
        model: "mlp",
        optimizers: ["sgd", "adam"],
        epochs: 1,
        name: "c1",
      }),
      "/runs",
    );
    expect(compare.args).toEqual(
      "optim compare --model mlp --optimizers sgd,adam --epochs 1 --runs /runs --name c1".split(" "),
    );
    const surface = jobCommand(parseJobRequest({ kind: "landscape-surface", run: "r1", steps: 12 }), "/runs");
    expect(surface.args).toEqual("landscape surface r1 --runs /runs --steps 12".split(" "));
    expect([train.newRun, compare.newRun, surface.newRun]).toEqual([true, true, false]);
  });

  it("refuses a comparison that names an optimiser twice, and a surface of a run that does not exist", () => {
    const { root } = makeStore([{ id: "exists", accuracies: [0.5] }]);
    const jobs = new JobQueue({ runsRoot: root, launcher: scriptLauncher("") });
    expect(() =>
      jobs.submit({ kind: "optim-compare", model: "mlp", optimizers: ["adam", "adam"], epochs: 1 }),
    ).toThrow(/each optimiser may appear once/);
    expect(() => jobs.submit({ kind: "landscape-surface", run: "missing" })).toThrow(/no run "missing"/);
    expect(() => jobs.submit({ kind: "landscape-surface", run: "../exists" })).toThrow(/run/);
    const ok = jobs.submit({ kind: "landscape-surface", run: "exists" });
    expect(ok.runId).toBe("exists");
    expect(jobs.forRun("exists")?.id).toBe(ok.id);
    return jobs.close();
  });
});
