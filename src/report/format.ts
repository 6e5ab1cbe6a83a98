/**
 * How numbers read everywhere (report, lab, CLI): one formatter per kind of quantity, so an
 * accuracy is "84.57%" on every page and a size is "1.74 MB" in every table. Pure functions with no
 * Node or DOM imports: the lab's browser bundle uses this file as it is.
 */

/** What every formatter prints for a missing, non-numeric or non-finite value. */
export const MISSING = "–";

const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** A fraction as a percent: 0.8457 → "84.57%". */
export function percent(x: unknown, digits = 2): string {
  return finite(x) ? `${(100 * x).toFixed(digits)}%` : MISSING;
}

/** `digits` significant digits, grouped thousands, no exponent between 1e-4 and 1e9: 435123 → "435,123". */
export function sig(x: unknown, digits = 4): string {
  if (!finite(x)) return MISSING;
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a < 1e-4 || a >= 1e9) return x.toExponential(digits - 1).replace(/\.?0+e/, "e");
  const rounded = Number(x.toPrecision(digits));
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(rounded) || a)));
  return rounded.toLocaleString("en-US", { maximumFractionDigits: Math.min(20, decimals) });
}

/** A whole count with grouped thousands: 25450 → "25,450". */
export function count(x: unknown): string {
  return finite(x) ? Math.round(x).toLocaleString("en-US") : MISSING;
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** A size in bytes, SI units and three significant digits: 1742000 → "1.74 MB". */
export function bytes(n: unknown): string {
  if (!finite(n)) return MISSING;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const text = u === 0 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
  return `${n < 0 ? "−" : ""}${text} ${UNITS[u]}`;
}

/** A duration in seconds: "42.0 s", "3.5 min", "1.2 h". */
export function duration(s: unknown): string {
  if (!finite(s)) return MISSING;
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** A learning rate or other hyper-parameter as given: 0.05 stays "0.05", 1e-5 stays "1e-5". */
export function param(x: unknown): string {
  if (!finite(x)) return typeof x === "string" || typeof x === "boolean" ? String(x) : MISSING;
  return Math.abs(x) !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(+x.toPrecision(6));
}

/**
 * A column header from a field name: "test_accuracy" and "testAccuracy" → "test accuracy",
 * "optimizer.name" → "optimizer name",
 * keeping known abbreviations and symbols as they are.
 */
export function label(key: string): string {
  return key
    .replace(/[_.]/g, " ")
    .replace(/([a-z0-9])([A-Z])/g, (_, a: string, b: string) => `${a} ${b.toLowerCase()}`)
    .replace(/\s+/g, " ")
    .trim();
}

/** The kind of quantity a field holds, guessed from its name: how a table should format it. */
export function kindOf(key: string): "percent" | "bytes" | "count" | "number" {
  const k = key.toLowerCase();
  if (/bytes?$|_bytes|memory|size$/.test(k)) return "bytes";
  if (/acc(uracy)?\b|accuracy|_acc$|rate$|fraction/.test(k) && !/learning/.test(k)) return "percent";
  if (/params?$|count|steps?$|epochs?$|^n_|samples|tokens|batch/.test(k)) return "count";
  return "number";
}

/** A value formatted for the field it belongs to (see `kindOf`). Strings pass through. */
export function formatField(key: string, v: unknown): string {
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (!finite(v)) return MISSING;
  switch (kindOf(key)) {
    case "percent":
      return v >= 0 && v <= 1 ? percent(v) : sig(v);
    case "bytes":
      return bytes(v);
    case "count":
      return Number.isInteger(v) ? count(v) : sig(v);
    default:
      return sig(v);
  }
}
