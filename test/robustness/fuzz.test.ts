/**
 * Property-based fuzzing of the parsers that read files from disk — IDX, safetensors, JSON config
 * files, tokenizer.json, and the run store's metrics.jsonl, status.json and checkpoints/index.json:
 * random and mutated inputs must fail with the parser's own error (a clear message), never hang,
 * never allocate what a header merely claims, never throw anything else. TILLER_LONG runs ×10.
 */
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { IdxError, parseIdx } from "../../src/data/idx.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../../src/engine/safetensors.js";
import { runSummaries } from "../../src/lab/run-data.js";
import { HfTokenizer, TokenizerError } from "../../src/lm/tokenizer.js";
import { readRunConfig, readRunMetrics, readRunStatus } from "../../src/runs/records.js";
import { listRuns, Run, RunStoreError } from "../../src/runs/store.js";
import { idx, LONG } from "./helpers.js";

/** Runs of each property: the default suite's, ×10 under TILLER_LONG. */
const runs = (n: number) => (LONG ? n * 10 : n);
/** Every input is parsed in well under this; a hang or a quadratic blow-up fails the property. */
const MAX_MS = 1000;

/** Inputs each parser was given, printed at the end (the tally). */
const tally: Record<string, number> = {};
function counted<T>(parser: string, check: (input: T) => void) {
  return (input: T) => {
    tally[parser] = (tally[parser] ?? 0) + 1;
    const t0 = performance.now();
    check(input);
    expect(performance.now() - t0, `${parser} took too long`).toBeLessThan(MAX_MS);
  };
}
/**
 * fc.assert over an async property that yields to the event loop now and then: long fuzzing
 * (TILLER_LONG) must not starve the test worker's messages to vitest.
 */
async function fuzz<T>(arbitrary: fc.Arbitrary<T>, check: (input: T) => void, numRuns: number) {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(arbitrary, async (input) => {
      check(input);
      if (++n % 50 === 0) await new Promise((r) => setImmediate(r));
    }),
    { numRuns },
  );
}
afterAll(() => console.log(`fuzzed inputs per parser: ${JSON.stringify(tally)}`));

function validIdx(): Uint8Array {
  return idx([2, 3], [1, 2, 3, 4, 5, 6]);
}

function validSafetensors(): Uint8Array {
  return encodeSafetensors(
    {
      w: { dtype: "float32" as never, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      n: { dtype: "int32" as never, shape: [], data: new Int32Array([5]) },
    },
    { k: "v" },
  );
}

/** Flips, overwrites, truncates or extends a valid file. */
const mutation = (base: Uint8Array) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(base.length + 16),
    )
    .map(([edits, length]) => {
      const out = new Uint8Array(length);
      out.set(base.subarray(0, Math.min(length, base.length)));
      for (const [i, b] of edits) if (i < length) out[i] = b;
      return out;
    });

function onlyOwnErrors<T>(parse: (b: T) => unknown, Own: new (...a: never[]) => Error) {
  return (bytes: T) => {
    try {
      parse(bytes);
    } catch (e) {
      if (!(e instanceof Own)) throw new Error(`unexpected ${(e as Error).name}: ${(e as Error).message}`);
      expect((e as Error).message.length).toBeGreaterThan(0);
    }
  };
}

describe("parsers under fuzzing", async () => {
  it("IDX: random bytes fail with IdxError", async () => {
    const check = counted("IDX", onlyOwnErrors(parseIdx, IdxError));
    await fuzz(fc.uint8Array({ maxLength: 64 }), check, runs(2000));
  });
  it("IDX: mutated valid files (raw and gzip) fail with IdxError or parse consistently", async () => {
    const check = counted("IDX", (bytes: Uint8Array) => {
      try {
        const { dims, data } = parseIdx(bytes);
        expect(data.length).toBe(dims.reduce((a, b) => a * b, 1));
      } catch (e) {
        if (!(e instanceof IdxError)) throw e;
      }
    });
    await fuzz(mutation(validIdx()), check, runs(2000));
    await fuzz(mutation(gzipSync(validIdx())), check, runs(1000));
  });
  it("IDX: dimensions claiming terabytes are refused before allocation", async () => {
    const lie = validIdx();
    new DataView(lie.buffer).setUint32(4, 0xffffffff, false);
    expect(() => parseIdx(lie)).toThrow(/truncated: header promises \d+ bytes/);
  });
  it("safetensors: random bytes fail with SafetensorsError", async () => {
    const check = counted("safetensors", onlyOwnErrors(decodeSafetensors, SafetensorsError));
    await fuzz(fc.uint8Array({ maxLength: 64 }), check, runs(2000));
  });
  it("safetensors: mutated valid files fail with SafetensorsError or decode to the right sizes", async () => {
    const check = counted("safetensors", (bytes: Uint8Array) => {
      try {
        const { tensors } = decodeSafetensors(bytes);
        for (const t of Object.values(tensors))
          expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      } catch (e) {
        if (!(e instanceof SafetensorsError)) throw e;
      }
    });
    await fuzz(mutation(validSafetensors()), check, runs(3000));
  });
  it("safetensors: headers with random JSON entries fail with SafetensorsError", async () => {
    const withHeader = (header: unknown, data: number) => {
      const json = new TextEncoder().encode(JSON.stringify(header));
      const out = new Uint8Array(8 + json.length + data);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      return out;
    };
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom("F32", "F64", "I32", "U32", "F16", "BF16", "U8", ""), fc.anything()),
        shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 2 ** 40 }), { maxLength: 4 }), fc.anything()),
        data_offsets: fc.oneof(fc.tuple(fc.nat(2 ** 40), fc.nat(2 ** 40)), fc.anything()),
      },
      { requiredKeys: [] },
    );
    const header = fc.dictionary(
      fc.oneof(fc.string(), fc.constant("__metadata__")),
      fc.oneof(entry, fc.anything()),
    );
    const check = counted(
      "safetensors",
      onlyOwnErrors(([h, n]: [unknown, number]) => decodeSafetensors(withHeader(h, n)), SafetensorsError),
    );
    await fuzz(fc.tuple(header, fc.nat(64)), check, runs(2000));
  });
  it("safetensors: a header claiming huge sizes is refused before allocation", async () => {
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/exceeds/);
  });
});

describe("tokenizer.json under fuzzing", async () => {
  const dir = "test/fixtures/reference/lm/llama-tiny";
  const valid = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")) as Record<string, unknown>;
  const config = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const use = (json: unknown, cfg: unknown = config) => {
    const t = new HfTokenizer(json as object, cfg as Record<string, unknown>);
    const ids = t.encode("12+3=15, hello");
    expect(ids.every((i) => Number.isInteger(i) && i >= 0)).toBe(true);
    t.decode(ids);
  };
  /** A copy of the valid file with some fields replaced by random JSON values (deep or shallow). */
  const mutated = fc
    .array(
      fc.tuple(
        fc.constantFrom(
          "model",
          "model.vocab",
          "model.merges",
          "model.type",
          "added_tokens",
          "normalizer",
          "pre_tokenizer",
          "post_processor",
          "decoder",
          "model.unk_token",
        ),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((edits) => {
      const json = structuredClone(valid) as Record<string, Record<string, unknown>>;
      for (const [path, value] of edits) {
        const [a, b] = path.split(".");
        if (b === undefined) (json as Record<string, unknown>)[a] = value;
        else if (typeof json[a] === "object" && json[a] !== null) json[a][b] = value;
      }
      return json;
    });

  it("the reference tokenizer loads", () => use(valid));
  it("random JSON, and the reference file with fields replaced, fail with TokenizerError", async () => {
    const check = counted("tokenizer.json", onlyOwnErrors(use, TokenizerError));
    await fuzz(fc.jsonValue({ maxDepth: 3 }), check, runs(300));
    await fuzz(mutated, check, runs(300));
  });
  it("a random tokenizer_config.json fails with TokenizerError", async () => {
    const check = counted(
      "tokenizer_config.json",
      onlyOwnErrors((c: unknown) => use(valid, c), TokenizerError),
    );
    await fuzz(
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        fc.record({ bos_token: fc.jsonValue(), eos_token: fc.jsonValue(), pad_token: fc.jsonValue() }),
      ),
      check,
      runs(300),
    );
  });
});

describe("run-store files under fuzzing", async () => {
  const root = mkdtempSync(join(tmpdir(), "tiller-fuzz-store-"));
  const dir = join(root, "r");
  const config = {
    id: "r",
    createdAt: "2026-12-01T00:00:00.000Z",
    command: "train",
    model: { name: "mlp", hidden: [8] },
    optimizer: { name: "sgd", lr: 0.1 },
    data: { dataset: "fashion-mnist", limit: 100, normalize: "standardize" },
    epochs: 1,
    batchSize: 10,
    seed: 0,
    paramCount: 10,
  };
  const validLines = [
    JSON.stringify({ type: "step", epoch: 1, step: 1, loss: 2.3, grad_norm: 1, elapsed_s: 0.1 }),
    JSON.stringify({
      type: "epoch",
      epoch: 1,
      train_loss: 2,
      train_accuracy: 0.1,
      test_loss: 2,
      test_accuracy: 0.1,
      elapsed_s: 1,
    }),
  ];
  /** Writes a run with the given file contents (the rest valid). */
  const write = (
    files: Partial<Record<"config.json" | "status.json" | "metrics.jsonl" | "index.json", string>>,
  ) => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "checkpoints"), { recursive: true });
    writeFileSync(join(dir, "config.json"), files["config.json"] ?? JSON.stringify(config));
    writeFileSync(
      join(dir, "status.json"),
      files["status.json"] ?? JSON.stringify({ status: "done", epochsCompleted: 1, updatedAt: "x" }),
    );
    writeFileSync(join(dir, "metrics.jsonl"), files["metrics.jsonl"] ?? validLines.join("\n") + "\n");
    writeFileSync(join(dir, "checkpoints", "index.json"), files["index.json"] ?? "{}");
  };
  /** Every reader of a run: the store's, the report's, and the lab's listing (which must never throw). */
  const readAll = () => {
    const run = new Run(dir);
    const own = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        if (!(e instanceof RunStoreError) && !/(config|status|metrics)\.json/.test((e as Error).message))
          throw new Error(`unexpected ${(e as Error).name}: ${(e as Error).message}`);
      }
    };
    own(() => run.config());
    own(() => run.status());
    own(() => {
      for (const m of run.metrics()) expect(typeof m.type).toBe("string");
    });
    own(() => run.epochCheckpoints());
    own(() => readRunConfig(dir));
    own(() => readRunStatus(dir));
    own(() => readRunMetrics(dir));
    const listed = listRuns(root);
    expect(listed.runs.length + listed.problems.length).toBe(1);
    const lab = runSummaries(root);
    expect(lab.runs.length + lab.problems.length).toBe(1);
  };
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
    fc.constantFrom("", "{", "null", "[]", '{"type":5}', '{"type":"step"}', '{"type":"epoch","epoch":"x"}'),
  );

  it("metrics.jsonl: random lines among valid ones, truncated anywhere", async () => {
    const lines = fc.array(fc.oneof(fc.constantFrom(...validLines), text), { maxLength: 8 });
    const check = counted("metrics.jsonl", ([ls, cut]: [string[], number]) => {
      const all = ls.join("\n");
      write({ "metrics.jsonl": all.slice(0, Math.min(cut, all.length)) });
      readAll();
    });
    await fuzz(fc.tuple(lines, fc.nat(400)), check, runs(300));
  });
  it("status.json, config.json and checkpoints/index.json: random JSON and text", async () => {
    for (const file of ["status.json", "config.json", "index.json"] as const) {
      const check = counted(file, (t: string) => {
        write({ [file]: t });
        readAll();
      });
      await fuzz(text, check, runs(150));
    }
  });
});
