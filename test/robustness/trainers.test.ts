/**
 * Every trainer passes the same two tests (issue 23), on tiny sizes so each takes seconds:
 *
 *   kill/resume: SIGKILL once the run has logged a random step k, resume, and the final weights and
 *     every .jsonl file of the run equal those of an uninterrupted run (clock fields aside);
 *   NaN: a setting that overflows stops the run `diverged` (exit 1) at the first non-finite step,
 *     naming it, with nothing logged after it and every logged loss before it finite.
 *
 * The seed of the kill step is in each test's name, so a failure can be replayed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startEngine } from "../../src/engine/device.js";
import { keyFromSeed } from "../../src/engine/prng.js";
import { decodeSafetensors } from "../../src/engine/safetensors.js";
import { toHost } from "../../src/engine/tree.js";
import { lmInit } from "../../src/lm/model.js";
import { presetConfig } from "../../src/lm/presets.js";
import { pretrainRunConfig, PRETRAIN_DEFAULTS } from "../../src/lm/pretrain.js";
import { LM_CHECKPOINT, saveLm } from "../../src/lm/store.js";
import { Run } from "../../src/runs/store.js";
import { readJsonFile, spawnTiller, tiller, writeDataDir, type CliResult } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tiller-trainers-"));
const data = join(root, "data");
const base = join(root, "base");

/** A base LM in the format `lm pretrain` writes (random weights: the tests exercise training, not skill). */
beforeAll(async () => {
  writeDataDir(data);
  await startEngine();
  const run = Run.create(
    root,
    "base",
    pretrainRunConfig({ ...PRETRAIN_DEFAULTS, tasks: ["math"], size: "tiny", steps: 1 }),
  );
  await saveLm(run, lmInit(keyFromSeed(0), presetConfig("tiny")));
  run.setStatus("done", 1);
}, 60_000);

type TrainerCase = {
  name: string;
  /** Starts a run called `name` in `runs`. */
  fresh(runs: string, name: string): string[];
  /** Continues it. */
  resume(dir: string): string[];
  /** The step lines are numbered 1..last; the kill comes after a random one of them before the last. */
  last: number;
  /** The files holding the final weights. */
  weights: string[];
  /** Makes the run `runs/nan` reach a step whose loss or gradient is non-finite. */
  diverge(runs: string): Promise<CliResult>;
  /** Steps done so far in a run directory (default: the highest step its metrics.jsonl logged). */
  progress?(dir: string): number;
  /** The training run inside `runs/nan` that diverges (default: itself). */
  diverged?: string;
  /** A result file whose clock-free part must match too: [file, that part]. */
  result?: [string, (json: Record<string, unknown>) => unknown];
};

const caseNamed = (name: string) => CASES.find((c) => c.name === name)!;

const vision = [
  "--hidden",
  "8",
  "--batch-size",
  "32",
  "--epochs",
  "2",
  "--seed",
  "1",
  "--data-dir",
  data,
  "-q",
];
const adapter = (cmd: string) => (runs: string, name: string) => [
  ...[cmd, "train", "--base", base, "--task", "math", "--steps", "6", "--batch-size", "4"],
  ...[
    "--train-examples",
    "16",
    "--eval-every",
    "3",
    "--eval-examples",
    "4",
    "--runs",
    runs,
    "--name",
    name,
    "-q",
  ],
];

const CASES: TrainerCase[] = [
  {
    name: "train",
    fresh: (runs, name) => [
      ...["train", ...vision, "--log-every", "1", "--dynamics", "epoch", "--no-report"],
      ...["--runs", runs, "--name", name],
    ],
    resume: (dir) => ["train", "--resume", dir, "-q", "--no-report"],
    last: 16,
    weights: ["checkpoints/epoch-2.safetensors"],
    // Biases of 1e38: the first logits overflow.
    diverge: (runs) =>
      tiller([...caseNamed("train").fresh(runs, "nan"), "--init", "kaiming_normal", "--bias-init", "1e38"]),
  },
  {
    name: "ct pretrain",
    fresh: (runs, name) => [
      ...["ct", "pretrain", "--task", "fashion-mnist:0-4", "--model", "mlp", ...vision],
      ...["--runs", runs, "--name", name],
    ],
    resume: (dir) => ["train", "--resume", dir, "-q", "--no-report", "--dynamics", "off"],
    // 4 steps an epoch, logged at each epoch's end: the kill comes in epoch 2.
    last: 5,
    weights: ["checkpoints/epoch-2.safetensors"],
    // Adam at lr 1e30 throws the weights to ±1e30 at step 1; step 2's logits overflow.
    diverge: (runs) => tiller([...caseNamed("ct pretrain").fresh(runs, "nan"), "--lr", "1e30"]),
  },
  {
    name: "optim compare",
    fresh: (runs, name) => [
      ...["optim", "compare", "--optimizers", "sgd,adam", ...vision, "--log-every", "1"],
      ...["--runs", runs, "--name", name],
    ],
    resume: (dir) => ["optim", "compare", "--resume", dir, "-q"],
    // 16 steps per member, counted over both members.
    last: 32,
    progress: (dir) => loggedStep(join(dir, "members", "sgd")) + loggedStep(join(dir, "members", "adam")),
    weights: ["members/sgd/checkpoints/epoch-2.safetensors", "members/adam/checkpoints/epoch-2.safetensors"],
    // A member from --config at lr 1e30 (the config file is not bounded like --lr).
    diverge(runs) {
      const config = join(runs, "boom.json");
      mkdirSync(runs, { recursive: true });
      writeFileSync(config, JSON.stringify({ boom: { name: "sgd", lr: 1e30 } }));
      const args = caseNamed("optim compare").fresh(runs, "nan");
      args.splice(args.indexOf("--optimizers"), 2, "--config", config);
      return tiller(args);
    },
    diverged: "members/boom",
  },
  {
    name: "init compare",
    fresh: (runs, name) => [
      ...[
        "init",
        "compare",
        "--inits",
        "xavier_uniform,kaiming_normal",
        "--hidden",
        "8",
        "--batch-size",
        "32",
      ],
      ...[
        "--epochs",
        "2",
        "--seed",
        "1",
        "--data-dir",
        data,
        "--log-every",
        "1",
        "--runs",
        runs,
        "--name",
        name,
        "-q",
      ],
    ],
    resume: (dir) => ["init", "compare", "--resume", dir, "-q"],
    last: 32,
    progress: (dir) =>
      loggedStep(join(dir, "methods", "xavier_uniform")) + loggedStep(join(dir, "methods", "kaiming_normal")),
    weights: [
      "methods/xavier_uniform/checkpoints/epoch-2.safetensors",
      "methods/kaiming_normal/checkpoints/epoch-2.safetensors",
    ],
    // SGD at lr 1e30: step 1 throws the weights to ~1e28, step 2's logits overflow.
    diverge: (runs) =>
      tiller([...caseNamed("init compare").fresh(runs, "nan"), "--optimizer", "sgd", "--lr", "1e30"]),
    diverged: "methods/xavier_uniform",
    // The table, convergence speed included (it needs every step's loss, kept across the kill).
    result: [
      "table.json",
      (t) => (t.rows as Record<string, unknown>[]).map(({ executionTime: _t, ...row }) => row),
    ],
  },
  {
    name: "svf train",
    fresh: adapter("svf"),
    resume: (dir) => ["svf", "train", "--resume", dir, "-q"],
    last: 6,
    weights: ["checkpoints/expert.safetensors"],
    // z = max_mult · σ(p) with max_mult beyond float32: the first forward pass overflows.
    diverge: (runs) => tiller([...adapter("svf")(runs, "nan"), "--max-mult", "1e39"]),
  },
  {
    name: "lora train",
    fresh: adapter("lora"),
    resume: (dir) => ["lora", "train", "--resume", dir, "-q"],
    last: 6,
    weights: ["checkpoints/expert.safetensors"],
    // Adam at lr 1e30 throws B to ±1e30 at step 1; step 2's logits overflow.
    diverge: (runs) => tiller([...adapter("lora")(runs, "nan"), "--lr", "1e30"]),
  },
  {
    name: "lm pretrain",
    fresh: (runs, name) => [
      ...["lm", "pretrain", "--size", "tiny", "--tasks", "math", "--steps", "30", "--batch-size", "4"],
      ...["--eval-every", "20", "--eval-examples", "4", "--checkpoint-every", "10"],
      ...["--runs", runs, "--name", name, "-q"],
    ],
    resume: (dir) => ["lm", "pretrain", "--resume", dir, "-q"],
    // Steps are logged every 10: the kill comes after step 10 or 20, around its checkpoint.
    last: 21,
    weights: ["checkpoints/model.safetensors"],
    diverge: (runs) => tiller([...caseNamed("lm pretrain").fresh(runs, "nan"), "--lr", "1e30"]),
  },
];

/** A seeded choice of the kill step (xorshift), so a failure names what to replay. */
function killStep(seed: number, last: number): number {
  let s = seed >>> 0 || 1;
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return 1 + ((s >>> 0) % (last - 1));
}

type Line = Record<string, unknown>;

/** A .jsonl file's records without what depends on the clock or the machine. */
function records(file: string): Line[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const { elapsed_s: _t, rss_bytes: _m, ...rest } = JSON.parse(l) as Line;
      return rest;
    });
}

/** Every .jsonl file under a run directory (a comparison's members too), as relative paths. */
const jsonl = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl")).sort();

/** The highest step (or epoch) a run has logged. */
function loggedStep(dir: string): number {
  const file = join(dir, "metrics.jsonl");
  if (!existsSync(file)) return 0;
  let top = 0;
  for (const l of readFileSync(file, "utf8").split("\n")) {
    if (!l.endsWith("}")) continue; // a line being written
    const m = JSON.parse(l) as Line;
    if ((m.type === "step" || m.type === "rl_step") && typeof m.step === "number")
      top = Math.max(top, m.step);
  }
  return top;
}

/** Runs `args`, SIGKILLs it once `ready()` holds; resolves with whether the kill landed (exit by signal). */
function runAndKill(args: string[], ready: () => boolean): Promise<boolean> {
  const child = spawnTiller(args);
  return new Promise((done) => {
    const timer = setInterval(() => {
      if (ready()) {
        child.kill("SIGKILL");
        clearInterval(timer);
      }
    }, 2);
    child.on("exit", (_code, signal) => {
      clearInterval(timer);
      done(signal === "SIGKILL");
    });
  });
}

function expectSameRun(a: string, b: string, weights: string[]) {
  for (const w of weights) {
    const ta = decodeSafetensors(readFileSync(join(a, w))).tensors;
    const tb = decodeSafetensors(readFileSync(join(b, w))).tensors;
    expect(Object.keys(tb).sort(), w).toEqual(Object.keys(ta).sort());
    for (const name of Object.keys(ta))
      expect(Array.from(tb[name].data), `${w} ${name}`).toEqual(Array.from(ta[name].data));
  }
  expect(jsonl(b)).toEqual(jsonl(a));
  for (const f of jsonl(a)) expect(records(join(b, f)), f).toEqual(records(join(a, f)));
  expect(readJsonFile(join(b, "status.json")).status).toBe("done");
}

describe.each(CASES)("$name", (c) => {
  const runs = join(root, c.name.replace(/\s/g, "-"));
  const seed = Date.now() % 10_000;
  const k = killStep(seed, c.last);

  it(`killed with SIGKILL after step ${k} (seed ${seed}) and resumed, ends with the weights and .jsonl files of an uninterrupted run`, async () => {
    const whole = await tiller(c.fresh(runs, "whole"));
    expect(whole.status, whole.stderr).toBe(0);
    const dir = join(runs, "killed");
    const progress = c.progress ?? loggedStep;
    const killed = await runAndKill(c.fresh(runs, "killed"), () => progress(dir) >= k);
    const again = await tiller(c.resume(dir));
    expect(again.status, again.stderr).toBe(0);
    expect(killed, "the kill landed before the run ended").toBe(true);
    expectSameRun(join(runs, "whole"), dir, c.weights);
    if (c.result) {
      const [file, part] = c.result;
      expect(part(readJsonFile(join(dir, file))), file).toEqual(
        part(readJsonFile(join(runs, "whole", file))),
      );
    }
  }, 240_000);

  it("a step that overflows stops the run diverged at that step, with nothing logged after it", async () => {
    const r = await c.diverge(runs);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    const nan = join(runs, "nan", c.diverged ?? "");
    const status = readJsonFile<{ status: string; reason: string }>(join(nan, "status.json"));
    expect(status.status).toBe("diverged");
    const bad = Number(/step (\d+)/.exec(status.reason)?.[1]);
    expect(bad, status.reason).toBeGreaterThanOrEqual(1);
    const steps = records(join(nan, "metrics.jsonl")).filter(
      (m) => m.type === "step" || m.type === "rl_step",
    );
    for (const m of steps) {
      expect(m.step as number).toBeLessThan(bad);
      expect(Number.isFinite(m.loss), JSON.stringify(m)).toBe(true);
    }
    expect(existsSync(join(runs, "nan", c.weights[0])), "no final weights").toBe(false);
  }, 120_000);
});

describe("weights and setups a trainer must refuse", () => {
  const runs = join(root, "refused");
  const nanBase = join(root, "nan-base");

  beforeAll(async () => {
    const run = Run.create(
      root,
      "nan-base",
      pretrainRunConfig({ ...PRETRAIN_DEFAULTS, tasks: ["math"], size: "tiny", steps: 1 }),
    );
    const params = lmInit(keyFromSeed(0), presetConfig("tiny"));
    const host = await toHost(params);
    (host["model.norm.weight"].data as Float32Array)[3] = NaN;
    run.saveCheckpoint(LM_CHECKPOINT, host, { format: "tiller-lm-v1" });
    run.setStatus("done", 1);
  });

  it.each(["svf", "lora"])(
    "%s train on a base with a NaN weight: exit 1 naming the tensor, the run marked failed",
    async (cmd) => {
      const r = await tiller(adapter(cmd)(runs, `${cmd}-nan`).map((a) => (a === base ? nanBase : a)));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/"model\.norm\.weight" contains NaN or Inf/);
      expect(readJsonFile(join(runs, `${cmd}-nan`, "status.json")).status).toBe("failed");
    },
    60_000,
  );

  it.each(["svf", "lora"])(
    "%s train with a --base that does not load leaves the run failed, not running",
    async (cmd) => {
      const r = await tiller(
        adapter(cmd)(runs, `${cmd}-nobase`).map((a) => (a === base ? join(root, "missing") : a)),
      );
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/^tiller: error: /m);
      expect(readJsonFile(join(runs, `${cmd}-nobase`, "status.json")).status).toBe("failed");
    },
    60_000,
  );

  it("lm generate refuses a model with a NaN weight, naming it", async () => {
    const r = await tiller(["lm", "generate", "--model", nanBase, "--prompt", "1+1="]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/"model\.norm\.weight" contains NaN or Inf/);
  }, 60_000);
});

describe("a train run killed right after its epoch-1 checkpoint", () => {
  it("keeps epoch 1's dynamics line: after the resume dynamics.jsonl equals an uninterrupted run's", async () => {
    const runs = join(root, "dynamics");
    const args = (name: string) => [...caseNamed("train").fresh(runs, name)];
    expect((await tiller(args("whole"))).status).toBe(0);
    const dir = join(runs, "killed");
    const index = join(dir, "checkpoints", "index.json");
    const killed = await runAndKill(
      args("killed"),
      () => existsSync(index) && readFileSync(index, "utf8").includes("epoch-1"),
    );
    expect(killed).toBe(true);
    expect((await tiller(caseNamed("train").resume(dir))).status).toBe(0);
    expect(records(join(dir, "dynamics.jsonl"))).toEqual(records(join(runs, "whole", "dynamics.jsonl")));
  }, 120_000);
});
