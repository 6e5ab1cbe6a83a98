/** What a classification dataset is, for every model and trainer in Tiller. */
export type Normalization = "standardize" | "scale";

/** One split: `n` images of `shape` (C, H, W), flattened row-major into `images`. */
export type ImageSplit = {
  n: number;
  shape: [number, number, number];
  images: Float32Array;
  labels: Int32Array;
};

export type Dataset = { name: string; classes: string[]; train: ImageSplit; test: ImageSplit };

export const DATASETS = ["fashion-mnist"] as const;
