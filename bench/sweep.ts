/**
 * `node --import tsx bench/sweep.ts [--limit N] [--rounds R] [--out docs/figures] [--queue-only]`: the sweep benchmark of issue 24.
 *
 * 1. Throughput: the 3 × 4 grid (SGD, Adam, Lion × learning rates 1e-4 … 1e-1, one epoch of
 *    Fashion-MNIST, the default MLP 784-512-64-10) on one local worker with every core, then on
 *    one worker per core with one thread each; wall time of each and the ratio.
 * 2. The queue's own cost per run: twelve tiny runs (256 images, 8 hidden units) on one local
 *    worker, then through BullMQ on a throwaway redis-server with one `tiller worker` started (and
 *    idle) beforehand; wall time per run of each, and BullMQ's own timestamps: enqueue → a worker
 *    takes the job, and the run's status.json → the sweep sees it.
 * Prints a Markdown table for bench/NOTES.md and writes the grid's table and parallel-coordinates
 * figure (SVG) for docs/sweeps.md. Not a test: numbers depend on the machine and its load.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parallelSpec } from "../src/report/parallel.js";
import { renderSvg } from "../src/report/vega.js";
import { sweepRows } from "../src/sweep/results.js";
import { parseSweepSpec, type SweepSpec } from "../src/sweep/spec.js";
import { readSweepRecord } from "../src/sweep/store.js";
import { DEFAULT_QUEUE_NAME } from "../src/sweep/queue.js";
import { runSweep, type SweepEvent, type SweepOptions } from "../src/sweep/sweep.js";
import { startRedis } from "../test/sweep/redis.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const limit = Number(arg("limit", "60000"));
const outDir = arg("out", "docs/figures");
const rounds = Number(arg("rounds", "1"));

const gridSpec = (name: string): SweepSpec =>
  parseSweepSpec({
    name,
    command: "train",
    fixed: { epochs: 1, limit, dynamics: "off" },
    grid: { optimizer: ["sgd", "adam", "lion"], lr: { min: 1e-4, max: 1e-1, count: 4, scale: "log" } },
  });

const tinySpec = (name: string): SweepSpec =>
  parseSweepSpec({
    name,
    command: "train",
    fixed: { epochs: 1, limit: 256, hidden: [8], batchSize: 64, dynamics: "off" },
    grid: { optimizer: ["sgd", "adam", "lion"], lr: [1e-4, 1e-3, 1e-2, 1e-1] },
  });

async function timed(
  spec: SweepSpec,
  opts: SweepOptions,
): Promise<{ seconds: number; events: SweepEvent[] }> {
  const events: SweepEvent[] = [];
  const t0 = performance.now();
  for await (const e of runSweep(spec, opts)) events.push(e);
  const last = events.at(-1);
  if (last?.type !== "done" || last.failed || last.notRun)
    console.error(`warning: ${spec.name}: ${JSON.stringify(last)}`);
  return { seconds: (performance.now() - t0) / 1000, events };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(", ");

/** The two set-ups alternated `rounds` times (A B A B …), so a change in the machine's load hits both. */
async function throughput(cores: number, rounds: number) {
  const root = mkdtempSync(join(tmpdir(), "tiller-bench-sweep-"));
  const one: number[] = [];
  const many: number[] = [];
  for (let r = 0; r < rounds; r++) {
    console.error(`grid, 1 worker × ${cores} threads… (load ${load()})`);
    one.push(
      (await timed(gridSpec("bench-1x"), { runsRoot: join(root, `a${r}`), workers: 1, threads: cores }))
        .seconds,
    );
    console.error(`grid, ${cores} workers × 1 thread… (load ${load()})`);
    many.push(
      (await timed(gridSpec("bench-nx"), { runsRoot: join(root, `b${r}`), workers: cores, threads: 1 }))
        .seconds,
    );
  }
  return { one, many, root: join(root, "b0") };
}

async function queueCost() {
  const root = mkdtempSync(join(tmpdir(), "tiller-bench-queue-"));
  console.error(`queue cost: 12 tiny runs on 1 local worker… (load ${load()})`);
  const local = await timed(tinySpec("tiny-local"), {
    runsRoot: join(root, "local"),
    workers: 1,
    threads: 1,
  });
  const redis = await startRedis();
  const store = join(root, "queue");
  mkdirSync(store, { recursive: true });
  const worker = spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "worker", "--queue", redis.url, "--runs", store],
    {
      env: { ...process.env, TILLER_THREADS: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  await new Promise<void>((resolve) =>
    worker.stderr.on("data", (d: Buffer) => /taking runs/.test(d.toString()) && resolve()),
  );
  console.error(`queue cost: 12 tiny runs through BullMQ on 1 tiller worker… (load ${load()})`);
  const queued = await timed(tinySpec("tiny-queue"), { runsRoot: store, queue: { url: redis.url } });
  const handoff = await handoffs(redis.port);
  worker.kill("SIGTERM");
  await redis.stop();
  const finished = queued.events.flatMap((e) =>
    e.type === "finished" && "queue" in e && e.queue ? [e.queue] : [],
  );
  return {
    localPerRun: local.seconds / 12,
    queuePerRun: queued.seconds / 12,
    // The first job: taken by the idle worker, so this is the queue's hand-off alone.
    firstWaitMs: finished.length ? Math.min(...finished.map((q) => q.waitMs).filter(Number.isFinite)) : NaN,
    recordMs: median(finished.map((q) => q.recordMs)),
    handoffMs: median(handoff),
  };
}

/** BullMQ's own timestamps of the finished jobs: a job finished → the worker took the next one. */
async function handoffs(port: number): Promise<number[]> {
  const { Queue } = await import("bullmq");
  const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: { host: "127.0.0.1", port } });
  const jobs = (await queue.getJobs(["completed"])).sort(
    (a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0),
  );
  await queue.close();
  return jobs.slice(1).map((j, i) => (j.processedOn ?? NaN) - (jobs[i].finishedOn ?? NaN));
}

async function figure(root: string) {
  const record = readSweepRecord(root, "bench-nx");
  const rows = sweepRows(root, record);
  const runs = rows.map((r) => ({ id: r.id, values: r.values, metric: r.final_accuracy }));
  const title = "Optimiser × learning rate, 1 epoch of Fashion-MNIST: final test accuracy";
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, "sweep-optim-lr.svg"),
    await renderSvg(parallelSpec(runs, record.swept, "final_accuracy", { title })),
  );
  const table = rows
    .map(
      (r) =>
        `| ${r.values.optimizer} | ${r.values.lr} | ${r.state} | ${((r.final_accuracy ?? NaN) * 100).toFixed(2)} % | ${r.final_loss?.toFixed(4)} | ${r.seconds?.toFixed(1)} s |`,
    )
    .join("\n");
  return `| optimizer | lr | status | final test accuracy | final test loss | time |\n| --- | --- | --- | --- | --- | --- |\n${table}`;
}

const cores = availableParallelism();
const started = load();
const queueOnly = process.argv.includes("--queue-only");
const t = queueOnly ? { one: [], many: [], root: "" } : await throughput(cores, rounds);
const q = await queueCost();
const table = queueOnly ? "" : await figure(t.root);
console.log(`load average at start: ${started}; at end: ${load()}; ${cores} cores; limit ${limit}\n`);
console.log("| what | wall time |\n| --- | --- |");
const secs = (xs: number[]) => xs.map((x) => `${x.toFixed(1)} s`).join(", ");
const ratios = t.many.map((m, i) => (m / t.one[i]).toFixed(2)).join(", ");
if (t.one.length) {
  console.log(`| 3 × 4 grid, 1 worker × ${cores} threads | ${secs(t.one)} |`);
  console.log(`| 3 × 4 grid, ${cores} workers × 1 thread | ${secs(t.many)} (${ratios}×) |`);
}
console.log(`| 12 tiny runs, 1 local worker | ${q.localPerRun.toFixed(2)} s a run |`);
console.log(`| 12 tiny runs, BullMQ + 1 tiller worker | ${q.queuePerRun.toFixed(2)} s a run |`);
console.log(
  `\nBullMQ: enqueue → taken by an idle worker ${q.firstWaitMs.toFixed(0)} ms (the first job); a job finished → the worker takes the next ${q.handoffMs.toFixed(0)} ms (median); status.json done → the sweep sees it ${q.recordMs.toFixed(0)} ms (median)\n`,
);
console.log(table);
process.exit(0);
