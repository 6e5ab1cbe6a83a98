import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../src/engine/safetensors.js";
import type { HostTensors } from "../src/engine/tree.js";

const fixture = (p: string) => new URL(`./fixtures/reference/safetensors/${p}`, import.meta.url);

function sample(): HostTensors {
  return {
    "fc0.weight": { dtype: "float32" as never, shape: [2, 3], data: new Float32Array([1, -2, 3.5, 4, 5, 6]) },
    "fc0.bias": { dtype: "float32" as never, shape: [2], data: new Float32Array([0.25, -0.5]) },
    count: { dtype: "int32" as never, shape: [], data: new Int32Array([7]) },
    scale: { dtype: "float64" as never, shape: [1], data: new Float64Array([Math.PI]) },
  };
}

describe("safetensors", () => {
  it("round-trips tensors and metadata exactly", () => {
    const bytes = encodeSafetensors(sample(), { epoch: "3" });
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ epoch: "3" });
    for (const [name, t] of Object.entries(sample())) {
      expect(tensors[name].shape).toEqual(t.shape);
      expect(tensors[name].dtype).toBe(t.dtype);
      expect(Array.from(tensors[name].data)).toEqual(Array.from(t.data));
    }
  });

  it("aligns the header to 8 bytes as the reference writer does", () => {
    const bytes = encodeSafetensors(sample());
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
  });

  it("reads a file written by independent Python code", () => {
    const bytes = readFileSync(fixture("python-written.safetensors"));
    const expected = JSON.parse(readFileSync(fixture("python-written.json"), "utf8"));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual(expected.metadata);
    const names = Object.keys(expected.tensors);
    expect(Object.keys(tensors).sort()).toEqual(names.sort());
    for (const [name, e] of Object.entries(
      expected.tensors as Record<string, { shape: number[]; data: number[] }>,
    )) {
      expect(tensors[name].shape).toEqual(e.shape);
      expect(Array.from(tensors[name].data)).toEqual(e.data); // exact: the fixture stores the stored values
    }
  });

  const bad: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ["an empty file", () => new Uint8Array(0), /shorter than the 8-byte/],
    ["a header length beyond the file", (b) => b.subarray(0, 20), /header claims/],
    ["a truncated data section", (b) => b.subarray(0, b.length - 4), /data ends at byte/],
    [
      "a header length of 2^60",
      (b) => {
        const c = b.slice();
        new DataView(c.buffer).setBigUint64(0, 1n << 60n, true);
        return c;
      },
      /exceeds the/,
    ],
    [
      "garbage JSON",
      (b) => {
        const c = b.slice();
        c[8] = 0x7b;
        c[9] = 0x7b;
        return c;
      },
      /not valid UTF-8 JSON/,
    ],
  ];
  for (const [what, corrupt, message] of bad) {
    it(`rejects ${what} with a clear error`, () => {
      const bytes = corrupt(encodeSafetensors(sample()));
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(message);
    });
  }

  it("rejects a header that lies about a tensor's size", () => {
    const header = JSON.stringify({ w: { dtype: "F32", shape: [4], data_offsets: [0, 8] } });
    const h = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + h.length + 8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
    bytes.set(h, 8);
    expect(() => decodeSafetensors(bytes)).toThrow(/needs 16/);
  });
});
