/**
 * What a field's zod schema says, as plain data: its type, default, range and choices. The CLI reads
 * it to parse text and write `--help`; the lab serves it as the form's field list.
 */
import { z } from "zod";
import { flagOf, type FieldMeta, type RequestDef } from "./request.js";

export type FieldType = "integer" | "number" | "boolean" | "string" | "enum" | "list" | "record" | "mixed";

export type FieldInfo = {
  name: string;
  flag: string;
  description: string;
  type: FieldType;
  /** For lists: the type of each element. */
  item?: Omit<FieldInfo, "name" | "flag" | "description" | "optional" | "item" | "resumable" | "positional">;
  optional: boolean;
  default?: unknown;
  min?: number;
  max?: number;
  /** True when `min` (`max`) itself is not allowed. */
  minExclusive?: boolean;
  maxExclusive?: boolean;
  choices?: readonly string[];
  positional?: boolean;
  resumable?: boolean;
};

type Shape = Pick<
  FieldInfo,
  "type" | "default" | "min" | "max" | "minExclusive" | "maxExclusive" | "choices"
> & {
  optional: boolean;
  item?: FieldInfo["item"];
};

function numberRange(s: z.ZodNumber): Partial<Shape> {
  const out: Partial<Shape> = {};
  for (const c of s._def.checks) {
    if (c.kind === "min") Object.assign(out, { min: c.value, minExclusive: !c.inclusive });
    if (c.kind === "max") Object.assign(out, { max: c.value, maxExclusive: !c.inclusive });
  }
  return out;
}

/** Unwraps optional / nullable / default / refinements down to the value's own schema. */
export function shapeOf(schema: z.ZodTypeAny): Shape {
  let s = schema;
  let optional = false;
  let dflt: unknown;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
      optional = true;
      s = s.unwrap() as z.ZodTypeAny;
    } else if (s instanceof z.ZodDefault) {
      dflt = s._def.defaultValue();
      s = s.removeDefault() as z.ZodTypeAny;
    } else if (s instanceof z.ZodEffects) s = s.innerType() as z.ZodTypeAny;
    else break;
  }
  const base = { optional: optional || dflt !== undefined, ...(dflt !== undefined ? { default: dflt } : {}) };
  if (s instanceof z.ZodNumber) return { ...base, type: s.isInt ? "integer" : "number", ...numberRange(s) };
  if (s instanceof z.ZodBoolean) return { ...base, type: "boolean" };
  if (s instanceof z.ZodString) return { ...base, type: "string" };
  if (s instanceof z.ZodEnum) return { ...base, type: "enum", choices: s.options as string[] };
  if (s instanceof z.ZodLiteral) return { ...base, type: "enum", choices: [String(s.value)] };
  if (s instanceof z.ZodArray) {
    const { optional: _o, default: _d, ...item } = shapeOf(s.element as z.ZodTypeAny);
    return { ...base, type: "list", item, ...arrayRange(s) };
  }
  if (s instanceof z.ZodRecord) return { ...base, type: "record" };
  return { ...base, type: "mixed" };
}

function arrayRange(s: z.ZodArray<z.ZodTypeAny>): Partial<Shape> {
  return {
    ...(s._def.minLength ? { min: s._def.minLength.value } : {}),
    ...(s._def.maxLength ? { max: s._def.maxLength.value } : {}),
  };
}

export function describeField(name: string, schema: z.ZodTypeAny, meta: FieldMeta): FieldInfo {
  const shape = shapeOf(schema);
  return {
    name,
    flag: flagOf(name, meta),
    description: meta.description,
    ...shape,
    ...(shape.default === undefined && meta.implicitDefault !== undefined
      ? { default: meta.implicitDefault }
      : {}),
    ...(meta.positional ? { positional: true } : {}),
    ...(meta.resumable ? { resumable: true } : {}),
  };
}

/** The fields of a request's form (those the lab may set), in declaration order. */
export function formFields(def: RequestDef): FieldInfo[] {
  return Object.entries(def.fields)
    .filter(([, f]) => f.meta.form !== false)
    .map(([name, f]) => describeField(name, f.schema, f.meta));
}
