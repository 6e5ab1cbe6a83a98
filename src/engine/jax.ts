/**
 * The one door to jax-js. Importing Tiller must change nothing in the process (no globals, no V8
 * flags, no threads), but jax-js reads `navigator`, `Worker` and friends while its module body is
 * being evaluated (the wasm backend and its worker pool are built at import time). So jax-js is not
 * imported statically: `loadEngine()` (called by `startEngine()`) first installs what this runtime
 * lacks (node-shim.ts), then imports it. The names below forward to the loaded module; using one
 * before the engine is loaded is an error that says what to call.
 */
import type * as Jax from "@jax-js/jax";
import { importJax } from "./node-shim.js";

export type * from "@jax-js/jax";
export { shutdownWorkers } from "./node-shim.js";

type JaxModule = typeof Jax;

let loading: Promise<JaxModule> | undefined;
let loaded: JaxModule | undefined;

/** Installs what the runtime lacks and imports jax-js, once per process. */
export function loadEngine(): Promise<JaxModule> {
  loading ??= importJax().then((m) => (loaded = m));
  return loading;
}

function jax(): JaxModule {
  if (loaded === undefined)
    throw new Error(
      "the engine is not started: call `await startEngine()` before using Tiller's models or arrays",
    );
  return loaded;
}

/** A jax-js namespace (numpy, nn, …) whose members are looked up on the loaded module. */
function lazyNamespace<K extends "numpy" | "nn" | "lax" | "random" | "tree" | "profiler">(
  key: K,
): JaxModule[K] {
  const target = {} as JaxModule[K];
  return new Proxy(target, {
    get: (_, property) => Reflect.get(jax()[key], property) as unknown,
    has: (_, property) => Reflect.has(jax()[key], property),
  });
}

/** A jax-js function, called on the loaded module. */
function lazyFunction<
  K extends "jit" | "grad" | "valueAndGrad" | "vmap" | "jvp" | "init" | "defaultDevice" | "getWebGPUDevice",
>(key: K): JaxModule[K] {
  const forward = (...args: unknown[]): unknown => (jax()[key] as (...a: unknown[]) => unknown)(...args);
  return forward as JaxModule[K];
}

export const numpy: JaxModule["numpy"] = lazyNamespace("numpy");
export const nn: JaxModule["nn"] = lazyNamespace("nn");
export const lax: JaxModule["lax"] = lazyNamespace("lax");
export const random: JaxModule["random"] = lazyNamespace("random");
export const tree: JaxModule["tree"] = lazyNamespace("tree");
export const profiler: JaxModule["profiler"] = lazyNamespace("profiler");
export const jit: JaxModule["jit"] = lazyFunction("jit");
export const grad: JaxModule["grad"] = lazyFunction("grad");
export const valueAndGrad: JaxModule["valueAndGrad"] = lazyFunction("valueAndGrad");
export const vmap: JaxModule["vmap"] = lazyFunction("vmap");
export const jvp: JaxModule["jvp"] = lazyFunction("jvp");
export const init: JaxModule["init"] = lazyFunction("init");
export const defaultDevice: JaxModule["defaultDevice"] = lazyFunction("defaultDevice");
export const getWebGPUDevice: JaxModule["getWebGPUDevice"] = lazyFunction("getWebGPUDevice");

// The types that live in jax-js's namespaces (`np.Array`, `np.DType`, `tree.JsTree`), so that
// `import { numpy as np }` keeps working in type positions.
/* eslint-disable @typescript-eslint/no-namespace */
export declare namespace numpy {
  export type Array = Jax.numpy.Array;
  export type DType = Jax.numpy.DType;
  export type ArrayLike = Jax.numpy.ArrayLike;
}
export declare namespace tree {
  export type JsTree<T> = Jax.tree.JsTree<T>;
  export type JsTreeDef = Jax.tree.JsTreeDef;
}
