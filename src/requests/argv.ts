/**
 * A request written back as the command line that asks for it (the inverse of the CLI's parsing in
 * `cli/request-options.ts`): the lab's jobs and the sweep's members run as ordinary commands.
 */
import { flagOf, type Field, type RequestDef } from "./request.js";

function textOf(f: Field, value: unknown): string[] {
  if (f.meta.toText) return f.meta.toText(value as never);
  if (Array.isArray(value)) return [value.join(",")];
  return [String(value)];
}

/** The command-line arguments that ask for `request` (after the command's own words). */
export function requestArgv(def: RequestDef, request: Record<string, unknown>): string[] {
  const positionals: string[] = [];
  const flags: string[] = [];
  for (const [name, f] of Object.entries(def.fields)) {
    const value = request[name];
    if (value === undefined || f.meta.cli === false) continue;
    if (f.meta.positional) positionals.push(String(value));
    else if (typeof value === "boolean") {
      if (value !== Boolean(f.meta.negatable)) flags.push(`--${value ? "" : "no-"}${flagOf(name, f.meta)}`);
    } else for (const text of textOf(f, value)) flags.push(`--${flagOf(name, f.meta)}`, text);
  }
  return [...positionals, ...flags];
}
