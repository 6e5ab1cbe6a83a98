/**
 * Sweeps through BullMQ on a real redis-server (started here on a free loopback port): two
 * `tiller worker` processes give the runs trained one by one, bit for bit; a worker SIGKILLed
 * mid-run leaves a stalled job that the other worker resumes from the run's checkpoint; a Redis
 * restart (no persistence: the queue comes back empty) is noticed and the lost runs queued again;
 * a worker pointed at another runs folder is refused.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Run } from "../../src/runs/store.js";
import { parseSweepSpec } from "../../src/sweep/spec.js";
import { runSweep, type SweepEvent } from "../../src/sweep/sweep.js";
import { exited, gridSpec, hasData, tillerProcess, trainOneByOne, until, weightsDigest } from "./fixture.js";
import { hasRedis, startRedis, type TestRedis } from "./redis.js";

const workerEnv = { TILLER_THREADS: "1", TILLER_QUEUE_LOCK_MS: "4000", TILLER_SWEEP_LEASE_MS: "4000" };

describe.runIf(hasData && hasRedis)("a sweep through Redis", () => {
  let redis: TestRedis;
  const root = mkdtempSync(join(tmpdir(), "tiller-sweep-queue-"));
  const reference = mkdtempSync(join(tmpdir(), "tiller-sweep-qref-"));
  const workers: ReturnType<typeof tillerProcess>[] = [];
  const worker = (runs = root) => {
    const w = tillerProcess(["worker", "--queue", redis.url, "--runs", runs], workerEnv);
    workers.push(w);
    return w;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null) w.child.kill("SIGKILL");
    await redis?.stop();
  });

  async function sweep(
    spec: ReturnType<typeof gridSpec>,
    onEvent: (e: SweepEvent) => void | Promise<void> = () => undefined,
  ) {
    const events: SweepEvent[] = [];
    for await (const e of runSweep(spec, { runsRoot: root, queue: { url: redis.url } })) {
      events.push(e);
      await onEvent(e);
    }
    return events;
  }

  it("two tiller workers give the same runs as one by one, each run on one of them", async () => {
    const spec = gridSpec("queue6");
    const ids = await trainOneByOne(spec, reference);
    const [a, b] = [worker(), worker()];
    const events = await sweep(spec).finally(() => [a, b].forEach((w) => w.child.kill("SIGTERM")));
    expect(events.at(-1)).toMatchObject({ type: "done", done: 6, failed: 0, notRun: 0 });
    for (const id of ids) expect(weightsDigest(root, id, 1), id).toBe(weightsDigest(reference, id, 1));
    const by = new Set(events.flatMap((e) => (e.type === "started" ? [e.worker] : [])));
    expect(by.size).toBe(2);
    // Every run was computed once: one "done" line in the workers' logs per run.
    const lines = (a.log() + b.log()).split("\n").filter((l) => /^done /.test(l) && !/already there/.test(l));
    expect(lines.map((l) => l.split(/\s+/)[1]).sort()).toEqual([...ids].sort());
    expect(await exited(a.child)).toBe(0);
    expect(await exited(b.child)).toBe(0);
  });

  it("a worker SIGKILLed mid-run: the other worker resumes the run from its checkpoint, same final weights", async () => {
    const spec = parseSweepSpec({
      name: "killed",
      command: "train",
      fixed: {
        ...{ hidden: [64], epochs: 2, limit: 4000, batchSize: 64, seed: 7, optimizer: "adam", lr: 0.001 },
        dynamics: "off",
      },
    });
    const [id] = await trainOneByOne(spec, reference);
    const first = worker();
    const done = sweep(spec);
    const dir = join(root, id);
    await until(
      "the first epoch's checkpoint",
      () => existsSync(join(dir, "config.json")) && new Run(dir).epochCheckpoints().length >= 1,
    );
    expect(new Run(dir).status().status).toBe("running");
    first.child.kill("SIGKILL");
    const second = worker();
    const events = await done;
    expect(events.at(-1)).toMatchObject({ type: "done", done: 1, failed: 0 });
    expect(second.log()).toMatch(new RegExp(`done +${id} \\(resumed from its checkpoint\\)`));
    expect(weightsDigest(root, id, 2)).toBe(weightsDigest(reference, id, 2));
    const epochs = new Run(dir)
      .metrics()
      .filter((m) => m.type === "epoch")
      .map((m) => (m as { epoch: number }).epoch);
    expect(epochs).toEqual([1, 2]); // recorded once each, whatever the retries
    second.child.kill("SIGTERM");
    await exited(second.child);
  });

  it("a Redis restart that empties the queue: the sweep says what it lost, queues it again and completes", async () => {
    const spec = gridSpec(
      "restart",
      { seed: 5, lr: 0.01, epochs: 2 },
      { optimizer: ["sgd", "adam", "lion"] },
    );
    const w = worker();
    let restarted = false;
    const events = await sweep(spec, async (e) => {
      if (e.type === "finished" && !restarted) {
        restarted = true;
        await redis.restart();
      }
    });
    const lost = events.find((e) => e.type === "lost");
    expect(lost, JSON.stringify(events)).toBeDefined();
    expect(events.at(-1)).toMatchObject({ type: "done", done: 3, failed: 0, notRun: 0 });
    w.child.kill("SIGTERM");
    await exited(w.child);
  });

  it("a worker whose --runs is not the sweep's run store is refused with one line and exit code 2", async () => {
    const spec = gridSpec("elsewhere", { seed: 9 }, { optimizer: ["sgd"] });
    const wrong = worker(mkdtempSync(join(tmpdir(), "tiller-not-the-store-")));
    const done = sweep(spec);
    expect(await exited(wrong.child)).toBe(2);
    expect(wrong.log()).toMatch(
      /tiller: error: this worker's --runs .* is not the run store of sweep "elsewhere"/,
    );
    const right = worker();
    expect((await done).at(-1)).toMatchObject({ type: "done", done: 1 });
    right.child.kill("SIGTERM");
    await exited(right.child);
    expect(readFileSync(join(root, "sweeps", "elsewhere", "sweep.json"), "utf8")).not.toMatch(/redis:/);
  });
});
