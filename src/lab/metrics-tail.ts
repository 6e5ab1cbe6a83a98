/**
 * Reads an append-only JSON-lines file (a run's metrics.jsonl) from a byte offset: each complete
 * line once, never the half-written last one. The lab polls this (the writers append a line per
 * logged step; polling behaves the same on every filesystem, unlike fs.watch). A file that shrank
 * was rewritten (the run store cuts a crash's half line on resume), so reading restarts from zero
 * and the caller is told.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";

export type TailChunk = { lines: string[]; offset: number; reset: boolean };

/** Reads the complete lines after `offset`; `offset` in the result points past the last one. */
export function readNewLines(path: string, offset: number, maxBytes = 4 << 20): TailChunk {
  if (!existsSync(path)) return { lines: [], offset: 0, reset: offset > 0 };
  const size = statSync(path).size;
  let reset = false;
  if (size < offset) {
    offset = 0;
    reset = true;
  }
  if (size === offset) return { lines: [], offset, reset };
  const length = Math.min(size - offset, maxBytes);
  const buf = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    let read = 0;
    while (read < length) {
      const n = readSync(fd, buf, read, length - read, offset + read);
      if (n === 0) break;
      read += n;
    }
  } finally {
    closeSync(fd);
  }
  const end = buf.lastIndexOf(0x0a);
  if (end < 0) return { lines: [], offset, reset };
  const lines = buf
    .subarray(0, end)
    .toString("utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  return { lines, offset: offset + end + 1, reset };
}
