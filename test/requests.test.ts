/**
 * One schema per request (issue 22): the CLI's options, the lab's jobs and forms, and the stored
 * config.json all come from `src/requests/`; and one CLI dialect (positional run, --runs with
 * TILLER_RUNS, --task, --json, old spellings as deprecated hidden aliases).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { resolveDataDir } from "../src/data/fashion-mnist.js";
import { addRequestOptions, requestFromCommand } from "../src/cli/request-options.js";
import { JobQueue, jobForms, parseJobRequest } from "../src/lab/jobs.js";
import { startLab } from "../src/lab/server.js";
import { requestArgv } from "../src/requests/argv.js";
import { parseRequest, type RequestDef } from "../src/requests/request.js";
import { trainRequest } from "../src/requests/train.js";
import { landscapeSurfaceRequest } from "../src/requests/landscape.js";
import { requestSchemas } from "../src/sessions.js";
import { flagOf } from "../src/requests/request.js";
import { loraTrainRequest, svfTrainRequest } from "../src/requests/adapter.js";
import { lmPretrainRequest } from "../src/requests/lm.js";
import { FINETUNE_DEFAULTS } from "../src/steer/finetune.js";
import { SVF_DEFAULTS } from "../src/steer/svf/compose.js";
import { TARGET_SETS } from "../src/steer/svf/targets.js";
import { PRETRAIN_DEFAULTS } from "../src/lm/pretrain.js";
import { LM_SIZES } from "../src/lm/presets.js";

const hasData = existsSync(resolveDataDir());
const cli = ["--import", "tsx", "src/cli/main.ts"];

function tiller(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [...cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, TILLER_THREADS: "2", ...env },
  });
}

/** Parses `argv` with a command built from `def` and returns the validated request. */
function parseArgv(def: RequestDef, argv: string[]): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  const cmd = addRequestOptions(new Command("x").exitOverride(), def).action((...args: unknown[]) => {
    out = requestFromCommand(args.at(-1) as Command, def).request as Record<string, unknown>;
  });
  cmd.parse(argv, { from: "user" });
  return out;
}

/** A request of each kind with some values off their defaults. */
const SAMPLES: Record<string, Record<string, unknown>> = {
  train: {
    model: "cnn",
    channels: [8, 16],
    optimizer: "sgd",
    lr: 0.05,
    momentum: 0.9,
    params: { clipNorm: "1" },
  },
  "optim-compare": { optimizers: ["sgd", "adam"], hidden: [32], epochs: 2, limit: 500 },
  "init-compare": { inits: ["lecun", "orthogonal"], initMode: "fan_out", momentum: 0.5, biasInit: 0.1 },
  "ct-pretrain": { task: "fashion-mnist:0-4", model: "mlp", hidden: [64], epochs: 2 },
  "ct-search": { run: "base", task: "fashion-mnist:5-9", betas: [0.8, 0.9], c: 0.4 },
  "ct-compare": { run: "base", task: "fashion-mnist:5-9", methods: ["linear-probe", "lora"], loraRank: 2 },
  "ct-robustness": { run: "base", betas: [0.9], attacks: false, n: 200 },
  "svf-train": { base: "lm", task: "math", klCoef: 0.1, rewardNorm: true, initVal: 0.2 },
  "lora-train": { base: "lm", task: "code", rank: 2, alpha: 8, objective: "rl" },
  "lm-pretrain": { task: "math,code:2", size: "small", steps: 10, lossOn: "answer" },
  "landscape-surface": { run: "r1", directions: "random", range: [-0.5, 0.25], slices: true, steps: 9 },
};

describe("request schemas", () => {
  it("every request kind has a sample here, every field a description, and no two fields share a flag", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(requestSchemas).sort());
    for (const { schema } of Object.values(requestSchemas)) {
      const flags = Object.entries(schema.fields).flatMap(([n, f]) => [
        ...(f.meta.positional ? [] : [flagOf(n, f.meta)]),
        ...(f.meta.aliases ?? []),
      ]);
      expect(new Set(flags).size, schema.kind).toBe(flags.length);
      for (const [name, f] of Object.entries(schema.fields)) expect(f.meta.description, name).not.toBe("");
    }
  });

  it("a request written as a command line and parsed back by its command is the same request", () => {
    for (const [kind, { schema }] of Object.entries(requestSchemas)) {
      const request = parseRequest(schema, SAMPLES[kind]) as Record<string, unknown>;
      expect(parseArgv(schema, requestArgv(schema, request)), kind).toEqual(request);
    }
  });

  it("the adapter and LM schemas default to the library's own defaults", () => {
    const svf = parseRequest(svfTrainRequest, { base: "b", task: "math" });
    const lora = parseRequest(loraTrainRequest, { base: "b", task: "math" });
    for (const key of Object.keys(FINETUNE_DEFAULTS).filter((k) => k !== "lr"))
      expect(svf[key as keyof typeof svf], key).toEqual(
        FINETUNE_DEFAULTS[key as keyof typeof FINETUNE_DEFAULTS],
      );
    expect([svf.lr, lora.lr, svf.objective, lora.objective]).toEqual([2e-3, 2e-3, "rl", "sft"]);
    expect([svf.initVal, svf.maxMult]).toEqual([SVF_DEFAULTS.initVal, SVF_DEFAULTS.maxMult]);
    expect(svfTrainRequest.fields.targets.schema.removeDefault().options).toEqual([...TARGET_SETS]);
    const lm = parseRequest(lmPretrainRequest, {});
    for (const [key, value] of Object.entries(PRETRAIN_DEFAULTS))
      expect(lm[key as keyof typeof lm], key).toEqual(value);
    expect(lmPretrainRequest.fields.size.schema.removeDefault().options).toEqual([...LM_SIZES]);
    expect(() => parseRequest(svfTrainRequest, { task: "math" })).toThrow(
      /base \(<base>\): required \(or --resume <run>\)/,
    );
  });

  it("a bad value is refused with the field and its flag named", () => {
    expect(() => parseRequest(trainRequest, { epochs: 0 })).toThrow(
      /invalid train request: epochs \(--epochs\): expected a number ≥ 1, got 0/,
    );
    expect(() => parseRequest(trainRequest, { bogus: 1 })).toThrow(/unknown field bogus/);
    expect(() => parseRequest(trainRequest, { maxSkips: 3 })).toThrow(/maxSkips \(--max-skips\): applies to/);
  });

  it("the lab's form lists each field's type, default, range and choices from the schema", () => {
    const train = jobForms().train.fields;
    expect(train.find((f) => f.name === "epochs")).toMatchObject({
      type: "integer",
      default: 3,
      min: 1,
      max: 1000,
    });
    expect(train.find((f) => f.name === "optimizer")).toMatchObject({ type: "enum", default: "adam" });
    expect(train.find((f) => f.name === "optimizer")?.choices).toContain("lion");
    expect(train.find((f) => f.name === "momentum")).toMatchObject({ min: 0, max: 1, maxExclusive: true });
    // Paths on the server's disk and resuming are not the form's to set.
    expect(train.map((f) => f.name)).not.toContain("runs");
    expect(train.map((f) => f.name)).not.toContain("dataDir");
    expect(() => parseJobRequest({ kind: "train", dataDir: "/etc" })).toThrow(
      /dataDir: not settable from the lab/,
    );
    expect(() => parseJobRequest({ kind: "train", epochs: 0 })).toThrow(
      /epochs \(--epochs\): expected a number ≥ 1/,
    );
  });

  it("the lab serves each job kind's form fields from the schemas", async () => {
    const lab = await startLab({ runsRoot: mkdtempSync(join(tmpdir(), "tiller-lab-")), port: 0 });
    try {
      const body = (await (await fetch(new URL("/api/requests", lab.url))).json()) as {
        kinds: Record<string, { summary: string; fields: { name: string }[] }>;
      };
      expect(Object.keys(body.kinds)).toEqual(["train", "optim-compare", "landscape-surface"]);
      expect(body.kinds.train.summary).toBe(trainRequest.summary);
      expect(body.kinds["landscape-surface"].fields.map((f) => f.name)).toContain("directions");
    } finally {
      await lab.close();
    }
  });

  it("the landscape surface command takes every flag of its schema", () => {
    const help = tiller(["landscape", "surface", "--help"]).stdout;
    for (const [name, f] of Object.entries(landscapeSurfaceRequest.fields))
      if (!f.meta.positional) expect(help, name).toContain(`--${flagOf(name, f.meta)}`);
  });
});

describe("one CLI dialect", () => {
  it("old spellings still work, print one deprecation line, and are hidden from --help", () => {
    const dir = mkdtempSync(join(tmpdir(), "tiller-dialect-"));
    const r = tiller(["runs", "list", "--out", dir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`no runs in ${dir}`);
    expect(r.stderr).toBe("tiller: --out is deprecated; use --runs\n");
    const missing = tiller([
      "ct",
      "search",
      "--run",
      "nope",
      "--dataset",
      "fashion-mnist:5-9",
      "--runs",
      dir,
    ]);
    expect(missing.stderr).toContain("tiller: --run is deprecated; use the <run> argument\n");
    expect(missing.stderr).toContain("tiller: --dataset is deprecated; use --task\n");
    expect(missing.stderr).toMatch(/tiller: error: no run at .*nope/);
    expect(missing.status).toBe(1);
    expect(tiller(["train", "--help"]).stdout).not.toMatch(/--out|--dataset/);
    expect(tiller(["ct", "search", "--help"]).stdout).not.toMatch(/--run |--dataset/);
  });

  it("TILLER_RUNS is the runs folder unless --runs names another", () => {
    const env = mkdtempSync(join(tmpdir(), "tiller-env-"));
    const flag = mkdtempSync(join(tmpdir(), "tiller-flag-"));
    expect(tiller(["runs", "list"], { TILLER_RUNS: env }).stdout).toContain(`no runs in ${env}`);
    expect(tiller(["runs", "list", "--runs", flag], { TILLER_RUNS: env }).stdout).toContain(
      `no runs in ${flag}`,
    );
  });

  it("an option the run's config fixes is refused with --resume, naming it", () => {
    const r = tiller(["train", "--resume", "somewhere", "--epochs", "5", "--lr", "0.1"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/tiller: error: --lr: fixed by the run.s config on --resume/);
  });
});

const strip = (c: Record<string, unknown>) => {
  const { id: _id, createdAt: _c, ...rest } = c;
  return rest;
};
const config = (dir: string) =>
  JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Record<string, unknown>;

describe("the same adapter request from the CLI and the library", () => {
  it("the registry runs an svf train request to the same config.json as the command line", async () => {
    const libRoot = mkdtempSync(join(tmpdir(), "tiller-lib-"));
    const cliRoot = mkdtempSync(join(tmpdir(), "tiller-cli-"));
    const base = "test/fixtures/reference/lm/llama-tiny";
    const request = {
      base,
      task: "math",
      steps: 2,
      evalEvery: 2,
      evalExamples: 4,
      trainExamples: 16,
      batchSize: 4,
    };
    const entry = requestSchemas["svf-train"];
    const done = await entry.run(parseRequest(entry.schema, { ...request, runs: libRoot, name: "svf" }));
    expect(done).toEqual({ run: join(libRoot, "svf"), status: "done" });
    const argv = requestArgv(entry.schema, { ...request, runs: cliRoot, name: "svf" });
    expect(argv.slice(0, 2)).toEqual([base, "--task"]);
    const r = tiller(["svf", "train", ...argv, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ run: join(cliRoot, "svf"), status: "done" });
    // The adapter run records the runs folder it was started in; everything else is the request's.
    const { runsRoot: a, ...lib } = strip(config(join(libRoot, "svf")));
    const { runsRoot: b, ...cli } = strip(config(join(cliRoot, "svf")));
    expect([a, b]).toEqual([libRoot, cliRoot]);
    expect(lib).toEqual(cli);
    const fixed = tiller(["svf", "train", "--resume", join(cliRoot, "svf"), "--steps", "9"]);
    expect(fixed.status).toBe(2);
    expect(fixed.stderr).toMatch(/--steps: fixed by the run's config on --resume/);
  }, 120_000);
});

describe.runIf(hasData)("the same request from the lab, the CLI and the library", () => {
  it("a lab job and the CLI write the same config.json for the same train request", async () => {
    const labRoot = mkdtempSync(join(tmpdir(), "tiller-lab-"));
    const cliRoot = mkdtempSync(join(tmpdir(), "tiller-cli-"));
    const body = { kind: "train", model: "mlp", hidden: [16], optimizer: "sgd", lr: 0.05, momentum: 0.9 };
    const more = { epochs: 1, limit: 200, batchSize: 50, seed: 4, logEvery: 2 };
    const jobs = new JobQueue({ runsRoot: labRoot });
    const job = jobs.submit({ ...body, ...more, name: "same" });
    expect((await jobs.settled(job.id)).status).toBe("done");
    const args = [
      "--model",
      "mlp",
      "--hidden",
      "16",
      "--optimizer",
      "sgd",
      "--lr",
      "0.05",
      "--momentum",
      "0.9",
    ];
    const flags = [
      "--epochs",
      "1",
      "--limit",
      "200",
      "--batch-size",
      "50",
      "--seed",
      "4",
      "--log-every",
      "2",
    ];
    const r = tiller([
      "train",
      ...args,
      ...flags,
      "--runs",
      cliRoot,
      "--name",
      "same",
      "--json",
      "--no-report",
    ]);
    expect(r.status, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { run: string; status: string };
    expect(printed).toMatchObject({ run: join(cliRoot, "same"), status: "done" });
    expect(strip(config(join(labRoot, "same")))).toEqual(strip(config(join(cliRoot, "same"))));
    // Every command that prints a result prints it as one JSON object with --json.
    const shown = JSON.parse(tiller(["runs", "show", "same", "--runs", cliRoot, "--json"]).stdout);
    expect(shown).toMatchObject({ id: "same", status: { status: "done" }, checkpoints: [1] });
    const report = JSON.parse(tiller(["report", "same", "--json"], { TILLER_RUNS: cliRoot }).stdout);
    expect(report.report).toBe(join(cliRoot, "same", "report.html"));
    const line = tiller([
      "landscape",
      "interpolate",
      "same",
      "--runs",
      cliRoot,
      "--steps",
      "3",
      "--examples",
      "16",
      "--json",
    ]);
    expect(line.status, line.stderr).toBe(0);
    expect(JSON.parse(line.stdout).files).toHaveLength(2);
  }, 180_000);

  it("a lab job and the CLI write the same config.json for the same optimiser comparison", async () => {
    const labRoot = mkdtempSync(join(tmpdir(), "tiller-lab-"));
    const cliRoot = mkdtempSync(join(tmpdir(), "tiller-cli-"));
    const jobs = new JobQueue({ runsRoot: labRoot });
    const request = {
      optimizers: ["sgd", "adam"],
      hidden: [16],
      epochs: 1,
      limit: 200,
      batchSize: 50,
      name: "cmp",
    };
    const job = jobs.submit({ kind: "optim-compare", model: "mlp", ...request });
    expect((await jobs.settled(job.id)).status).toBe("done");
    const argv = requestArgv(requestSchemas["optim-compare"].schema, { ...request, runs: cliRoot });
    const r = tiller(["optim", "compare", ...argv, "-q"]);
    expect(r.status, r.stderr).toBe(0);
    // The comparison keeps its library request (for --resume), with the runs folder it was started in.
    const top = (root: string) => {
      const c = strip(config(join(root, "cmp"))) as { request: { runsRoot?: string } };
      expect(c.request.runsRoot).toBe(root);
      return { ...c, request: { ...c.request, runsRoot: undefined } };
    };
    expect(top(labRoot)).toEqual(top(cliRoot));
    for (const m of ["sgd", "adam"])
      expect(strip(config(join(labRoot, "cmp", "members", m)))).toEqual(
        strip(config(join(cliRoot, "cmp", "members", m))),
      );
  }, 180_000);

  it("the registry runs a ct pretrain request to the same config.json as the command line", async () => {
    const libRoot = mkdtempSync(join(tmpdir(), "tiller-lib-"));
    const cliRoot = mkdtempSync(join(tmpdir(), "tiller-cli-"));
    const request = { task: "fashion-mnist:0-4", hidden: [16], epochs: 1, limit: 200, name: "src" };
    const entry = requestSchemas["ct-pretrain"];
    const done = await entry.run(parseRequest(entry.schema, { ...request, runs: libRoot }));
    expect(done).toEqual({ run: join(libRoot, "src"), status: "done" });
    const r = tiller([
      "ct",
      "pretrain",
      ...requestArgv(entry.schema, { ...request, runs: cliRoot }),
      "--json",
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "done" });
    expect(strip(config(join(libRoot, "src")))).toEqual(strip(config(join(cliRoot, "src"))));
  }, 180_000);
});
