/**
 * Importing the library changes nothing in the process: no global, no `URL` method, no V8 flag.
 * `startEngine()` then installs only what the runtime lacks (src/engine/node-shim.ts) and works.
 * Each case runs in a fresh `node`, since the suite's own setup loads the engine.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

type Probe = { importChanged: string[]; startReplaced: string[]; sum: number };

function probe(env: Record<string, string> = {}): Probe {
  const out = execFileSync(process.execPath, ["--import", "tsx", "test/engine/pure-import-probe.ts"], {
    encoding: "utf8",
    env: { ...process.env, TILLER_THREADS: "2", ...env },
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Probe;
}

describe("importing the library", () => {
  it("leaves globalThis unchanged; startEngine then computes, replacing only what the Worker shim wraps", () => {
    const result = probe();
    expect(result.importChanged).toEqual([]);
    // Node has no Web Worker; the shim that adds one wraps Blob and URL.createObjectURL to read
    // jax-js's worker source synchronously. Nothing else the runtime has is replaced.
    expect(result.startReplaced).toEqual(["globalThis.Blob", "URL.createObjectURL", "URL.revokeObjectURL"]);
    expect(result.sum).toBe(6.5);
  });

  it("with the worker pool off, startEngine replaces nothing the runtime has", () => {
    const result = probe({ TILLER_THREADS: "0" });
    expect(result.importChanged).toEqual([]);
    expect(result.startReplaced).toEqual([]);
    expect(result.sum).toBe(6.5);
  });
});
