import type { ImageSplit } from "./dataset.js";

export type HostBatch = { x: Float32Array; y: Int32Array; size: number };

/**
 * Gathers the examples `order[start .. start+size)` into one contiguous batch. The last batch of an
 * epoch may be partial: it is kept (as PyTorch's DataLoader does with drop_last=False).
 */
export function gatherBatch(
  split: ImageSplit,
  order: ArrayLike<number>,
  start: number,
  size: number,
): HostBatch {
  const end = Math.min(start + size, order.length);
  const n = end - start;
  const dim = split.shape[0] * split.shape[1] * split.shape[2];
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const idx = order[start + i];
    x.set(split.images.subarray(idx * dim, (idx + 1) * dim), i * dim);
    y[i] = split.labels[idx];
  }
  return { x, y, size: n };
}

export function batchCount(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}
