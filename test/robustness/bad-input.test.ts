/**
 * Bad input never crashes with a stack trace and never loses data: every command, given unknown
 * options, wrong types, out-of-range values, missing or corrupt files, or a disk that refuses a
 * write, stops with one line naming the problem — exit 2 for usage, 1 for runtime — and a run
 * directory it had already created is left consistent and marked failed with the reason.
 * The default suite runs a sample of each family; TILLER_LONG runs all of them.
 */
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
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors } from "../../src/engine/safetensors.js";
import {
  expectCleanFailure,
  LONG,
  pool,
  readJsonFile,
  sha256,
  tiller,
  tinyTrain,
  writeDataDir,
  type CliResult,
} from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "tiller-bad-input-"));
const runs = join(root, "runs");
const data = join(root, "data");
const base = join(runs, "base");
const WIDTH = 2;

/** Cases marked `long` run only under TILLER_LONG. */
type Case = { args: string[]; message: RegExp; long?: boolean };
const pick = (cases: Case[]) => cases.filter((c) => LONG || !c.long);

async function runAll(cases: Case[], code: 1 | 2, env: NodeJS.ProcessEnv = {}): Promise<CliResult[]> {
  const results = await pool(pick(cases), WIDTH, (c) => tiller(c.args, { TILLER_RUNS: runs, ...env }));
  pick(cases).forEach((c, i) => expectCleanFailure(results[i], code, c.message));
  return results;
}

const status = (dir: string) => readJsonFile<{ status: string; reason?: string }>(join(dir, "status.json"));

beforeAll(async () => {
  writeDataDir(data);
  const r = await tiller(tinyTrain(runs, data, "base"));
  expect(r.status, r.stderr).toBe(0);
}, 120_000);

describe("usage errors: exit 2, one line", () => {
  const usage: Case[] = [
    { args: ["bogus"], message: /unknown command 'bogus'/, long: true },
    { args: ["train", "--bogus"], message: /unknown option '--bogus'/ },
    { args: ["train", "--lr", "-0.1"], message: /expected a positive number/ },
    { args: ["train", "--lr", "abc"], message: /expected a number, got "abc"/, long: true },
    { args: ["train", "--momentum", "1"], message: /\[0, 1\)/ },
    { args: ["train", "--epochs", "2.5"], message: /expected an integer, got 2.5/, long: true },
    { args: ["train", "--batch-size", "0"], message: /expected a number ≥ 1/, long: true },
    { args: ["train", "--hidden", "64,0"], message: /expected a number ≥ 1, got 0/, long: true },
    { args: ["train", "--seed", "-1"], message: /number ≥ 0/, long: true },
    { args: ["train", "--optimizer", "nadam"], message: /argument 'nadam' is invalid/, long: true },
    { args: ["train", "--param", "b1=1"], message: /b1 must be < 1/, long: true },
    { args: ["train", "--param", "b2=abc"], message: /must be a number/, long: true },
    { args: ["train", "--param", "bogus=1"], message: /has no parameter "bogus"/, long: true },
    { args: ["train", "--schedule", "cosine:steps=-5"], message: /steps must be ≥ 1/, long: true },
    { args: ["train", "--init", "nope"], message: /unknown initialiser "nope"/, long: true },
    { args: ["train", "--name", "a/b"], message: /invalid run id/, long: true },
    { args: ["train", "--from-epoch", "2"], message: /--from-epoch\): needs --from/, long: true },
    { args: ["runs", "show", "../x"], message: /invalid run id/, long: true },
    { args: ["lab", "--port", "70000"], message: /port 0–65535/, long: true },
    { args: ["ct", "search", "--run", "x", "--betas", "1.5"], message: /beta values must lie in \[0, 1\]/ },
    { args: ["ct", "search", "--run", "x", "--c", "2"], message: /\[0, 1\]/, long: true },
    { args: ["ct", "figure", "--steps", "0"], message: /positive integer/, long: true },
    { args: ["ct", "compare", "--run", "x", "--methods", "bogus"], message: /unknown method/, long: true },
    { args: ["init", "compare", "--inits", "nope"], message: /unknown initialiser/, long: true },
    { args: ["lm", "pretrain", "--size", "huge"], message: /Allowed choices are tiny, small/, long: true },
    { args: ["lm", "generate", "--temperature", "-1"], message: /number ≥ 0/, long: true },
    { args: ["svf", "train", "--kl-coef", "-1"], message: /number ≥ 0/, long: true },
    { args: ["lora", "train", "--rank", "0"], message: /positive integer/, long: true },
    { args: ["optim", "path", "--lr", "0"], message: /expected a positive number/, long: true },
    { args: ["optim", "compare", "--optimizers", "sgd,nope"], message: /"nope" is neither/, long: true },
    { args: ["landscape", "surface", "x", "--steps", "0"], message: /positive integer/ },
    { args: ["landscape", "hessian", "x", "--tol", "-1"], message: /positive number/, long: true },
    { args: ["landscape", "wavelets", "x", "--levels", "0"], message: /positive integer/, long: true },
    { args: ["landscape", "topology", "x", "--threshold", "-1"], message: /number ≥ 0/, long: true },
    {
      args: ["landscape", "surface", "base", "--epoch", "99", "--examples", "16"],
      message: /no checkpoint for epoch 99/,
      long: true,
    },
    { args: ["landscape", "fit", "base", "--surface", "nope"], message: /no landscape result/, long: true },
    { args: ["dynamics", "base", "--bogus"], message: /unknown option '--bogus'/, long: true },
  ];
  const unknownOption: Case[] = [
    "tour",
    "runs list",
    "report base",
    "ct pretrain",
    "ct robustness",
    "init compare",
    "lm pretrain",
    "lm generate",
    "svf train",
    "svf eval",
    "lora train",
    "optim path",
    "optim compare",
    "landscape interpolate base",
    "landscape project base",
    "landscape hessian base",
    "landscape paths base",
    // commander checks required options first: either way a usage error in one line.
  ].map((c) => ({
    args: [...c.split(" "), "--no-such-option"],
    message: /unknown option '--no-such-option'|required option .* not specified/,
    long: true,
  }));

  it("bad options, values out of range and unknown names", async () => {
    await runAll([...usage, ...unknownOption], 2);
  }, 300_000);
});
describe("missing and corrupt data files: exit 1 naming the file, the run marked failed", () => {
  const variants: { name: string; message: RegExp; long?: boolean; make: (dir: string) => void }[] = [
    {
      name: "truncated",
      message: /train-images-idx3-ubyte: truncated: header promises 200704 bytes of data, file has 199704/,
      make: (d) =>
        writeDataDir(d, { file: "train-images-idx3-ubyte", bytes: (b) => b.subarray(0, b.length - 1000) }),
    },
    {
      name: "magic",
      message: /train-images-idx3-ubyte: bad magic number/,
      make: (d) =>
        writeDataDir(d, {
          file: "train-images-idx3-ubyte",
          bytes: (b) => Uint8Array.from([0x50, 0x4b, ...b.subarray(2)]),
        }),
    },
    {
      name: "gz-garbage",
      message: /train-labels-idx1-ubyte\.gz: corrupt gzip stream/,
      make: (d) =>
        writeDataDir(d, {
          file: "train-labels-idx1-ubyte",
          name: "train-labels-idx1-ubyte.gz",
          bytes: (b) => {
            const gz = gzipSync(b);
            gz.fill(0x55, 10, 30);
            return gz;
          },
        }),
    },
    {
      name: "label",
      message: /train-labels-idx1-ubyte: label 200 at index 5 is outside 0\.\.9/,
      long: true,
      make: (d) =>
        writeDataDir(d, {
          file: "train-labels-idx1-ubyte",
          bytes: (b) => {
            const o = Uint8Array.from(b);
            o[8 + 5] = 200;
            return o;
          },
        }),
    },
    {
      name: "huge-dims",
      message: /header promises \d+ bytes of data, file has 200704/,
      long: true,
      make: (d) =>
        writeDataDir(d, {
          file: "train-images-idx3-ubyte",
          bytes: (b) => {
            const o = Uint8Array.from(b);
            new DataView(o.buffer).setUint32(4, 0xffffffff, false);
            return o;
          },
        }),
    },
    {
      name: "rank",
      message: /t10k-images-idx3-ubyte: expected images of shape \[n, 28, 28\], got \[64,784\]/,
      long: true,
      make: (d) =>
        writeDataDir(d, {
          file: "t10k-images-idx3-ubyte",
          bytes: (b) => {
            const o = new Uint8Array(b.length - 4);
            o.set([0, 0, 8, 2]);
            new DataView(o.buffer).setUint32(4, 64, false);
            new DataView(o.buffer).setUint32(8, 784, false);
            o.set(b.subarray(16), 12);
            return o;
          },
        }),
    },
    {
      name: "missing",
      message: /t10k-labels-idx1-ubyte\(\.gz\) not found/,
      long: true,
      make: (d) => {
        writeDataDir(d);
        rmSync(join(d, "t10k-labels-idx1-ubyte"));
      },
    },
    {
      name: "unreadable",
      message: /train-images-idx3-ubyte: cannot read \(EISDIR\)/,
      make: (d) => {
        writeDataDir(d);
        rmSync(join(d, "train-images-idx3-ubyte"));
        mkdirSync(join(d, "train-images-idx3-ubyte"));
      },
    },
  ];

  it("tiller train and tiller optim compare on each broken copy", async () => {
    const chosen = variants.filter((v) => LONG || !v.long);
    for (const v of chosen) v.make(join(root, `data-${v.name}`));
    const cases: Case[] = chosen.flatMap((v) => [
      {
        args: tinyTrain(runs, join(root, `data-${v.name}`), `train-${v.name}`),
        message: v.message,
        long: v.name === "unreadable",
      },
      {
        args: [
          ...["optim", "compare", "--optimizers", "sgd,adam", "--hidden", "8", "--epochs", "1"],
          ...["--data-dir", join(root, `data-${v.name}`), "--name", `compare-${v.name}`, "-q"],
          ...["--out", runs],
        ],
        message: v.message,
        long: v.name !== "unreadable",
      },
    ]);
    await runAll(cases, 1);
    for (const c of pick(cases)) {
      const dir = join(runs, c.args[c.args.indexOf("--name") + 1]);
      const s = status(dir);
      expect(s.status, dir).toBe("failed");
      expect(s.reason, dir).toMatch(c.message);
    }
  }, 300_000);
});

describe("corrupt checkpoints are refused by every command that loads them", () => {
  /** A copy of the base run whose last checkpoint (or config) was damaged; the index re-signed unless `keepIndex`. */
  function damaged(
    name: string,
    edit: (bytes: Uint8Array) => Uint8Array,
    opts: { keepIndex?: boolean; config?: (c: Record<string, unknown>) => object } = {},
  ): string {
    const dir = join(runs, name);
    rmSync(dir, { recursive: true, force: true });
    cpSync(base, dir, { recursive: true });
    const file = join(dir, "checkpoints", "epoch-2.safetensors");
    const out = edit(readFileSync(file));
    writeFileSync(file, out);
    if (!opts.keepIndex) {
      const indexFile = join(dir, "checkpoints", "index.json");
      const index = readJsonFile<Record<string, { sha256: string; bytes: number }>>(indexFile);
      index["epoch-2.safetensors"] = {
        ...index["epoch-2.safetensors"],
        sha256: sha256(out),
        bytes: out.length,
      };
      writeFileSync(indexFile, JSON.stringify(index));
    }
    const config = readJsonFile(join(dir, "config.json"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify(opts.config?.(config) ?? { ...config, epochs: 3 }),
    );
    writeFileSync(
      join(dir, "status.json"),
      JSON.stringify({ status: "interrupted", epochsCompleted: 2, updatedAt: new Date().toISOString() }),
    );
    return dir;
  }
  const retensor =
    (edit: (t: ReturnType<typeof decodeSafetensors>["tensors"]) => void) => (b: Uint8Array) => {
      const { tensors, metadata } = decodeSafetensors(b);
      edit(tensors);
      return encodeSafetensors(tensors, metadata);
    };

  /** `fast`: the consumers (indices into `consumers`) the default suite tries; TILLER_LONG tries all. */
  const variants: { name: string; message: RegExp; fast: number[]; make: () => string }[] = [
    {
      name: "nan-weights",
      fast: [0, 4],
      message: /epoch-2\.safetensors: "fc0\.weight" contains NaN or Inf/,
      make: () =>
        damaged(
          "ck-nan",
          retensor((t) => {
            t["params.fc0.weight"].data[3] = NaN;
          }),
        ),
    },
    {
      name: "lying-header",
      fast: [1],
      message: /header claims \d+ bytes but the file has only \d+/,
      make: () =>
        damaged("ck-liar", (b) => {
          const o = Uint8Array.from(b);
          new DataView(o.buffer).setBigUint64(0, BigInt(b.length * 2), true);
          return o;
        }),
    },
    {
      name: "huge-header",
      fast: [],
      message: /header length \d+ exceeds the \d+-byte limit/,
      make: () =>
        damaged("ck-huge", (b) => {
          const o = Uint8Array.from(b);
          new DataView(o.buffer).setBigUint64(0, 2n ** 62n, true);
          return o;
        }),
    },
    {
      name: "truncated",
      fast: [3],
      message: /epoch-2\.safetensors: checksum mismatch, the file is corrupt/,
      make: () => damaged("ck-trunc", (b) => b.subarray(0, b.length - 100), { keepIndex: true }),
    },
    {
      name: "shape-mismatch",
      fast: [2],
      message:
        /"fc0\.weight" has shape \[8,784\] but the model expects \[16,784\]|has 6370 weights but the model has 12730/,
      make: () =>
        damaged("ck-shape", (b) => b, {
          config: (c) => ({ ...c, epochs: 3, model: { ...(c.model as object), hidden: [16] } }),
        }),
    },
    {
      name: "index-garbage",
      fast: [0],
      message: /index\.json: not a checkpoint index/,
      make: () => {
        const dir = damaged("ck-index", (b) => b);
        writeFileSync(join(dir, "checkpoints", "index.json"), "[]");
        return dir;
      },
    },
  ];
  const consumers: ((dir: string) => string[])[] = [
    (dir) => ["train", "--resume", dir, "-q", "--no-report"],
    (dir) => ["train", "--from", dir, "--epochs", "1", "--name", `from-${dir.split("/").pop()}`, "-q"],
    (dir) => ["landscape", "hessian", dir, "--examples", "16", "--top-k", "1", "--max-iter", "2", "-q"],
    (dir) => ["landscape", "interpolate", dir, "--examples", "16", "--steps", "2", "-q"],
    (dir) => ["ct", "search", "--run", dir, "--betas", "0.9", "--val", "16", "--test-limit", "32", "-q"],
  ];

  it("NaN weights, a lying or huge header, truncation, a shape mismatch and a garbage index", async () => {
    const cases: Case[] = variants.flatMap((v) => {
      const dir = v.make();
      return consumers.map((consumer, j) => ({
        args: [...consumer(dir), "--data-dir", data, "--out", runs],
        message: v.message,
        long: !v.fast.includes(j),
      }));
    });
    await runAll(cases, 1);
    // A resume that found a bad checkpoint says so in the run's status, and wrote no new checkpoint.
    const resumed = LONG
      ? ["ck-nan", "ck-liar", "ck-huge", "ck-trunc", "ck-shape", "ck-index"]
      : ["ck-nan", "ck-index"];
    for (const name of resumed) {
      const s = status(join(runs, name));
      expect(s.status, name).toBe("failed");
      expect(s.reason, name).toBeTruthy();
      expect(readJsonFile(join(runs, name, "checkpoints", "index.json")), name).not.toHaveProperty(
        "epoch-3.safetensors",
      );
    }
  }, 300_000);

  it("corrupt run-store files: config.json, metrics.jsonl", async () => {
    const badConfig = damaged("cfg-bad", (b) => b);
    writeFileSync(join(badConfig, "config.json"), '{"id":');
    const noModel = damaged("cfg-nomodel", (b) => b, {
      config: (c) => ({ ...c, model: undefined }),
    });
    const badMetrics = damaged("metrics-bad", (b) => b);
    const lines = readFileSync(join(badMetrics, "metrics.jsonl"), "utf8").split("\n");
    lines[1] = "{garbage";
    writeFileSync(join(badMetrics, "metrics.jsonl"), lines.join("\n"));
    await runAll(
      [
        { args: ["train", "--resume", badConfig, "-q"], message: /config\.json: not valid JSON/, long: true },
        { args: ["runs", "show", badConfig], message: /config\.json: not valid JSON/ },
        { args: ["report", badConfig], message: /config\.json: invalid JSON/, long: true },
        { args: ["train", "--resume", noModel, "-q"], message: /config\.json: no model or optimiser in it/ },
        {
          args: ["train", "--resume", badMetrics, "-q"],
          message: /metrics\.jsonl: line 2 is not valid JSON/,
          long: true,
        },
        {
          args: ["runs", "show", badMetrics],
          message: /metrics\.jsonl: line 2 is not valid JSON/,
          long: true,
        },
      ],
      1,
    );
  }, 300_000);
});

describe("write failures", () => {
  it("a runs folder that is a file, and a checkpoint path taken by a directory, fail with one line", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "");
    // An interrupted run (no checkpoint yet) whose first checkpoint cannot be written.
    const blocked = join(runs, "blocked");
    cpSync(base, blocked, { recursive: true });
    rmSync(join(blocked, "checkpoints"), { recursive: true });
    mkdirSync(join(blocked, "checkpoints", "epoch-1.safetensors"), { recursive: true });
    writeFileSync(join(blocked, "metrics.jsonl"), "");
    await runAll(
      [
        { args: tinyTrain(file, data, "w1"), message: /cannot create run directory .*a-file\/w1.*ENOTDIR/ },
        { args: tinyTrain("/dev/full", data, "w2"), message: /cannot create run directory/, long: true },
        {
          args: ["optim", "path", "--fn", "rosenbrock", "--steps", "5", "--out", file, "-q"],
          message: /cannot create run directory/,
          long: true,
        },
        {
          args: ["train", "--resume", blocked, "-q", "--no-report", "--data-dir", data],
          message: /cannot write .*epoch-1\.safetensors: EISDIR/,
        },
      ],
      1,
    );
    const s = status(blocked);
    expect(s.status).toBe("failed");
    expect(s.reason).toMatch(/EISDIR/);
    // The run stays consistent: nothing half-written, nothing recorded that is not there.
    expect(existsSync(join(blocked, "checkpoints", "index.json"))).toBe(false);
  }, 300_000);

  // A real full disk (a tmpfs) is in run-ownership.test.ts; a link is never written through.
  it("a metrics.jsonl that is a link (to /dev/full) is not written through: the run fails naming it", async () => {
    const { startEngine } = await import("../../src/engine/device.js");
    const { loadFashionMnist } = await import("../../src/data/fashion-mnist.js");
    const { resolveTrainConfig } = await import("../../src/train/session.js");
    const { train } = await import("../../src/train/loop.js");
    const { Run } = await import("../../src/runs/store.js");
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
      "full-disk",
    );
    const run = Run.create(runs, "full-disk", config);
    rmSync(run.path("metrics.jsonl"));
    symlinkSync("/dev/full", run.path("metrics.jsonl"));
    const dataset = loadFashionMnist({ dataDir: data });
    await expect(train(config, dataset, run)).rejects.toThrow(/cannot append to .*metrics\.jsonl: ELOOP/);
    expect(run.status()).toMatchObject({ status: "failed", reason: expect.stringMatching(/ELOOP/) });
    expect(run.epochCheckpoints()).toEqual([]);
  });
});
