/**
 * What jax-js expects from a browser and a Node runtime may lack. jax-js looks for these while its
 * module is being evaluated (the wasm backend and its worker pool are built at import time), so
 * `importJax()` installs them and only then imports jax-js; `src/engine/jax.ts` calls it from
 * `loadEngine()`. Nothing here runs at import: importing Tiller changes no global. Each shim is
 * installed only when the runtime lacks the feature:
 *
 * 1. A Web `Worker` (Node has none): jax-js runs its wasm kernels on a pool of workers sharing one
 *    `WebAssembly.Memory` when `SharedArrayBuffer` and `Worker` both exist. We adapt
 *    `node:worker_threads` to the small part of the Web Worker API jax-js uses; `Blob` and
 *    `URL.createObjectURL` are wrapped with it, to capture the worker's source (see below).
 * 2. `navigator` (Node 20; Node ≥ 21 has one), read for `hardwareConcurrency`, the pool's size.
 * 3. Iterator helpers (`iterator.map`), used by jax-js's einsum; Node 20 has none (core-js).
 * 4. `Float16Array` (Node < 24): jax-js tests `data instanceof Float16Array` when it builds an array
 *    from a typed array, which throws a ReferenceError where the class is missing. A stand-in makes
 *    the test answer false; float16 storage itself stays unavailable (it throws a clear message).
 * 5. Wasm relaxed SIMD (Node 20 has it only behind a V8 flag): jax-js probes for it and then emits
 *    fused multiply-adds (`f32x4.relaxed_madd`) in its matmul kernels.
 * 6. OpenBLAS for the matrix products where the optional addon loads (native-blas.ts).
 */
import type * as Jax from "@jax-js/jax";
import os from "node:os";
import v8 from "node:v8";
import { Worker as NodeWorker } from "node:worker_threads";
import { disableNativeBlas } from "./blas.js";
import { blasWithPool, nativeBlas } from "./native-blas.js";

type Listener = ((e: { data: unknown }) => void) | null;

/** Code run in each thread before jax-js's worker source: maps `self`/`postMessage` to parentPort. */
const PRELUDE = `
const { parentPort } = require("node:worker_threads");
globalThis.self = globalThis;
globalThis.postMessage = (data) => parentPort.postMessage(data);
parentPort.on("message", (data) => { if (typeof self.onmessage === "function") self.onmessage({ data }); });
`;

/** Workers alive in this process, so `shutdownWorkers()` can end them. */
const liveWorkers = new Set<NodeWorker>();

type KernelMessage = { type: "kernel"; kernelHash: number | string; begin: number; end: number };
const isKernel = (m: unknown): m is KernelMessage =>
  typeof m === "object" && m !== null && (m as { type?: unknown }).type === "kernel";

/**
 * jax-js's worker source, evaluated once on the main thread. It runs worker 0's share of every
 * dispatch, and any share too small to be worth a thread hop, and it learns from the shares it
 * runs how long each kernel takes per work item.
 */
class MainThreadRunner {
  readonly #self: { onmessage: Listener } = { onmessage: null };
  #reply: ((data: unknown) => void) | null = null;
  /** kernelHash → measured milliseconds per work item (begin..end), latest run. */
  readonly #msPerItem = new Map<number | string, number>();

  constructor(source: string) {
    // The worker source assigns `self.onmessage` and calls `postMessage`; give it both as locals.
    new Function("self", "postMessage", source)(this.#self, (data: unknown) => this.#reply?.(data));
  }

  run(data: unknown, reply: (data: unknown) => void): void {
    this.#reply = reply;
    const t0 = performance.now();
    try {
      this.#self.onmessage?.({ data });
    } finally {
      this.#reply = null;
    }
    if (isKernel(data) && data.end > data.begin) {
      this.#msPerItem.set(data.kernelHash, (performance.now() - t0) / (data.end - data.begin));
    }
  }

  /** Expected time of a share, or undefined for a kernel not yet run here. */
  estimateMs(m: KernelMessage): number | undefined {
    const perItem = this.#msPerItem.get(m.kernelHash);
    return perItem === undefined ? undefined : perItem * (m.end - m.begin);
  }
}

let runner: MainThreadRunner | undefined;
const mainRunner = (source: string) => (runner ??= new MainThreadRunner(source));

/**
 * A share whose kernel ran faster than this on the main thread is run there rather than sent to a
 * thread: a postMessage round trip to a worker thread costs ~0.15 ms on the dev box
 * (bench/profile.ts `call_ms`), so below this the hop costs more than the parallelism gains.
 */
const HOP_MS = Number(process.env.TILLER_HOP_MS ?? 0.1);

/**
 * Worker number 0 of jax-js's pool, run on the main thread. jax-js hands every kernel to its
 * pool — also kernels too small to split, which go to worker 0 alone — and each hand-off to a
 * thread is a postMessage round trip, more than most kernels of a training step take to run
 * (53 kernels per MLP step; bench/NOTES.md). The main thread only waits during a dispatch, so
 * running worker 0's share there costs no parallelism. The work starts in a microtask, after
 * jax-js has posted the other workers' shares, so those run at the same time.
 */
class MainThreadWorker {
  onmessage: Listener = null;
  onerror: ((e: { message: string }) => void) | null = null;
  readonly #runner: MainThreadRunner;

  constructor(url: string | URL) {
    this.#runner = mainRunner(readWorkerSource(String(url)));
  }

  postMessage(data: unknown): void {
    queueMicrotask(() => {
      try {
        this.#runner.run(data, (reply) => this.onmessage?.({ data: reply }));
      } catch (err) {
        this.onerror?.({ message: err instanceof Error ? err.message : String(err) });
      }
    });
  }

  terminate(): void {}
}

/**
 * A Web-Worker-shaped object over a Node worker thread. jax-js's protocol answers every message
 * with exactly one reply, so we keep the thread referenced only while replies are outstanding:
 * an idle pool never keeps the process alive, a busy one always does. Shares of kernels known to
 * be quick (see HOP_MS) are run on the main thread instead, after worker 0's share.
 */
class WebWorkerAdapter {
  onmessage: Listener = null;
  onerror: ((e: { message: string }) => void) | null = null;
  #thread: NodeWorker;
  #outstanding = 0;
  readonly #runner: MainThreadRunner | undefined;

  constructor(url: string | URL, runOnMain: boolean) {
    const source = readWorkerSource(String(url));
    this.#runner = runOnMain ? mainRunner(source) : undefined;
    this.#thread = new NodeWorker(PRELUDE + source, { eval: true });
    liveWorkers.add(this.#thread);
    this.#thread.unref();
    this.#thread.on("message", (data: unknown) => {
      if (this.#outstanding > 0 && --this.#outstanding === 0) this.#thread.unref();
      this.onmessage?.({ data });
    });
    this.#thread.on("error", (err: Error) => {
      this.onerror?.({ message: err.message });
    });
    this.#thread.on("exit", () => liveWorkers.delete(this.#thread));
  }

  postMessage(data: unknown): void {
    const runner = this.#runner;
    if (runner && isKernel(data) && (runner.estimateMs(data) ?? Infinity) < HOP_MS) {
      queueMicrotask(() => {
        try {
          runner.run(data, (reply) => this.onmessage?.({ data: reply }));
        } catch (err) {
          this.onerror?.({ message: err instanceof Error ? err.message : String(err) });
        }
      });
      return;
    }
    if (this.#outstanding++ === 0) this.#thread.ref();
    this.#thread.postMessage(data);
  }

  terminate(): void {
    void this.#thread.terminate();
  }
}

function readWorkerSource(url: string): string {
  // jax-js builds its worker from a Blob URL. Node resolves Blob URLs only asynchronously, but a
  // Worker is constructed synchronously, so we keep the text captured at createObjectURL time.
  const text = blobSources.get(url);
  if (text === undefined) throw new Error(`worker source for ${url} was not captured`);
  return text;
}

/** Blob URL → source text. Filled when jax-js calls URL.createObjectURL on its worker Blob. */
const blobSources = new Map<string, string>();

function installWorkerShim(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Worker !== "undefined") return;
  const original = URL.createObjectURL.bind(URL);
  // Blob.text() is async, so a Blob subclass remembers string parts as they are given.
  const OriginalBlob = Blob;
  class SourceBlob extends OriginalBlob {
    readonly sourceText: string | undefined;
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      this.sourceText = parts?.every((p) => typeof p === "string") ? parts.join("") : undefined;
    }
  }
  g.Blob = SourceBlob;
  URL.createObjectURL = (obj: Blob) => {
    const url = original(obj);
    if (obj instanceof SourceBlob && obj.sourceText !== undefined) blobSources.set(url, obj.sourceText);
    return url;
  };
  const originalRevoke = URL.revokeObjectURL.bind(URL);
  URL.revokeObjectURL = (url: string) => {
    blobSources.delete(url);
    originalRevoke(url);
  };
  // jax-js creates its workers in order and gives worker 0 every kernel too small to split.
  let created = 0;
  const mainFirst = process.env.TILLER_MAIN_THREAD_WORKER !== "0";
  g.Worker = function Worker(url: string | URL) {
    return mainFirst && created++ === 0 ? new MainThreadWorker(url) : new WebWorkerAdapter(url, mainFirst);
  };
}

function threadCount(): number {
  const fromEnv = Number(process.env.TILLER_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

/** A wasm module using `f32x4.relaxed_madd`: valid only where relaxed SIMD is on (jax-js's probe). */
const RELAXED_SIMD_PROBE = Buffer.from(
  "0061736d0100000001080160037b7b7b017b030201000a0d010b00200020012002fd85020b",
  "hex",
);

/**
 * V8 reads wasm feature flags when a module is validated or compiled, and jax-js probes only when
 * it first compiles a kernel, so setting the flag before that is enough. TILLER_RELAXED_SIMD=0
 * leaves the flag off where it is needed (Node 20; results then match plain SIMD bit for bit); from
 * Node 22 on, V8 ships relaxed SIMD with no flag to turn it off.
 */
function configureRelaxedSimd(): void {
  if (process.env.TILLER_RELAXED_SIMD === "0" || WebAssembly.validate(RELAXED_SIMD_PROBE)) return;
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
}

async function installIteratorHelpers(): Promise<void> {
  const g = globalThis as { Iterator?: { prototype?: { map?: unknown } } };
  if (typeof g.Iterator?.prototype?.map === "function") return;
  await import("core-js/actual/iterator/index.js");
}

function installFloat16Stub(): void {
  const g = globalThis as Record<string, unknown>;
  if (typeof g.Float16Array !== "undefined") return;
  g.Float16Array = class Float16ArrayUnavailable {
    constructor() {
      throw new Error("float16 arrays need Node.js ≥ 24 (Float16Array); use float32 here");
    }
  };
}

/**
 * jax-js sizes its worker pool from `navigator.hardwareConcurrency` when its module is evaluated.
 * Node 20 has no navigator; Node ≥ 21's says every core, which TILLER_THREADS overrides for the
 * duration of the import only. Returns what undoes the override.
 */
function provideNavigator(): () => void {
  type Navigator = { hardwareConcurrency?: number; userAgent?: string };
  const g = globalThis as { navigator?: Navigator };
  if (g.navigator === undefined) {
    g.navigator = { hardwareConcurrency: threadCount(), userAgent: `Node.js ${process.version}` };
    return () => {};
  }
  const nav = g.navigator;
  if (nav.hardwareConcurrency === threadCount() || Object.hasOwn(nav, "hardwareConcurrency")) return () => {};
  Object.defineProperty(nav, "hardwareConcurrency", { value: threadCount(), configurable: true });
  return () => {
    delete nav.hardwareConcurrency;
  };
}

/** Installs what this runtime lacks (see the header), then imports jax-js. */
export async function importJax(): Promise<typeof Jax> {
  configureRelaxedSimd();
  await installIteratorHelpers();
  installFloat16Stub();
  const restoreNavigator = provideNavigator();
  // With OpenBLAS (native-blas.ts) the products run on its threads and the pool stays off unless
  // TILLER_BLAS_POOL=1. TILLER_THREADS=0 turns the pool off (single-threaded
  // wasm), e.g. to compare or to debug.
  const blas = nativeBlas(process.env.TILLER_THREADS === "0" ? 1 : threadCount());
  if ((blas === null || blasWithPool()) && process.env.TILLER_THREADS !== "0") installWorkerShim();
  try {
    const jax = await import("@jax-js/jax");
    // An install where patch-package did not run has no hook: wasm matmul then (single-threaded).
    if (blas !== null && typeof jax.setWasmMatmul === "function") jax.setWasmMatmul(blas.sgemm);
    else if (blas !== null) disableNativeBlas("jax-js is not patched (patches/, patch-package)");
    return jax;
  } finally {
    restoreNavigator();
  }
}

/** Ends the wasm worker threads. Only needed when a process wants to exit while work is queued. */
export async function shutdownWorkers(): Promise<void> {
  await Promise.all([...liveWorkers].map((w) => w.terminate()));
}
