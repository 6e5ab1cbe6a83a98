/**
 * Node 20 lacks three things jax-js expects from a browser, and jax-js looks for them while its
 * module is being evaluated (the wasm backend is constructed at import time). This module must
 * therefore be imported before `@jax-js/jax` — `src/engine/jax.ts` does that, and every other file
 * imports jax-js through it.
 *
 * 1. `navigator` (read by `init()` and for `hardwareConcurrency`, the size of the worker pool).
 * 2. A Web `Worker`: jax-js runs its wasm kernels on a pool of workers sharing one
 *    `WebAssembly.Memory` when `SharedArrayBuffer` and `Worker` both exist. We adapt
 *    `node:worker_threads` to the small part of the Web Worker API jax-js uses.
 * 3. Iterator helpers (`iterator.map`), used by jax-js's einsum; Node 20 has none.
 * 4. `Float16Array`: jax-js tests `data instanceof Float16Array` when it builds an array from a JS
 *    list, which throws a ReferenceError on Node 20. A stand-in class makes the test answer false;
 *    float16 storage itself stays unavailable (it throws with a clear message).
 */
import "core-js/actual/iterator/index.js";
import os from "node:os";
import { Worker as NodeWorker } from "node:worker_threads";

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

/**
 * A Web-Worker-shaped object over a Node worker thread. jax-js's protocol answers every message
 * with exactly one reply, so we keep the thread referenced only while replies are outstanding:
 * an idle pool never keeps the process alive, a busy one always does.
 */
class WebWorkerAdapter {
  onmessage: Listener = null;
  onerror: ((e: { message: string }) => void) | null = null;
  #thread: NodeWorker;
  #outstanding = 0;

  constructor(url: string | URL) {
    const source = WebWorkerAdapter.#readSource(String(url));
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

  static #readSource(url: string): string {
    // jax-js builds its worker from a Blob URL. Node resolves Blob URLs only asynchronously, but a
    // Worker is constructed synchronously, so we keep the text captured at createObjectURL time.
    const text = blobSources.get(url);
    if (text === undefined) throw new Error(`worker source for ${url} was not captured`);
    return text;
  }

  postMessage(data: unknown): void {
    if (this.#outstanding++ === 0) this.#thread.ref();
    this.#thread.postMessage(data);
  }

  terminate(): void {
    void this.#thread.terminate();
  }
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
  g.Worker = WebWorkerAdapter;
}

function threadCount(): number {
  const fromEnv = Number(process.env.TILLER_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
}

const g = globalThis as Record<string, unknown>;
if (typeof g.Float16Array === "undefined") {
  g.Float16Array = class Float16ArrayUnavailable {
    constructor() {
      throw new Error("float16 arrays need Node.js ≥ 22 (Float16Array); use float32 on Node 20");
    }
  };
}
if (typeof g.navigator === "undefined") {
  g.navigator = { hardwareConcurrency: threadCount(), userAgent: `Node.js ${process.version}` };
}
// TILLER_THREADS=0 turns the pool off (single-threaded wasm), e.g. to compare or to debug.
if (process.env.TILLER_THREADS !== "0") installWorkerShim();

/** Ends the wasm worker threads. Only needed when a process wants to exit while work is queued. */
export async function shutdownWorkers(): Promise<void> {
  await Promise.all([...liveWorkers].map((w) => w.terminate()));
}
