/**
 * A run's tags (as in W&B): short labels a person gives runs to find them again, kept in the run's
 * own folder as tags.json so they travel with the run. The only file the lab writes into a run.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../runs/atomic.js";
import { readContainedJson } from "../runs/files.js";

export const TAG = /^[\p{L}\p{N}][\p{L}\p{N}._:+-]{0,31}$/u;
export const MAX_TAGS = 16;

/** The tags of the run in `dir` (none when tags.json is missing or unreadable). */
export function readTags(dir: string): string[] {
  const path = join(dir, "tags.json");
  if (!existsSync(path)) return [];
  try {
    // Contained: a tags.json that links out of the run or is a FIFO counts as no tags.
    const v = readContainedJson(path, dir);
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string" && TAG.test(t)) : [];
  } catch {
    return [];
  }
}

/** Checks a request's tags: a list of short words, each at most once (RangeError says what is wrong). */
export function parseTags(body: unknown): string[] {
  const tags = (body as { tags?: unknown } | null)?.tags;
  if (!Array.isArray(tags)) throw new RangeError('expected {"tags": ["baseline", …]}');
  if (tags.length > MAX_TAGS) throw new RangeError(`at most ${MAX_TAGS} tags a run`);
  for (const t of tags)
    if (typeof t !== "string" || !TAG.test(t))
      throw new RangeError(
        `invalid tag ${JSON.stringify(t)}: up to 32 letters, digits, ".", "_", ":", "+" or "-", starting with a letter or digit`,
      );
  return [...new Set(tags as string[])];
}

export function writeTags(dir: string, tags: string[]): void {
  writeJsonAtomic(join(dir, "tags.json"), tags);
}
