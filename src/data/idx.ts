/**
 * IDX files (the MNIST family's format): magic 0x0000 + type byte + number of dimensions, then one
 * big-endian uint32 per dimension, then the data. Gzip is detected by its own magic bytes.
 * Every claim the file makes is checked against its actual size before anything is allocated.
 */
import { gunzipSync } from "node:zlib";
import { readFileSync } from "node:fs";

export class IdxError extends Error {
  override name = "IdxError";
}

export type IdxArray = { dims: number[]; data: Uint8Array };

const UBYTE = 0x08;
/** Refuse to inflate beyond this: a gzip bomb must not take the machine down. */
const MAX_INFLATED_BYTES = 1 << 30;

export function parseIdx(bytes: Uint8Array, source = "IDX data"): IdxArray {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch (e) {
      throw new IdxError(`${source}: corrupt gzip stream (${(e as Error).message})`);
    }
  }
  if (bytes.length < 4) throw new IdxError(`${source}: ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new IdxError(
      `${source}: bad magic number (expected 0x0000 then type and rank, got 0x${hex(bytes, 4)})`,
    );
  if (bytes[2] !== UBYTE)
    throw new IdxError(`${source}: element type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) throw new IdxError(`${source}: rank ${rank} is outside 1..4`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) throw new IdxError(`${source}: truncated header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerBytes;
  if (actual < count)
    throw new IdxError(`${source}: truncated: header promises ${count} bytes of data, file has ${actual}`);
  if (actual > count)
    throw new IdxError(`${source}: ${actual - count} unexpected trailing bytes after the data`);
  return { dims, data: bytes.subarray(headerBytes) };
}

export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new IdxError(`${path}: cannot read (${err.code ?? err.message})`);
  }
  return parseIdx(bytes, path);
}

function hex(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join("");
}
