/**
 * Crash-safe file writes: write a temp file in the same directory, fsync it, rename it over the
 * target (atomic on POSIX), fsync the directory. A reader sees the old file or the new one, never
 * half of one.
 */
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync, appendFileSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    const fd = openSync(tmp, "w");
    try {
      const bytes = typeof data === "string" ? Buffer.from(data) : data;
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new Error(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  syncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** One JSON object per line; a crash can only lose or truncate the last line, which readers skip. */
export function appendJsonLine(path: string, value: unknown): void {
  try {
    appendFileSync(path, JSON.stringify(value) + "\n");
  } catch (e) {
    throw new Error(`cannot append to ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  }
}
