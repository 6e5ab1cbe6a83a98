/**
 * Shared by the robustness suite: the CLI as a child process, a small synthetic Fashion-MNIST-shaped
 * IDX dataset (so nothing here needs the Debian package), and the checks every failure must pass.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";

/** `process.env.TILLER_LONG` turns on the long cases (`npm run test:long`). */
export const LONG = Boolean(process.env.TILLER_LONG);

export type CliResult = { status: number; stdout: string; stderr: string; args: string[] };

const CLI = ["--import", "tsx", "src/cli/main.ts"];

/** Runs `tiller …` without blocking the test worker (vitest's heartbeats keep coming). */
export function tiller(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [...CLI, ...args],
      { encoding: "utf8", env: { ...process.env, TILLER_THREADS: "0", ...env }, maxBuffer: 16 << 20 },
      (error, stdout, stderr) =>
        resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr, args }),
    ),
  );
}

/** `tiller …` as a process to kill. */
export function spawnTiller(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [...CLI, ...args], {
    env: { ...process.env, TILLER_THREADS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Runs the jobs `width` at a time, results in order. */
export async function pool<T, R>(items: T[], width: number, job: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await job(items[i]);
      }
    }),
  );
  return out;
}

/**
 * The failure contract: the given exit code, a `tiller: error:` (or commander `error:`) line that
 * matches, nothing but that line and the usual hint on stderr, and no stack trace.
 */
export function expectCleanFailure(r: CliResult, code: 1 | 2, message: RegExp): void {
  const what = `tiller ${r.args.join(" ")}\n${r.stderr}`;
  expect(r.status, what).toBe(code);
  const lines = r.stderr
    .split("\n")
    .filter((l) => l.trim() && !/^\(run with --debug|^\(add --help/.test(l))
    // progress bars and warnings are not the error
    .filter((l) => /error/i.test(l) || /^\s+at /.test(l));
  expect(lines, what).toHaveLength(1);
  expect(lines[0], what).toMatch(message);
  expect(r.stderr, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

export const IMAGE = 28 * 28;

/** An IDX file (unsigned bytes) with the given dims and data. */
export function idx(dims: number[], data: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Deterministic bytes (a small LCG), so every run of the suite sees the same "images". */
export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

export type DataFiles = Record<
  "train-images-idx3-ubyte" | "train-labels-idx1-ubyte" | "t10k-images-idx3-ubyte" | "t10k-labels-idx1-ubyte",
  Uint8Array
>;

/** Files shaped like Fashion-MNIST: `train` and `test` images with labels i mod 10, learnable from pixel 0. */
export function dataFiles(train = 256, test = 64): DataFiles {
  const split = (n: number, seed: number) => {
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const images = bytes(n * IMAGE, seed);
    for (let i = 0; i < n; i++) images[i * IMAGE] = labels[i] * 25;
    return { images: idx([n, 28, 28], images), labels: idx([n], labels) };
  };
  const a = split(train, 1);
  const b = split(test, 2);
  return {
    "train-images-idx3-ubyte": a.images,
    "train-labels-idx1-ubyte": a.labels,
    "t10k-images-idx3-ubyte": b.images,
    "t10k-labels-idx1-ubyte": b.labels,
  };
}

/** Writes a data folder; `edit` changes one file's bytes (and may rename it, e.g. to add .gz). */
export function writeDataDir(
  dir: string,
  edit?: { file: keyof DataFiles; bytes: (b: Uint8Array) => Uint8Array; name?: string },
): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(dataFiles()) as [keyof DataFiles, Uint8Array][]) {
    if (edit?.file === name) writeFileSync(join(dir, edit.name ?? name), edit.bytes(content));
    else writeFileSync(join(dir, name), content);
  }
  return dir;
}

export function readJsonFile<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** The args of a tiny, fast training run on `dataDir` into `root`. */
export function tinyTrain(root: string, dataDir: string, name: string, extra: string[] = []): string[] {
  return [
    ...["train", "--hidden", "8", "--batch-size", "32", "--epochs", "2", "--seed", "1"],
    ...["--data-dir", dataDir, "--runs", root, "--name", name, "-q", "--no-report", "--dynamics", "off"],
    ...extra,
  ];
}
