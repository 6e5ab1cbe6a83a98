/**
 * Reads an append-only JSON-lines file (a run's metrics.jsonl) from a byte offset: each complete
 * line once, never the half-written last one. The lab polls this (the writers append a line per
 * logged step; polling behaves the same on every filesystem, unlike fs.watch). A file that shrank
 * was rewritten (the run store cuts a crash's half line on resume), so reading restarts from zero
 * and the caller is told. The file is read through the run store's contained reader: a link out of
 * `within` or a FIFO is never opened for reading.
 */
import { entryKind, readContainedRange } from "../runs/files.js";

export type TailChunk = { lines: string[]; offset: number; reset: boolean };

/** Reads the complete lines after `offset`; `offset` in the result points past the last one. */
export function readNewLines(path: string, offset: number, within: string, maxBytes = 4 << 20): TailChunk {
  if (entryKind(path) === undefined) return { lines: [], offset: 0, reset: offset > 0 };
  let { bytes, size } = readContainedRange(path, within, offset, maxBytes);
  let reset = false;
  if (size < offset) {
    offset = 0;
    reset = true;
    ({ bytes, size } = readContainedRange(path, within, 0, maxBytes));
  }
  const end = bytes.lastIndexOf(0x0a);
  if (end < 0) return { lines: [], offset, reset };
  const lines = bytes
    .subarray(0, end)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  return { lines, offset: offset + end + 1, reset };
}
