/**
 * A request is what a user asks one command to do, declared once: a zod schema per field plus the
 * metadata the front ends need (description, CLI flag, old spellings, whether it may change on
 * resume). The CLI builds its options from it (`cli/request-options.ts`), the lab validates its jobs
 * and lists its form fields with it, sweeps validate their specs with it, and the library derives
 * the run's config.json from the validated value. Defaults and ranges live in the zod schema only.
 */
import { z } from "zod";
import { UsageError } from "../errors.js";

export type FieldMeta = {
  /** One line for `--help` and the lab's form. */
  description: string;
  /** The CLI flag without dashes; default: the field name in kebab case (`batchSize` → `batch-size`). */
  flag?: string;
  /** The value's name in `--help` (`<n>`); default from the type. */
  placeholder?: string;
  /** The run (or model) the command reads: a positional argument on the CLI, not a flag. */
  positional?: boolean;
  /** Old flag spellings: still accepted, hidden from `--help`, one deprecation line on stderr. */
  aliases?: string[];
  /** May be given again with `--resume` (it changes how the run goes on, not what was recorded). */
  resumable?: boolean;
  /** Not a CLI option (the lab or a sweep sets it; or the command declares its own flag). */
  cli?: false;
  /** Not a field of the lab's form (paths on the server's disk, resume, presentation). */
  form?: false;
  /** The default as `--help` shows it when zod cannot say it (computed elsewhere). */
  defaultText?: string;
  /**
   * The value an absent field stands for, where the schema must keep it optional to tell "not given"
   * apart (train's --epochs on a resume); the lab's form shows it as the default.
   */
  implicitDefault?: unknown;
  /** Text from the command line → the value zod checks; default by the field's type. */
  fromText?: (text: string, previous: unknown) => unknown;
  /** The value → its command-line text (the inverse of fromText, for lab jobs and sweeps). */
  toText?: (value: never) => string[];
  /** A boolean that is on by default: the CLI offers `--no-<flag>`. */
  negatable?: boolean;
};

export type Field<S extends z.ZodTypeAny = z.ZodTypeAny> = { schema: S; meta: FieldMeta };
type Fields = Record<string, Field>;
type Shape<F extends Fields> = { [K in keyof F]: F[K]["schema"] };

export type RequestDef<K extends string = string, F extends Fields = Fields> = {
  kind: K;
  /** One line: what the command does. */
  summary: string;
  fields: F;
  schema: z.ZodType<z.infer<z.ZodObject<Shape<F>>>, z.ZodTypeDef, unknown>;
};
export type RequestOf<D extends RequestDef> = z.infer<D["schema"]>;

export function field<S extends z.ZodTypeAny>(schema: S, meta: FieldMeta): Field<S> {
  return { schema, meta };
}

/** A request kind: its fields and, for rules between fields, a check that adds issues. */
export function defineRequest<K extends string, F extends Fields>(
  kind: K,
  summary: string,
  fields: F,
  check?: (value: z.infer<z.ZodObject<Shape<F>>>, ctx: z.RefinementCtx) => void,
): RequestDef<K, F> {
  const shape = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, f.schema])) as Shape<F>;
  const object = z.object(shape).strict();
  return { kind, summary, fields, schema: check ? object.superRefine(check) : object };
}

export function flagOf(name: string, meta: FieldMeta): string {
  return meta.flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** `epochs (--epochs)`: the field as both the lab and the CLI name it. */
function fieldLabel(def: RequestDef, name: string): string {
  const f = def.fields[name];
  if (!f) return name;
  return f.meta.positional ? `${name} (<${name}>)` : `${name} (--${flagOf(name, f.meta)})`;
}

/** Messages a user reads on the command line and in the lab: the rule, then the value given. */
export const requestErrorMap: z.ZodErrorMap = (issue, ctx) => {
  const got = `, got ${JSON.stringify(ctx.data)}`;
  if (issue.code === z.ZodIssueCode.too_small && issue.type === "number") {
    const min = Number(issue.minimum);
    if (min === 0 && !issue.inclusive) return { message: `expected a positive number${got}` };
    return { message: `expected a number ${issue.inclusive ? "≥" : ">"} ${min}${got}` };
  }
  if (issue.code === z.ZodIssueCode.too_big && issue.type === "number")
    return { message: `expected a number ${issue.inclusive ? "≤" : "<"} ${Number(issue.maximum)}${got}` };
  if (issue.code === z.ZodIssueCode.invalid_type && issue.expected === "integer")
    return { message: `expected an integer${got}` };
  if (issue.code === z.ZodIssueCode.invalid_enum_value)
    return { message: `expected one of ${issue.options.join(", ")}${got}` };
  return { message: ctx.defaultError };
};

/** The validated request with defaults filled; a UsageError naming every bad field otherwise. */
export function parseRequest<D extends RequestDef>(def: D, raw: unknown): RequestOf<D> {
  const parsed = def.schema.safeParse(raw, { errorMap: requestErrorMap });
  if (parsed.success) return parsed.data as RequestOf<D>;
  const issues = parsed.error.issues.map((i) => {
    if (i.code === "unrecognized_keys")
      return `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}`;
    const [head, ...rest] = i.path.map(String);
    const where =
      head === undefined ? "(request)" : fieldLabel(def, head) + rest.map((p) => `.${p}`).join("");
    return `${where}: ${i.message}`;
  });
  throw new UsageError(`invalid ${def.kind} request: ${issues.join("; ")}`);
}

/** Fields given explicitly with `--resume` that the run's config fixes (defect: options ignored on resume). */
export function notResumable(def: RequestDef, given: Iterable<string>): string[] {
  return [...given].filter((k) => def.fields[k] && !def.fields[k].meta.resumable);
}

/** A refinement from a function that throws on bad input (the library's own validators). */
export function validBy<T>(check: (value: T) => unknown) {
  return (value: T, ctx: z.RefinementCtx): void => {
    try {
      check(value);
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
    }
  };
}
