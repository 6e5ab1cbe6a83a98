/**
 * One process owns a run while it writes it. `<run>/lock` holds the owner's pid; it is created
 * whole (written to a temp file, then hard-linked into place, which fails if a lock exists), so a
 * reader never sees half a lock. A lock whose process is gone (SIGKILL, power loss) is stale and
 * taken over; a live owner means the second process stops with one line. The lock is released at
 * exit; temp files a killed writer left (`.name.tmp-PID`) are removed when a new owner takes over.
 */
import { linkSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";
import { readContainedJson, RunStoreError } from "./files.js";

export const LOCK_FILE = "lock";

export class RunBusyError extends RunStoreError {
  override name = "RunBusyError";
}

type LockOwner = { pid: number; host: string; since: string };

const held = new Set<string>();
let exitHookInstalled = false;

/** Whether process `pid` runs (a zombie counts as gone: it will never write again). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

function owner(file: string, dir: string): LockOwner | undefined {
  try {
    const o = readContainedJson(file, dir) as Partial<LockOwner> | null;
    return o && Number.isSafeInteger(o.pid) && (o.pid as number) > 0 ? (o as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Makes this process the owner of the run in `dir`, or throws RunBusyError naming the live owner.
 * Taking a lock this process already holds is a no-op.
 */
export function acquireRunLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  if (held.has(file)) return;
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const tmp = join(dir, `.${LOCK_FILE}.tmp-${process.pid}`);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      rmSync(tmp, { force: true });
      writeFileSync(tmp, JSON.stringify(me) + "\n", { flag: "wx" });
      linkSync(tmp, file);
      unlinkSync(tmp);
      held.add(file);
      installExitHook();
      removeStaleTemps(dir);
      return;
    } catch (e) {
      rmSync(tmp, { force: true });
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") throw new RunStoreError(`cannot lock run ${dir} (${code ?? (e as Error).message})`);
    }
    const o = owner(file, dir);
    if (o?.pid === process.pid && o.host === me.host) {
      held.add(file);
      installExitHook();
      return;
    }
    if (o && o.host === me.host && processAlive(o.pid))
      throw new RunBusyError(
        `run ${basename(dir)} is in use by process ${o.pid} (since ${o.since}); wait for it to end or stop it`,
      );
    if (o && o.host !== me.host)
      throw new RunBusyError(`run ${basename(dir)} is locked by process ${o.pid} on ${o.host} (remove ${file} if it is gone)`);
    // A dead owner, or a lock file that is not one: stale, take it over.
    rmSync(file, { force: true });
  }
  throw new RunBusyError(`cannot lock run ${dir}: its lock file keeps changing`);
}

/** Gives up this process's lock on the run in `dir` (a no-op when not held). */
export function releaseRunLock(dir: string): void {
  const file = join(dir, LOCK_FILE);
  if (!held.delete(file)) return;
  try {
    if (owner(file, dir)?.pid === process.pid) unlinkSync(file);
  } catch {
    // already gone: nothing to release
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const file of held) {
      try {
        unlinkSync(file);
      } catch {
        // the run folder may be gone (tests remove theirs)
      }
    }
    held.clear();
  });
}

/** `.name.tmp-PID` files of writers that died mid-write, in the run folder and its checkpoints. */
function removeStaleTemps(dir: string): void {
  for (const sub of [dir, join(dir, "checkpoints")]) {
    let names: string[];
    try {
      names = readdirSync(sub);
    } catch {
      continue;
    }
    for (const name of names) {
      const pid = /^\..+\.tmp-(\d+)$/.exec(name)?.[1];
      if (pid && Number(pid) !== process.pid && !processAlive(Number(pid))) rmSync(join(sub, name), { force: true });
    }
  }
}
