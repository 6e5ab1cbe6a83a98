/**
 * Commander options from a request schema (`requests/`): flags, placeholders, help text and
 * defaults come from the one declaration; a bad value is refused by the field's own zod schema
 * (commander names the flag, exit 2); old spellings are hidden aliases that print one deprecation
 * line. The inverse is `requests/argv.ts`.
 */
import { Argument, Command, InvalidArgumentError, Option } from "commander";
import { describeField, shapeOf, type FieldInfo } from "../requests/describe.js";
import {
  flagOf,
  notResumable,
  parseRequest,
  requestErrorMap,
  type Field,
  type RequestDef,
  type RequestOf,
} from "../requests/request.js";
import { UsageError } from "../errors.js";

const PLACEHOLDER: Partial<Record<FieldInfo["type"], string>> = {
  integer: "<n>",
  number: "<x>",
  enum: "<name>",
  string: "<text>",
  list: "<list>",
};

/** Text → value by the field's type, then checked by its schema; commander prints the message. */
function textParser(f: Field, info: FieldInfo) {
  return (text: string, previous: unknown): unknown => {
    let value: unknown;
    try {
      value = f.meta.fromText ? f.meta.fromText(text, previous) : fromTextByType(text, info);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    const checked = f.schema.safeParse(value, { errorMap: requestErrorMap });
    if (!checked.success) throw new InvalidArgumentError(checked.error.issues[0]?.message ?? "invalid value");
    return checked.data;
  };
}

function fromTextByType(text: string, info: Pick<FieldInfo, "type" | "item">): unknown {
  const t = text.trim();
  if (info.type === "integer" || info.type === "number") {
    if (t === "" || !Number.isFinite(Number(t))) throw new Error(`expected a number, got "${text}"`);
    return Number(t);
  }
  if (info.type === "list")
    return t.split(",").map((part) => fromTextByType(part, { type: info.item?.type ?? "string" }));
  return text;
}

function helpText(f: Field, info: FieldInfo): string {
  const dflt = f.meta.defaultText ?? (info.default !== undefined ? textOfDefault(info.default) : undefined);
  return dflt === undefined || info.type === "boolean"
    ? f.meta.description
    : `${f.meta.description} (default ${dflt})`;
}

function option(name: string, f: Field, flag: string, hidden: boolean): Option {
  const info = describeField(name, f.schema, f.meta);
  if (info.type === "boolean") {
    const o = new Option(`--${f.meta.negatable ? "no-" : ""}${flag}`, f.meta.description);
    return hidden ? o.hideHelp() : o;
  }
  const placeholder = f.meta.placeholder ?? PLACEHOLDER[info.type] ?? "<value>";
  const o = new Option(`--${flag} ${placeholder}`, helpText(f, info));
  if (info.type === "enum" && !f.meta.fromText && info.choices) o.choices(info.choices);
  else o.argParser(textParser(f, info));
  return hidden ? o.hideHelp() : o;
}

/** Commander's attribute for a flag (`batch-size` → `batchSize`, `no-report` → `report`). */
function attribute(flag: string): string {
  return flag.replace(/^no-/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds the request's arguments and options to `cmd` (fields with `cli: false` are left out). */
export function addRequestOptions(cmd: Command, def: RequestDef): Command {
  for (const [name, f] of Object.entries(def.fields)) {
    if (f.meta.cli === false) continue;
    if (f.meta.positional) {
      // A positional that used to be a flag is optional on the command line: the old flag may carry it.
      const arg = f.meta.aliases?.length ? `[${name}]` : `<${name}>`;
      cmd.addArgument(new Argument(arg, f.meta.description));
    } else cmd.addOption(option(name, f, flagOf(name, f.meta), false));
    for (const alias of f.meta.aliases ?? []) cmd.addOption(option(name, f, alias, true));
  }
  return cmd;
}

/** The fields given on the command line (no defaults), old spellings mapped to the new ones. */
export function givenFields(cmd: Command, def: RequestDef): Record<string, unknown> {
  const all = cmd.opts<Record<string, unknown>>();
  // Only what the command line said: commander's own defaults (`--no-x` is true) are not given.
  const opts = Object.fromEntries(
    Object.entries(all).filter(([k]) => ["cli", "env"].includes(cmd.getOptionValueSource(k) ?? "")),
  );
  const given: Record<string, unknown> = {};
  let position = 0;
  for (const [name, f] of Object.entries(def.fields)) {
    if (f.meta.cli === false) continue;
    const value = f.meta.positional ? cmd.processedArgs[position++] : opts[attribute(flagOf(name, f.meta))];
    if (value !== undefined) given[name] = value;
    for (const alias of f.meta.aliases ?? []) {
      const old = opts[attribute(alias)];
      if (old === undefined) continue;
      const now = f.meta.positional ? `the <${name}> argument` : `--${flagOf(name, f.meta)}`;
      process.stderr.write(`tiller: --${alias} is deprecated; use ${now}\n`);
      if (given[name] !== undefined && given[name] !== old)
        throw new UsageError(`--${alias} and ${now} disagree; give only ${now}`);
      given[name] = old;
    }
    if (f.meta.positional && given[name] === undefined && !shapeOf(f.schema).optional)
      throw new UsageError(`missing the <${name}> argument (${f.meta.description})`);
  }
  return given;
}

/**
 * The validated request a command line asks for, and which fields it gave explicitly; with
 * `--resume`, a UsageError naming the options the run's config fixes (not `resumable`).
 */
export function requestFromCommand<D extends RequestDef>(
  cmd: Command,
  def: D,
): { request: RequestOf<D>; given: string[] } {
  const given = givenFields(cmd, def);
  const request = parseRequest(def, given);
  // A resumed run goes on with the config it was made with: options that would change it are refused.
  if ((request as { resume?: string }).resume !== undefined) {
    const fixed = notResumable(def, Object.keys(given)).map((k) => `--${flagOf(k, def.fields[k].meta)}`);
    if (fixed.length) throw new UsageError(`${fixed.join(", ")}: fixed by the run's config on --resume`);
  }
  return { request, given: Object.keys(given) };
}

function textOfDefault(value: unknown): string {
  return Array.isArray(value)
    ? value.join(",")
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);
}
