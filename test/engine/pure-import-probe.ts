/**
 * Child process for pure-import.test.ts: snapshots the globals jax-js and the Node shims touch,
 * imports the library entry, snapshots again, then starts the engine and computes one sum. Prints
 * one JSON line: what the import changed (must be nothing), what startEngine replaced that the
 * runtime already had (must be nothing), and the sum.
 */
const WATCHED = ["Blob", "URL", "Worker", "navigator", "Float16Array", "Iterator", "self", "postMessage"];
const RELAXED_SIMD = Buffer.from(
  "0061736d0100000001080160037b7b7b017b030201000a0d010b00200020012002fd85020b",
  "hex",
);

type Snapshot = {
  names: string[];
  descriptors: Map<string, PropertyDescriptor | undefined>;
  urlMethods: Map<string, unknown>;
  navigator: Map<string, PropertyDescriptor | undefined>;
  iteratorHelpers: string[];
  relaxedSimd: boolean;
  execArgv: string[];
};

function snapshot(): Snapshot {
  const nav = (globalThis as { navigator?: object }).navigator;
  const iter = (globalThis as { Iterator?: { prototype: object } }).Iterator;
  return {
    names: Object.getOwnPropertyNames(globalThis).sort(),
    descriptors: new Map(WATCHED.map((n) => [n, Object.getOwnPropertyDescriptor(globalThis, n)])),
    urlMethods: new Map(
      ["createObjectURL", "revokeObjectURL"].map((n) => [n, (URL as unknown as Record<string, unknown>)[n]]),
    ),
    navigator: new Map(
      nav
        ? ["hardwareConcurrency", "userAgent", "gpu"].map((n) => [n, Object.getOwnPropertyDescriptor(nav, n)])
        : [],
    ),
    iteratorHelpers: iter ? Object.getOwnPropertyNames(iter.prototype).sort() : [],
    relaxedSimd: WebAssembly.validate(RELAXED_SIMD),
    execArgv: [...process.execArgv],
  };
}

const sameDescriptor = (a?: PropertyDescriptor, b?: PropertyDescriptor) =>
  a === b ||
  (a !== undefined &&
    b !== undefined &&
    a.value === b.value &&
    a.get === b.get &&
    a.set === b.set &&
    a.writable === b.writable &&
    a.enumerable === b.enumerable &&
    a.configurable === b.configurable);

/** What differs between two snapshots; `existingOnly` ignores globals the first one lacked. */
function changes(a: Snapshot, b: Snapshot, existingOnly: boolean): string[] {
  const out: string[] = [];
  if (!existingOnly && a.names.join() !== b.names.join())
    out.push(
      `globals: +${b.names.filter((n) => !a.names.includes(n))} -${a.names.filter((n) => !b.names.includes(n))}`,
    );
  for (const [name, d] of a.descriptors)
    if ((!existingOnly || d !== undefined) && !sameDescriptor(d, b.descriptors.get(name)))
      out.push(`globalThis.${name}`);
  for (const [name, f] of a.urlMethods) if (f !== b.urlMethods.get(name)) out.push(`URL.${name}`);
  for (const [name, d] of a.navigator)
    if ((!existingOnly || d !== undefined) && !sameDescriptor(d, b.navigator.get(name)))
      out.push(`navigator.${name}`);
  if (a.iteratorHelpers.length > 0 && a.iteratorHelpers.join() !== b.iteratorHelpers.join())
    out.push("Iterator.prototype");
  if (!existingOnly && a.iteratorHelpers.join() !== b.iteratorHelpers.join()) out.push("Iterator.prototype");
  if (a.relaxedSimd !== b.relaxedSimd && (!existingOnly || a.relaxedSimd)) out.push("wasm relaxed SIMD flag");
  if (a.execArgv.join() !== b.execArgv.join()) out.push("execArgv");
  return [...new Set(out)];
}

const before = snapshot();
const tiller = await import(process.argv[2] ?? "../../src/index.js");
const afterImport = snapshot();
await tiller.startEngine();
const { numpy: np } = tiller.engine;
const sum = (await np.array([1, 2, 3.5]).sum().data())[0];
const afterStart = snapshot();
console.log(
  JSON.stringify({
    importChanged: changes(before, afterImport, false),
    startReplaced: changes(before, afterStart, true),
    sum,
    node: process.version,
  }),
);
