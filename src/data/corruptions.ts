/**
 * Common corruptions of images with pixels in [0, 1], after Hendrycks & Dietterich's CIFAR-10-C
 * (severities 1..5 with their CIFAR parameters), plus rotation as a geometric shift. Every result is
 * clipped back to [0, 1]. Noise is drawn from a seeded mulberry32 stream, so a corrupted split is
 * the same on every machine.
 */
import type { ImageSplit } from "./dataset.js";
import { mulberry32 } from "../engine/rng.js";

export const CORRUPTIONS = [
  "gaussian-noise",
  "shot-noise",
  "gaussian-blur",
  "contrast",
  "brightness",
  "rotation",
] as const;
export type CorruptionName = (typeof CORRUPTIONS)[number];

/** Per-severity parameter of each corruption (index 0 = severity 1). */
export const SEVERITY_PARAMS: Record<CorruptionName, readonly number[]> = {
  "gaussian-noise": [0.04, 0.06, 0.08, 0.09, 0.1], // noise standard deviation
  "shot-noise": [500, 250, 100, 75, 50], // photons per unit intensity (Poisson rate)
  "gaussian-blur": [0.4, 0.6, 0.7, 0.8, 1], // kernel sigma in pixels
  contrast: [0.75, 0.5, 0.4, 0.3, 0.15], // factor towards the image mean
  brightness: [0.05, 0.1, 0.15, 0.2, 0.3], // added intensity
  rotation: [10, 20, 30, 45, 60], // degrees, counter-clockwise
};

const clip01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Standard normal samples from a uniform stream (Box–Muller). */
function normalStream(rng: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rng();
    const v = rng();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Poisson(λ): Knuth's product method below λ = 30, the rounded normal approximation above. */
function poisson(lambda: number, rng: () => number, normal: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rng();
  while (p > limit) {
    k++;
    p *= rng();
  }
  return k;
}

/** Normalised 1-D Gaussian kernel truncated at 4σ (scipy's gaussian_filter default). */
export function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.round(4 * sigma));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** Separable Gaussian blur of one H×W plane, edges extended ("nearest", as scipy/skimage). */
export function blurPlane(src: Float32Array, h: number, w: number, sigma: number): Float32Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(h * w);
  const out = new Float32Array(h * w);
  const at = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = -r; j <= r; j++) s += k[j + r] * src[y * w + at(x + j, w)];
      tmp[y * w + x] = s;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let j = -r; j <= r; j++) s += k[j + r] * tmp[at(y + j, h) * w + x];
      out[y * w + x] = s;
    }
  return out;
}

/**
 * Rotation of one H×W plane by `degrees` counter-clockwise about its centre, bilinear, zeros
 * outside (Fashion-MNIST's background is black).
 */
export function rotatePlane(src: Float32Array, h: number, w: number, degrees: number): Float32Array {
  const out = new Float32Array(h * w);
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const px = (y: number, x: number) => (y >= 0 && y < h && x >= 0 && x < w ? src[y * w + x] : 0);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // Inverse map: the source point that lands on (x, y). Image y grows downwards.
      const dx = x - cx;
      const dy = y - cy;
      const sx = cos * dx - sin * dy + cx;
      const sy = sin * dx + cos * dy + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      out[y * w + x] =
        (1 - fy) * ((1 - fx) * px(y0, x0) + fx * px(y0, x0 + 1)) +
        fy * ((1 - fx) * px(y0 + 1, x0) + fx * px(y0 + 1, x0 + 1));
    }
  return out;
}

/** Corrupts every image of a pixel-space split (values in [0, 1]); returns a new split. */
export function corruptSplit(
  split: ImageSplit,
  name: CorruptionName,
  severity: number,
  seed = 0,
): ImageSplit {
  if (!Number.isInteger(severity) || severity < 1 || severity > 5)
    throw new Error(`corruption severity must be an integer in 1..5, got ${severity}`);
  const p = SEVERITY_PARAMS[name][severity - 1];
  const [c, h, w] = split.shape;
  const plane = h * w;
  const images = new Float32Array(split.images.length);
  const rng = mulberry32((seed * 0x9e3779b1 + severity * 7919 + CORRUPTIONS.indexOf(name)) >>> 0);
  const normal = normalStream(rng);
  for (let i = 0; i < split.n * c; i++) {
    const src = split.images.subarray(i * plane, (i + 1) * plane);
    const dst = images.subarray(i * plane, (i + 1) * plane);
    switch (name) {
      case "gaussian-noise":
        for (let j = 0; j < plane; j++) dst[j] = clip01(src[j] + p * normal());
        break;
      case "shot-noise":
        for (let j = 0; j < plane; j++) dst[j] = clip01(poisson(src[j] * p, rng, normal) / p);
        break;
      case "gaussian-blur":
        dst.set(blurPlane(src, h, w, p).map(clip01));
        break;
      case "contrast": {
        let mean = 0;
        for (let j = 0; j < plane; j++) mean += src[j];
        mean /= plane;
        for (let j = 0; j < plane; j++) dst[j] = clip01((src[j] - mean) * p + mean);
        break;
      }
      case "brightness":
        for (let j = 0; j < plane; j++) dst[j] = clip01(src[j] + p);
        break;
      case "rotation":
        dst.set(rotatePlane(src, h, w, p).map(clip01));
        break;
    }
  }
  return { ...split, images };
}
