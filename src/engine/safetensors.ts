/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}, then the raw
 * little-endian tensor bytes. Every field is validated before anything is allocated, because
 * checkpoints come from disk and disks lie (truncation, a crash mid-write, a hostile file).
 */
import type { HostTensor, HostTensors } from "./tree.js";

/** Header bigger than this is refused before reading it (the reference implementation uses 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPES = {
  F32: { bytes: 4, jax: "float32", Array: Float32Array },
  F64: { bytes: 8, jax: "float64", Array: Float64Array },
  I32: { bytes: 4, jax: "int32", Array: Int32Array },
  U32: { bytes: 4, jax: "uint32", Array: Uint32Array },
} as const;
type StDType = keyof typeof DTYPES;
/** Half-precision dtypes are read (Hugging Face checkpoints ship them) and widened to float32; never written. */
const HALF_DTYPES = { F16: halfToFloat32, BF16: bfloat16ToFloat32 } as const;
type HalfDType = keyof typeof HALF_DTYPES;

export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

export type Safetensors = { tensors: HostTensors; metadata: Record<string, string> };

function stDType(jaxDType: string): StDType {
  for (const [name, d] of Object.entries(DTYPES)) if (d.jax === jaxDType) return name as StDType;
  throw new SafetensorsError(
    `cannot store dtype ${jaxDType} in safetensors (supported: float32, float64, int32, uint32)`,
  );
}

export function encodeSafetensors(tensors: HostTensors, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== expected)
      throw new SafetensorsError(`tensor "${name}": ${t.data.length} values for shape [${t.shape}]`);
    const bytes = t.data.byteLength;
    header[name] = { dtype: stDType(t.dtype), shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // alignment, as the reference writer does
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array): Safetensors {
  if (bytes.length < 8)
    throw new SafetensorsError(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  if (8 + n > bytes.length)
    throw new SafetensorsError(
      `header claims ${n} bytes but the file has only ${bytes.length - 8} after the length`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header))
    throw new SafetensorsError("header is not a JSON object");
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors: HostTensors = {};
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      metadata = parseMetadata(entry);
      continue;
    }
    const { dtype, shape, begin, end } = parseEntry(name, entry);
    const info = dtype in HALF_DTYPES ? { bytes: 2, jax: "float32" } : DTYPES[dtype as StDType];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * info.bytes)
      throw new SafetensorsError(
        `tensor "${name}": data_offsets span ${end - begin} bytes but ${dtype}[${shape}] needs ${count * info.bytes}`,
      );
    if (end > dataLength)
      throw new SafetensorsError(
        `tensor "${name}": data ends at byte ${end} but the data section has ${dataLength}`,
      );
    ranges.push([begin, end, name]);
    // Copy into a fresh, aligned buffer: the file's offsets need not be aligned for typed arrays.
    // (Buffer#slice shares memory, so copy explicitly.)
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(dataStart + begin, dataStart + end));
    const data =
      dtype in HALF_DTYPES
        ? HALF_DTYPES[dtype as HalfDType](new Uint16Array(raw.buffer))
        : new DTYPES[dtype as StDType].Array(raw.buffer);
    tensors[name] = { dtype: info.jax, shape, data } as HostTensor;
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i][0] < ranges[i - 1][1])
      throw new SafetensorsError(`tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap`);
  return { tensors, metadata };
}

function parseMetadata(entry: unknown): Record<string, string> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry))
    throw new SafetensorsError("__metadata__ is not an object");
  for (const [k, v] of Object.entries(entry))
    if (typeof v !== "string") throw new SafetensorsError(`__metadata__.${k} is not a string`);
  return entry as Record<string, string>;
}

function parseEntry(name: string, entry: unknown) {
  if (typeof entry !== "object" || entry === null)
    throw new SafetensorsError(`tensor "${name}": entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string" || !(dtype in DTYPES || dtype in HALF_DTYPES))
    throw new SafetensorsError(`tensor "${name}": unsupported dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
    throw new SafetensorsError(`tensor "${name}": shape ${JSON.stringify(shape)} is not a list of sizes`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
    offsets[0] > offsets[1]
  )
    throw new SafetensorsError(`tensor "${name}": bad data_offsets ${JSON.stringify(offsets)}`);
  return {
    dtype: dtype as StDType | HalfDType,
    shape: shape as number[],
    begin: offsets[0] as number,
    end: offsets[1] as number,
  };
}

/** bfloat16 is the top half of a float32: shift the bits back into place. */
function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i] << 16;
  return new Float32Array(out.buffer);
}

/** IEEE 754 binary16 → float32, subnormals, infinities and NaN included. */
function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}
