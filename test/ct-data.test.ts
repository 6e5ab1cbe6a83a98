import { describe, expect, it } from "vitest";
import type { ImageSplit } from "../src/data/dataset.js";
import { blurPlane, corruptSplit, gaussianKernel, rotatePlane } from "../src/data/corruptions.js";
import { classSubset, holdOut, loadTask, parseTask } from "../src/data/subsets.js";
import { UsageError } from "../src/errors.js";

const split = (images: number[][], labels: number[], side: number): ImageSplit => ({
  n: images.length,
  shape: [1, side, side],
  images: Float32Array.from(images.flat()),
  labels: Int32Array.from(labels),
});

describe("class subsets and held-out splits", () => {
  it("keeps only the chosen classes and relabels them by position", () => {
    const s = split([[0], [1], [2], [3], [4]], [5, 0, 9, 5, 7], 1);
    const sub = classSubset(s, [5, 7, 9]);
    expect(Array.from(sub.labels)).toEqual([0, 2, 0, 1]);
    expect(Array.from(sub.images)).toEqual([0, 2, 3, 4]);
  });

  it("holds out a disjoint, complete, seeded validation set", () => {
    const s = split(
      Array.from({ length: 50 }, (_, i) => [i]),
      Array(50).fill(0),
      1,
    );
    const a = holdOut(s, 10, 3);
    const b = holdOut(s, 10, 3);
    expect(Array.from(a.val.images)).toEqual(Array.from(b.val.images));
    const all = [...a.val.images, ...a.train.images].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(() => holdOut(s, 50, 0)).toThrow(UsageError);
  });

  it("parses task names and rejects bad ones with a usage error", () => {
    expect(parseTask("fashion-mnist:5-9+gaussian-blur@2")).toEqual({
      base: "fashion-mnist",
      classes: [5, 6, 7, 8, 9],
      corruption: { name: "gaussian-blur", severity: 2 },
    });
    expect(parseTask("fashion-mnist:0,2,4").classes).toEqual([0, 2, 4]);
    expect(parseTask("fashion-mnist+rotation").corruption).toEqual({ name: "rotation", severity: 3 });
    for (const bad of [
      "mnist",
      "fashion-mnist:3",
      "fashion-mnist:1,1",
      "fashion-mnist+fog@2",
      "fashion-mnist+contrast@7",
    ])
      expect(() => parseTask(bad), bad).toThrow(UsageError);
  });

  it("loads Fashion-MNIST 5–9 as a five-class task", () => {
    const t = loadTask("fashion-mnist:5-9", { limit: 500, testLimit: 100 });
    expect(t.classes).toEqual(["Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]);
    expect(t.train.n).toBe(500);
    expect(Math.max(...t.train.labels)).toBe(4);
  });
});

describe("corruptions", () => {
  const flat = (v: number, n = 28) => split([Array(n * n).fill(v)], [0], n);

  it("blur: the kernel sums to 1, an impulse becomes the kernel's outer product, a constant stays constant", () => {
    const k = gaussianKernel(0.8);
    expect(k.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const n = 15;
    const img = new Float32Array(n * n);
    img[7 * n + 7] = 1;
    const out = blurPlane(img, n, n, 0.8);
    const r = (k.length - 1) / 2;
    for (let dy = -r; dy <= r; dy++)
      for (let dx = -r; dx <= r; dx++)
        expect(out[(7 + dy) * n + 7 + dx]).toBeCloseTo(k[dy + r] * k[dx + r], 6);
    expect(
      Array.from(blurPlane(new Float32Array(64).fill(0.3), 8, 8, 1)).every((v) => Math.abs(v - 0.3) < 1e-6),
    ).toBe(true);
  });

  it("rotation: 0° is the identity and 90° maps (y, x) to (x, n−1−y)", () => {
    const n = 6;
    const img = Float32Array.from({ length: n * n }, (_, i) => (i * 7) % 11);
    expect(Array.from(rotatePlane(img, n, n, 0))).toEqual(Array.from(img));
    const r = rotatePlane(img, n, n, 90);
    for (let y = 0; y < n; y++)
      for (let x = 0; x < n; x++) expect(r[y * n + x]).toBeCloseTo(img[x * n + (n - 1 - y)], 5);
  });

  it("contrast keeps the mean, brightness adds, and everything stays in [0, 1]", () => {
    const img = split([Array.from({ length: 784 }, (_, i) => (i % 28) / 40)], [0], 28);
    const mean = (s: ImageSplit) => s.images.reduce((a, b) => a + b, 0) / s.images.length;
    expect(mean(corruptSplit(img, "contrast", 3))).toBeCloseTo(mean(img), 5);
    expect(mean(corruptSplit(flat(0.5), "brightness", 5))).toBeCloseTo(0.8, 6);
    expect(Math.max(...corruptSplit(flat(0.9), "brightness", 5).images)).toBe(1);
  });

  it("noise has the stated statistics: Gaussian σ = 0.08 at severity 3, shot noise variance x/λ", () => {
    const g = corruptSplit(flat(0.5, 100), "gaussian-noise", 3, 1).images;
    const gm = g.reduce((a, b) => a + b, 0) / g.length;
    const gs = Math.sqrt(g.reduce((a, b) => a + (b - gm) ** 2, 0) / g.length);
    expect(gm).toBeCloseTo(0.5, 2);
    expect(Math.abs(gs - 0.08) / 0.08).toBeLessThan(0.05);
    const s = corruptSplit(flat(0.2, 100), "shot-noise", 5, 2).images; // λ = 50 → variance 0.2/50
    const sm = s.reduce((a, b) => a + b, 0) / s.length;
    const sv = s.reduce((a, b) => a + (b - sm) ** 2, 0) / s.length;
    expect(sm).toBeCloseTo(0.2, 2);
    expect(Math.abs(sv - 0.2 / 50) / (0.2 / 50)).toBeLessThan(0.1);
    expect(Array.from(corruptSplit(flat(0.5), "gaussian-noise", 1, 4).images)).toEqual(
      Array.from(corruptSplit(flat(0.5), "gaussian-noise", 1, 4).images),
    );
  });
});
