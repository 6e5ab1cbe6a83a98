/**
 * Crash safety: training and an analysis are SIGKILLed at random points (start-up, mid-epoch,
 * mid-checkpoint) and started again until they finish; the result matches a run never interrupted,
 * bit for bit, and a partly written checkpoint is never loaded. Default suite: a few kills;
 * TILLER_LONG: many cycles and several seeds.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../../src/engine/safetensors.js";
import { LONG, readJsonFile, spawnTiller, tiller, tinyTrain, writeDataDir } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tiller-crash-"));
const runs = join(root, "runs");
const data = join(root, "data");

/** A seeded generator for the kill times, so a failure can be replayed (the seed is in the message). */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/**
 * Starts `first`, then `again` after each kill, each time SIGKILLing it `delay()` ms after it
 * started (or after `armed` says so), until one exits by itself. Returns the kills survived and the
 * last exit code.
 */
async function killUntilDone(opts: {
  first: string[];
  again: string[];
  kills: number;
  delay: () => number;
  armed?: () => boolean;
}): Promise<{ kills: number; code: number | null; stderr: string }> {
  let kills = 0;
  for (;;) {
    const child = spawnTiller(kills === 0 ? opts.first : opts.again);
    let stderr = "";
    child.stderr?.on("data", (c) => (stderr += c));
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const wantKill = kills < opts.kills;
    let killed = false;
    if (wantKill) {
      const ms = opts.delay();
      const started = Date.now();
      const timer = setInterval(() => {
        if (Date.now() - started >= ms && (opts.armed?.() ?? true)) {
          killed = child.kill("SIGKILL");
          clearInterval(timer);
        }
      }, 2);
      void exited.then(() => clearInterval(timer));
    }
    const code = await exited;
    if (killed && code === null) kills++;
    else return { kills, code, stderr };
  }
}

function weights(dir: string, epoch: number) {
  return decodeSafetensors(readFileSync(join(dir, "checkpoints", `epoch-${epoch}.safetensors`))).tensors;
}

function expectSameWeights(a: string, b: string, epoch: number) {
  const wa = weights(a, epoch);
  const wb = weights(b, epoch);
  expect(Object.keys(wb).sort()).toEqual(Object.keys(wa).sort());
  for (const name of Object.keys(wa))
    expect(Array.from(wb[name].data), name).toEqual(Array.from(wa[name].data));
}

/** metrics.jsonl without what depends on the clock or the machine. */
function metricsOf(dir: string) {
  return readFileSync(join(dir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const { elapsed_s, rss_bytes, ...rest } = JSON.parse(l) as Record<string, unknown>;
      void elapsed_s;
      void rss_bytes;
      return rest;
    });
}

const EPOCHS = 3;
const trainArgs = (name: string, seed: number) =>
  tinyTrain(runs, data, name, [
    ...["--epochs", String(EPOCHS), "--batch-size", "8", "--log-every", "1", "--seed", String(seed)],
    ...["--optimizer", "adam", "--lr", "0.003", "--dynamics", "epoch"],
  ]);
const resumeArgs = (dir: string) => ["train", "--resume", dir, "-q", "--no-report"];

/** dynamics.jsonl: every number of the recorder, exact. */
const dynamicsOf = (dir: string) => readFileSync(join(dir, "dynamics.jsonl"), "utf8").trim().split("\n");

beforeAll(() => {
  writeDataDir(data);
});

describe("training killed with SIGKILL at random points", () => {
  const seeds = LONG ? [1, 2, 3] : [1];
  const killsPerRun = LONG ? 8 : 2;
  let survived = 0;

  for (const seed of seeds)
    it(`seed ${seed}: ${killsPerRun} kills and resumes end with the weights, metrics and dynamics of an uninterrupted run`, async () => {
      const straight = await tiller(trainArgs(`straight-${seed}`, seed));
      expect(straight.status, straight.stderr).toBe(0);
      const dir = join(runs, `killed-${seed}`);
      const rand = random(seed * 7919);
      const metrics = join(dir, "metrics.jsonl");
      const result = await killUntilDone({
        first: trainArgs(`killed-${seed}`, seed),
        again: resumeArgs(dir),
        kills: killsPerRun,
        // 0–2.5 s after start: start-up, restore, steps, evaluation and checkpoint writes all get hit.
        delay: () => rand() * 2500,
        // The first process is killed only once its run exists (before that there is nothing to resume).
        armed: () => existsSync(metrics),
      });
      expect(result.code, `${result.stderr} (seed ${seed})`).toBe(0);
      survived += result.kills;
      expect(readJsonFile(join(dir, "status.json"))).toMatchObject({
        status: "done",
        epochsCompleted: EPOCHS,
      });
      expectSameWeights(join(runs, `straight-${seed}`), dir, EPOCHS);
      expect(metricsOf(dir)).toEqual(metricsOf(join(runs, `straight-${seed}`)));
      expect(dynamicsOf(dir)).toEqual(dynamicsOf(join(runs, `straight-${seed}`)));
      // No temp file was ever renamed into place half-written, and none is picked up later.
      const index = readJsonFile<Record<string, unknown>>(join(dir, "checkpoints", "index.json"));
      expect(Object.keys(index).sort()).toEqual([
        "epoch-1.safetensors",
        "epoch-2.safetensors",
        "epoch-3.safetensors",
      ]);
      console.log(`kill/resume cycles survived (seed ${seed}): ${result.kills}, total ${survived}`);
    }, 600_000);

  it("a checkpoint cut short by a crash (not in the index, or a temp file) is never loaded", async () => {
    const seed = 1;
    const source = join(runs, `straight-${seed}`);
    if (!existsSync(source)) expect((await tiller(trainArgs(`straight-${seed}`, seed))).status).toBe(0);
    // The state a crash during epoch 3's checkpoint leaves: epoch 2 indexed, epoch 3 written in part.
    const dir = join(runs, "partial");
    cpSync(source, dir, { recursive: true });
    const index = readJsonFile<Record<string, unknown>>(join(dir, "checkpoints", "index.json"));
    delete index["epoch-3.safetensors"];
    writeFileSync(join(dir, "checkpoints", "index.json"), JSON.stringify(index));
    const full = readFileSync(join(dir, "checkpoints", "epoch-3.safetensors"));
    writeFileSync(join(dir, "checkpoints", "epoch-3.safetensors"), full.subarray(0, full.length >> 1));
    writeFileSync(join(dir, "checkpoints", `.epoch-3.safetensors.tmp-99999`), full.subarray(0, 100));
    const lines = readFileSync(join(dir, "metrics.jsonl"), "utf8").split("\n");
    const lastEpoch2 = lines.findIndex((l) => l.includes('"type":"epoch","epoch":2'));
    writeFileSync(join(dir, "metrics.jsonl"), lines.slice(0, lastEpoch2 + 5).join("\n") + '\n{"type":"st');
    writeFileSync(
      join(dir, "status.json"),
      JSON.stringify({ status: "running", epochsCompleted: 2, updatedAt: new Date().toISOString() }),
    );
    const r = await tiller(resumeArgs(dir));
    expect(r.status, r.stderr).toBe(0);
    expectSameWeights(source, dir, 3);
    expect(metricsOf(dir)).toEqual(metricsOf(source));
    expect(dynamicsOf(dir)).toEqual(dynamicsOf(source));
  });
});

describe("an analysis killed with SIGKILL at random points", () => {
  it("leaves no partial result, and run again gives the uninterrupted result", async () => {
    const base = join(runs, "analysed");
    expect((await tiller(tinyTrain(runs, data, "analysed"))).status).toBe(0);
    const twin = join(runs, "analysed-twin");
    cpSync(base, twin, { recursive: true });
    const surface = (dir: string) => [
      ...["landscape", "surface", dir, "--directions", "random", "--steps", "9", "--examples", "32"],
      ...["--seed", "4", "--name", "s", "-q"],
    ];
    const straight = await tiller(surface(twin));
    expect(straight.status, straight.stderr).toBe(0);
    const rand = random(17);
    const kills = LONG ? 6 : 1;
    let survived = 0;
    for (let k = 0; k < kills; k++) {
      const r = await killUntilDone({
        first: surface(base),
        again: surface(base),
        kills: 1,
        delay: () => rand() * 3000,
      });
      survived += r.kills;
      // Whatever is on disk after a kill is whole: every landscape file parses.
      for (const f of existsSync(join(base, "landscape")) ? readdirSync(join(base, "landscape")) : [])
        if (f.endsWith(".json") && !f.startsWith("."))
          expect(() => readJsonFile(join(base, "landscape", f)), f).not.toThrow();
        else if (f.endsWith(".safetensors") && !f.startsWith("."))
          expect(() => decodeSafetensors(readFileSync(join(base, "landscape", f))), f).not.toThrow();
    }
    const done = await tiller(surface(base));
    expect(done.status, done.stderr).toBe(0);
    const a = readJsonFile<Record<string, unknown>>(join(twin, "landscape", "s.json"));
    const b = readJsonFile<Record<string, unknown>>(join(base, "landscape", "s.json"));
    const strip = (record: Record<string, unknown>) => {
      const { createdAt, elapsed_s, pointsPerSecond, ...rest } = record;
      void [createdAt, elapsed_s, pointsPerSecond];
      return JSON.stringify(rest).replaceAll("analysed-twin", "analysed");
    };
    expect(strip(b)).toEqual(strip(a));
    console.log(`analysis kill cycles survived: ${survived}`);
  }, 600_000);
});
