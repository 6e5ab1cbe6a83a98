/**
 * Safe reading and folder creation for the run store. Every file of a run is read through
 * `readContained`: its real path (symlinks resolved) must lie inside the folder it belongs to, it
 * must be a regular file (a FIFO or a device would block or never end: it is opened non-blocking
 * and checked with fstat before any read), and it must fit a size limit. So a run folder planted
 * with links to /etc/passwd or a FIFO named status.json gives a one-line error, never a leak or a
 * hang. Folders are created one level at a time (`makeDirs`), because Node 20's recursive mkdir
 * loops forever on paths like /proc/x.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, realpathSync } from "node:fs";
import { dirname, parse, resolve, sep } from "node:path";

export class RunStoreError extends Error {
  override name = "RunStoreError";
}

/** A file refused for what it is, not for what it holds: a link out of the run, a FIFO, a device, too big. */
export class UnsafeRunFileError extends RunStoreError {
  override name = "UnsafeRunFileError";
}

/** JSON files of a run (config, status, index, results) are small; metrics logs can be long. */
export const MAX_JSON_BYTES = 64 << 20;
export const MAX_LOG_BYTES = 1 << 30;
/** Checkpoints of the language models are the largest files a run holds. */
export const MAX_CHECKPOINT_BYTES = 2 ** 31 - 1;

export function isInside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/**
 * The bytes of `path`, which must resolve inside `within` and be a regular file of at most
 * `maxBytes`. Errors are RunStoreErrors naming the file; a missing file says "cannot read (ENOENT)".
 */
export function readContained(path: string, within: string, maxBytes = MAX_JSON_BYTES): Buffer {
  return readContainedRange(path, within, 0, Infinity, maxBytes).bytes;
}

/**
 * Bytes [offset, offset + length) of `path` (fewer at its end), checked like `readContained`; the
 * size limit applies to the part read. `size` is the whole file's, for followers of a growing log.
 */
export function readContainedRange(
  path: string,
  within: string,
  offset: number,
  length: number,
  maxBytes = MAX_JSON_BYTES,
): { bytes: Buffer; size: number } {
  const fd = openContained(path, within);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new UnsafeRunFileError(`${path}: not a regular file, not read`);
    const want = Math.max(0, Math.min(st.size - offset, length));
    if (want > maxBytes)
      throw new UnsafeRunFileError(`${path}: ${want} bytes, over the ${maxBytes}-byte limit for this file`);
    const buf = Buffer.alloc(want);
    let off = 0;
    while (off < want) {
      const n = readSync(fd, buf, off, want - off, offset + off);
      if (n === 0) break;
      off += n;
    }
    return { bytes: off === want ? buf : buf.subarray(0, off), size: st.size };
  } catch (e) {
    if (e instanceof RunStoreError) throw e;
    throw new RunStoreError(`${path}: cannot read (${code(e)})`);
  } finally {
    closeSync(fd);
  }
}

function openContained(path: string, within: string): number {
  let real: string;
  let realWithin: string;
  try {
    real = realpathSync(path);
    realWithin = realpathSync(within);
  } catch (e) {
    throw new RunStoreError(`${path}: cannot read (${code(e)})`);
  }
  if (!isInside(realWithin, real))
    throw new UnsafeRunFileError(`${path}: resolves outside ${within} (a symbolic link?), not read`);
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    return openSync(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (e) {
    throw new RunStoreError(`${path}: cannot read (${code(e)})`);
  }
}

export function readContainedText(path: string, within: string, maxBytes = MAX_JSON_BYTES): string {
  return readContained(path, within, maxBytes).toString("utf8");
}

export function readContainedJson(path: string, within: string): unknown {
  const text = readContainedText(path, within);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new RunStoreError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** What `path` is without following a final symlink, or undefined when nothing is there. */
export function entryKind(path: string): "file" | "dir" | "link" | "other" | undefined {
  try {
    const st = lstatSync(path);
    return st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "link" : "other";
  } catch {
    return undefined;
  }
}

/**
 * `mkdir -p` that fails with one line: each missing level is created on its own, so a path the
 * kernel refuses (under /proc, a file in the way, no permission, a full disk) is an error naming it.
 */
export function makeDirs(path: string): void {
  const target = resolve(path);
  const missing: string[] = [];
  let p = target;
  const top = parse(target).root;
  while (p !== top) {
    let st;
    try {
      st = lstatSync(p);
    } catch {
      missing.push(p);
      p = dirname(p);
      continue;
    }
    if (st.isDirectory() || (st.isSymbolicLink() && isDirThroughLink(p))) break;
    throw new FolderError(target, "ENOTDIR", p);
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if (code(e) === "EEXIST" && entryKind(dir) === "dir") continue;
      throw new FolderError(target, code(e), dir);
    }
  }
}

/** The error of `makeDirs`: which folder, the errno code, and where on the way it happened. */
export class FolderError extends RunStoreError {
  override name = "FolderError";
  constructor(
    readonly target: string,
    readonly code: string,
    readonly at: string,
  ) {
    super(`cannot create folder ${target} (${code} at ${at})`);
  }
}

function isDirThroughLink(p: string): boolean {
  try {
    return lstatSync(realpathSync(p)).isDirectory();
  } catch {
    return false;
  }
}
