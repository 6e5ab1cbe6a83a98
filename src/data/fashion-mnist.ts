/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60,000 training and 10,000 test images, 28×28 grey,
 * 10 classes. Read from Debian's `dataset-fashion-mnist` package, never downloaded.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { readIdxFile, IdxError } from "./idx.js";
import type { Dataset, ImageSplit, Normalization } from "./dataset.js";
import { UsageError } from "../errors.js";

export const DEFAULT_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";
export const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
/** Training-set pixel mean and standard deviation (pixels in [0, 1]); the usual constants. */
export const FASHION_MNIST_MEAN = 0.286;
export const FASHION_MNIST_STD = 0.353;

export class DataMissingError extends Error {
  override name = "DataMissingError";
}

export type LoadOptions = {
  /** Directory with the four IDX files (gzip or raw). Default: $TILLER_DATA, then Debian's path. */
  dataDir?: string;
  /** Keep only the first N training images (quick runs). The test set stays whole unless `testLimit`. */
  limit?: number | null;
  testLimit?: number | null;
  normalize?: Normalization;
};

export function resolveDataDir(dataDir?: string): string {
  return dataDir ?? process.env.TILLER_DATA ?? DEFAULT_FASHION_MNIST_DIR;
}

function findFile(dir: string, stem: string): string {
  for (const name of [`${stem}.gz`, stem]) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DataMissingError(
    `Fashion-MNIST file ${stem}(.gz) not found in ${dir}. Install it with ` +
      `"sudo apt-get install dataset-fashion-mnist" (Debian/Ubuntu), or point --data-dir or TILLER_DATA ` +
      `at a folder holding the four IDX files.`,
  );
}

function readSplit(
  dir: string,
  prefix: string,
  limit: number | null | undefined,
  normalize: Normalization,
): ImageSplit {
  const imagesPath = findFile(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = findFile(dir, `${prefix}-labels-idx1-ubyte`);
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  if (images.dims.length !== 3 || images.dims[1] !== 28 || images.dims[2] !== 28)
    throw new IdxError(`${imagesPath}: expected images of shape [n, 28, 28], got [${images.dims}]`);
  if (labels.dims.length !== 1)
    throw new IdxError(`${labelsPath}: expected a 1-D label file, got [${labels.dims}]`);
  if (labels.dims[0] !== images.dims[0])
    throw new IdxError(
      `${labelsPath}: ${labels.dims[0]} labels for ${images.dims[0]} images in ${imagesPath}`,
    );
  for (let i = 0; i < labels.data.length; i++)
    if (labels.data[i] > 9)
      throw new IdxError(`${labelsPath}: label ${labels.data[i]} at index ${i} is outside 0..9`);
  if (limit != null && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError(`limit must be a positive integer, got ${limit}`);
  const n = Math.min(images.dims[0], limit ?? Infinity);
  const x = new Float32Array(n * 784);
  const [shift, scale] = normalize === "standardize" ? [FASHION_MNIST_MEAN, 1 / FASHION_MNIST_STD] : [0, 1];
  for (let i = 0; i < n * 784; i++) x[i] = (images.data[i] / 255 - shift) * scale;
  return { n, shape: [1, 28, 28], images: x, labels: Int32Array.from(labels.data.subarray(0, n)) };
}

/**
 * Checks that the four Fashion-MNIST files are there, without reading them: a command calls this
 * before it creates a run, so a missing folder leaves no failed run behind. Returns the folder.
 */
export function checkFashionMnist(dataDir?: string): string {
  const dir = resolveDataDir(dataDir);
  if (!existsSync(dir))
    throw new DataMissingError(
      `Fashion-MNIST directory ${dir} does not exist. Install the data with ` +
        `"sudo apt-get install dataset-fashion-mnist", or pass --data-dir / set TILLER_DATA.`,
    );
  for (const prefix of ["train", "t10k"])
    for (const kind of ["images-idx3", "labels-idx1"]) findFile(dir, `${prefix}-${kind}-ubyte`);
  return dir;
}

export function loadFashionMnist(options: LoadOptions = {}): Dataset {
  const dir = checkFashionMnist(options.dataDir);
  const normalize = options.normalize ?? "standardize";
  return {
    name: "fashion-mnist",
    classes: FASHION_MNIST_CLASSES,
    train: readSplit(dir, "train", options.limit, normalize),
    test: readSplit(dir, "t10k", options.testLimit, normalize),
  };
}
