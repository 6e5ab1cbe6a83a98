/**
 * A sweep spec: one command, the options every run shares (`fixed`), and the swept ones.
 *
 *   { "name": "optim-lr", "command": "train",
 *     "fixed":  { "model": "mlp", "hidden": [64], "epochs": 1, "limit": 512 },
 *     "grid":   { "optimizer": ["sgd", "adam", "lion"], "lr": { "min": 1e-4, "max": 1e-1, "count": 4, "scale": "log" } },
 *     "random": { "count": 8, "seed": 0, "params": { "momentum": { "min": 0, "max": 0.95 } } },
 *     "runs":   [ { "optimizer": "adamw", "lr": 0.001 } ],
 *     "seeds":  [0, 1, 2] }
 *
 * The runs are the product of the dimensions present, in this order: the explicit `runs` list
 * (else one empty point), the grid (last key fastest), the random samples (drawn once from their
 * seed), the seeds. Each run's request is `fixed` merged with its point, validated against the
 * command's schema; an error names the run, the field and where its value came from.
 */
import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import { z } from "zod";
import { mulberry32 } from "../engine/rng.js";
import { UsageError } from "../errors.js";
import { SWEEP_COMMANDS, sweepCommand, type SweepCommandName } from "./commands.js";

const Json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number().finite(), z.boolean(), z.array(Json), z.record(Json)]),
);
const Values = z.array(Json).min(1);
const GridRange = z
  .object({
    min: z.number().finite(),
    max: z.number().finite(),
    count: z.number().int().min(1).max(1000),
    scale: z.enum(["linear", "log"]).default("linear"),
    integer: z.boolean().default(false),
  })
  .strict();
const RandomRange = GridRange.omit({ count: true });
export const SWEEP_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const SweepSpec = z
  .object({
    name: z.string().regex(SWEEP_NAME, "letters, digits, '.', '_', '-' only (at most 64)").optional(),
    command: z.enum(SWEEP_COMMANDS as [SweepCommandName, ...SweepCommandName[]]),
    fixed: z.record(Json).default({}),
    grid: z.record(z.union([Values, GridRange])).optional(),
    random: z
      .object({
        count: z.number().int().min(1).max(10_000),
        seed: z.number().int().min(0).default(0),
        params: z.record(z.union([Values, RandomRange])),
      })
      .strict()
      .optional(),
    runs: z.array(z.record(Json)).min(1).optional(),
    seeds: z.array(z.number().int().min(0)).min(1).optional(),
  })
  .strict();
export type SweepSpec = z.infer<typeof SweepSpec> & { name: string };

type Point = Record<string, unknown>;
/** A run of the sweep before it has an id: its swept values and its full, validated request. */
export type SweptRun = { values: Point; request: Record<string, unknown> };

function zodIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      if (i.code === "unrecognized_keys") return `unknown option ${i.keys.map((k) => `"${k}"`).join(", ")}`;
      return `${i.path.join(".") || "(spec)"}: ${i.message}`;
    })
    .join("; ");
}

/** Parses and checks a spec (the object of a JSON file); `fallbackName` names an unnamed sweep. */
export function parseSweepSpec(raw: unknown, fallbackName = "sweep"): SweepSpec {
  const parsed = SweepSpec.safeParse(raw);
  if (!parsed.success) throw new UsageError(`sweep spec: ${zodIssues(parsed.error)}`);
  const spec = { ...parsed.data, name: parsed.data.name ?? fallbackName };
  if (!SWEEP_NAME.test(spec.name))
    throw new UsageError(`sweep spec: name "${spec.name}": letters, digits, '.', '_', '-' only`);
  const swept = [
    ...Object.keys(spec.grid ?? {}),
    ...Object.keys(spec.random?.params ?? {}),
    ...new Set((spec.runs ?? []).flatMap(Object.keys)),
    ...(spec.seeds ? ["seed"] : []),
  ];
  for (const key of swept)
    if (key in spec.fixed) throw new UsageError(`sweep spec: "${key}" is both fixed and swept`);
  const twice = swept.filter((k, i) => swept.indexOf(k) !== i && !(spec.runs ?? []).some((r) => k in r));
  if (twice.length) throw new UsageError(`sweep spec: "${twice[0]}" is swept in two places`);
  return spec;
}

export function readSweepSpec(file: string): SweepSpec {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read sweep spec ${file} (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseSweepSpec(raw, basename(file, extname(file)));
}

function gridValues(v: unknown[] | z.infer<typeof GridRange>): unknown[] {
  if (Array.isArray(v)) return v;
  const { min, max, count, scale, integer } = v;
  if (scale === "log" && (min <= 0 || max <= 0))
    throw new UsageError("sweep spec: a log range needs min, max > 0");
  const at = (t: number) =>
    scale === "log" ? Math.exp(Math.log(min) + t * (Math.log(max) - Math.log(min))) : min + t * (max - min);
  const values = Array.from({ length: count }, (_, i) => at(count === 1 ? 0 : i / (count - 1)));
  // Shortest decimal that survives a round trip: 1e-3 stays 0.001, not 0.0010000000000000002.
  return values.map((x) => (integer ? Math.round(x) : Number(x.toPrecision(12))));
}

function sampleValue(v: unknown[] | z.infer<typeof RandomRange>, u: number): unknown {
  if (Array.isArray(v)) return v[Math.min(v.length - 1, Math.floor(u * v.length))];
  const { min, max, scale, integer } = v;
  if (scale === "log" && (min <= 0 || max <= 0))
    throw new UsageError("sweep spec: a log range needs min, max > 0");
  const x =
    scale === "log" ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
  return integer ? Math.round(x) : Number(x.toPrecision(12));
}

function product(points: Point[], key: string, values: unknown[]): Point[] {
  return points.flatMap((p) => values.map((v) => ({ ...p, [key]: v })));
}

/** The swept points, in the documented order. */
export function sweepPoints(spec: SweepSpec): Point[] {
  let points: Point[] = spec.runs ? spec.runs.map((r) => ({ ...r })) : [{}];
  for (const [key, v] of Object.entries(spec.grid ?? {})) points = product(points, key, gridValues(v));
  if (spec.random) {
    const rng = mulberry32(spec.random.seed);
    const samples = Array.from({ length: spec.random.count }, () =>
      Object.fromEntries(Object.entries(spec.random!.params).map(([k, v]) => [k, sampleValue(v, rng())])),
    );
    points = points.flatMap((p) => samples.map((s) => ({ ...p, ...s })));
  }
  if (spec.seeds) points = product(points, "seed", spec.seeds);
  return points;
}

function describe(values: Point): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ");
}

/** Every run of the spec with its validated request; the first invalid one is a UsageError. */
export function expandSweep(spec: SweepSpec): SweptRun[] {
  const command = sweepCommand(spec.command);
  return sweepPoints(spec).map((values, i) => {
    const where = `sweep spec: run ${i + 1}${Object.keys(values).length ? ` (${describe(values)})` : ""}`;
    try {
      return { values, request: command.validate({ ...spec.fixed, ...values }) };
    } catch (e) {
      if (e instanceof UsageError) throw new UsageError(`${where}: ${e.message}`);
      throw e;
    }
  });
}
