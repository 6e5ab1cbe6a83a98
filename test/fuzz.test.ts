/**
 * Property-based fuzzing of the parsers that read files from disk: random and mutated inputs must
 * fail with the parser's own error (a clear message), never hang, never throw anything else.
 */
import fc from "fast-check";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { IdxError, parseIdx } from "../src/data/idx.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../src/engine/safetensors.js";

function validIdx(): Uint8Array {
  const out = new Uint8Array(4 + 8 + 6);
  out[2] = 8;
  out[3] = 2;
  new DataView(out.buffer).setUint32(4, 2, false);
  new DataView(out.buffer).setUint32(8, 3, false);
  out.set([1, 2, 3, 4, 5, 6], 12);
  return out;
}

function validSafetensors(): Uint8Array {
  return encodeSafetensors(
    {
      w: { dtype: "float32" as never, shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) },
      n: { dtype: "int32" as never, shape: [], data: new Int32Array([5]) },
    },
    { k: "v" },
  );
}

/** Flips, overwrites, truncates or extends a valid file. */
const mutation = (base: Uint8Array) =>
  fc
    .tuple(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(base.length + 16),
    )
    .map(([edits, length]) => {
      const out = new Uint8Array(length);
      out.set(base.subarray(0, Math.min(length, base.length)));
      for (const [i, b] of edits) if (i < length) out[i] = b;
      return out;
    });

function onlyOwnErrors(parse: (b: Uint8Array) => unknown, Own: new (...a: never[]) => Error) {
  return (bytes: Uint8Array) => {
    try {
      parse(bytes);
    } catch (e) {
      if (!(e instanceof Own)) throw new Error(`unexpected ${(e as Error).name}: ${(e as Error).message}`);
      expect((e as Error).message.length).toBeGreaterThan(0);
    }
  };
}

describe("parsers under fuzzing", () => {
  it("IDX: random bytes fail with IdxError", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), onlyOwnErrors(parseIdx, IdxError)), {
      numRuns: 2000,
    });
  });
  it("IDX: mutated valid files (raw and gzip) fail with IdxError or parse consistently", () => {
    const check = onlyOwnErrors(parseIdx, IdxError);
    fc.assert(fc.property(mutation(validIdx()), check), { numRuns: 2000 });
    fc.assert(fc.property(mutation(gzipSync(validIdx())), check), { numRuns: 1000 });
  });
  it("safetensors: random bytes fail with SafetensorsError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), onlyOwnErrors(decodeSafetensors, SafetensorsError)),
      {
        numRuns: 2000,
      },
    );
  });
  it("safetensors: mutated valid files fail with SafetensorsError or decode to the right sizes", () => {
    fc.assert(
      fc.property(mutation(validSafetensors()), (bytes) => {
        try {
          const { tensors } = decodeSafetensors(bytes);
          for (const t of Object.values(tensors))
            expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        } catch (e) {
          if (!(e instanceof SafetensorsError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
  it("safetensors: a header claiming huge sizes is refused before allocation", () => {
    const huge = new Uint8Array(8);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => decodeSafetensors(huge)).toThrow(/exceeds/);
  });
});
