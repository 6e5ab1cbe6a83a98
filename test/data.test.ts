import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseIdx, IdxError, readIdxFile } from "../src/data/idx.js";
import { epochPermutation } from "../src/data/order.js";
import { mulberry32 } from "../src/engine/rng.js";
import { loadFashionMnist, DataMissingError, resolveDataDir } from "../src/data/fashion-mnist.js";
import { existsSync } from "node:fs";
import { idx } from "./robustness/helpers.js";

const ref = (p: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/reference/${p}`, import.meta.url), "utf8"));

describe("IDX reader", () => {
  it("reads raw and gzip files", () => {
    const raw = idx([2, 3], [1, 2, 3, 4, 5, 6]);
    for (const bytes of [raw, gzipSync(raw)]) {
      const a = parseIdx(bytes);
      expect(a.dims).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "a wrong magic number",
      (() => {
        const b = idx([2], [1, 2]);
        b[0] = 8;
        return b;
      })(),
      /bad magic/,
    ],
    [
      "a non-byte element type",
      (() => {
        const b = idx([2], [1, 2]);
        b[2] = 0x0d;
        return b;
      })(),
      /not unsigned byte/,
    ],
    ["truncated data", idx([10], [1, 2, 3]), /truncated/],
    ["trailing bytes", idx([1], [1, 2]), /trailing/],
    ["a truncated header", idx([2, 3], []).subarray(0, 6), /truncated header/],
    ["gzip garbage", Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6]), /corrupt gzip/],
    [
      "an absurd rank",
      (() => {
        const b = idx([1], [0]);
        b[3] = 9;
        return b;
      })(),
      /rank 9/,
    ],
  ];
  for (const [what, bytes, message] of cases)
    it(`rejects ${what}`, () => {
      expect(() => parseIdx(bytes, "x.idx")).toThrow(IdxError);
      expect(() => parseIdx(bytes, "x.idx")).toThrow(message);
    });
  it("names the file when it cannot be read", () => {
    expect(() => readIdxFile("/nonexistent/file.gz")).toThrow(
      /\/nonexistent\/file.gz: cannot read \(ENOENT\)/,
    );
  });
});

describe("data order", () => {
  const fixture = ref("shuffle.json");
  it("mulberry32 matches the Python implementation", () => {
    const rng = mulberry32(12345);
    const expected: number[] = fixture.mulberry32_12345_first5;
    expected.forEach((v) => expect(rng()).toBe(v));
  });
  it("epoch permutations match the PyTorch twin's", () => {
    const cases = fixture.permutations as {
      n: number;
      seed: number;
      epoch: number;
      perm?: number[];
      first16?: number[];
    }[];
    expect(cases.length).toBeGreaterThanOrEqual(2);
    for (const c of cases) {
      const expected = c.perm ?? c.first16!;
      expect(Array.from(epochPermutation(c.n, c.seed, c.epoch)).slice(0, expected.length)).toEqual(expected);
    }
  });
  it("is a permutation", () => {
    const p = epochPermutation(1000, 3, 2);
    expect(new Set(p).size).toBe(1000);
  });
});

describe("Fashion-MNIST", () => {
  const available = existsSync(resolveDataDir());
  it.runIf(available)("loads the real data with the reference statistics", () => {
    const stats = ref("data.json");
    const ds = loadFashionMnist({ normalize: "scale" });
    expect(ds.train.n).toBe(stats.train_count);
    expect(ds.test.n).toBe(stats.test_count);
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual(stats.train_labels_first10);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual(stats.test_labels_first10);
    let sum = 0;
    for (let i = 0; i < 784; i++) sum += Math.round(ds.train.images[i] * 255);
    expect(sum).toBe(stats.train_image0_pixel_sum);
  });
  it.runIf(available)("standardises and limits", () => {
    const ds = loadFashionMnist({ limit: 100 });
    expect(ds.train.n).toBe(100);
    expect(ds.test.n).toBe(10000);
    const min = ds.train.images.reduce((a, b) => Math.min(a, b));
    expect(min).toBeCloseTo(-0.286 / 0.353, 5);
  });
  it("says how to install the data when it is missing", () => {
    expect(() => loadFashionMnist({ dataDir: "/nonexistent" })).toThrow(DataMissingError);
    expect(() => loadFashionMnist({ dataDir: "/nonexistent" })).toThrow(
      /apt-get install dataset-fashion-mnist/,
    );
  });
  it("rejects a label file that disagrees with the images", () => {
    const dir = mkdtempSync(join(tmpdir(), "tiller-data-"));
    const img = idx([2, 28, 28], new Array(2 * 784).fill(0));
    writeFileSync(join(dir, "train-images-idx3-ubyte"), img);
    writeFileSync(join(dir, "train-labels-idx1-ubyte"), idx([3], [1, 2, 3]));
    writeFileSync(join(dir, "t10k-images-idx3-ubyte"), img);
    writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), idx([2], [1, 12]));
    expect(() => loadFashionMnist({ dataDir: dir })).toThrow(/3 labels for 2 images/);
  });
});
