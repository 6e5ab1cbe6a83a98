/**
 * A table of records as people expect to read one: headers in words ("test accuracy", not
 * test_accuracy), numbers formatted by what they are (percent, bytes, counts, significant digits)
 * and right-aligned, text left-aligned, nested objects spread into their own columns, absolute
 * paths left out, wide tables scrolled inside their card, and a click on a header sorts by it.
 */
import { formatField, label } from "../../../report/format.js";
import { el } from "../dom.js";

export type Row = Record<string, unknown>;

export type Column = {
  key: string;
  title?: string;
  /** Overrides the formatting by field name. */
  format?: (v: unknown, row: Row) => string | Node;
  numeric?: boolean;
  /** What the column means, shown when the header is hovered. */
  description?: string;
};

export type TableOptions = {
  columns?: Column[];
  caption?: string;
  id?: string;
  /** A colour swatch before the first cell (one colour per run or method). */
  color?: (row: Row) => string | undefined;
  /** Keys of the rows (spread with dots) to leave out. */
  omit?: string[];
};

/** `{a: {b: 1}}` → `{"a.b": 1}`; arrays of numbers become "1, 2, 3", other arrays their length. */
export function flatten(o: Row, prefix = ""): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v))
      out[key] = v.every((x) => typeof x === "number" || typeof x === "string")
        ? v.join(", ")
        : `${v.length} items`;
    else if (v && typeof v === "object") Object.assign(out, flatten(v as Row, key));
    else out[key] = v;
  }
  return out;
}

const isAbsolutePath = (v: unknown) => typeof v === "string" && /^(\/|[A-Za-z]:\\)[^\s]*[/\\]/.test(v);

/** The columns to show: every key some row has, minus omitted ones and columns of absolute paths. */
export function columnsOf(rows: Row[], omit: string[] = []): Column[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter(
    (k) =>
      !omit.includes(k) && !rows.every((r) => r[k] === undefined || r[k] === null || isAbsolutePath(r[k])),
  );
  return keys.map((key) => ({
    key,
    numeric: rows.every((r) => r[key] === undefined || r[key] === null || isNumeric(r[key])),
  }));
}

/** A number, or text that shows one ("1,477", "75.50%", "−0.3", "1.2e-5"). */
const isNumeric = (v: unknown) =>
  typeof v === "number" ||
  (typeof v === "string" && /^[−+-]?[\d,]*\.?\d+(e[−+-]?\d+)?\s*(%|[kMG]?B)?$/.test(v.trim()));

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  return String(a).localeCompare(String(b), "en", { numeric: true });
}

export function dataTable(input: Row[], o: TableOptions = {}): HTMLElement {
  const rows = input.map((r) => flatten(r));
  const columns = o.columns ?? columnsOf(rows, o.omit);
  const table = el("table", { class: "results", ...(o.id ? { id: o.id } : {}) });
  if (o.caption) table.append(el("caption", {}, o.caption));
  const body = el("tbody");
  let order = rows.map((_, i) => i);
  const fill = () =>
    body.replaceChildren(
      ...order.map((i) => {
        const r = rows[i];
        const swatch = o.color?.(input[i]);
        return el(
          "tr",
          {},
          ...columns.map((c, j) => {
            const v = r[c.key];
            const content = c.format ? c.format(v, input[i]) : formatField(c.key, v);
            return el(
              "td",
              { class: c.numeric ? "num" : "text" },
              j === 0 && swatch ? el("span", { class: "dot", style: `background:${swatch}` }) : null,
              content,
            );
          }),
        );
      }),
    );
  const head = el("tr");
  columns.forEach((c) => {
    const button = el("button", { type: "button", class: "sort" }, c.title ?? label(c.key));
    const th = el(
      "th",
      { scope: "col", class: c.numeric ? "num" : "text", "data-key": c.key, title: c.description },
      button,
    );
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      for (const other of Array.from(head.children)) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      order = [...order].sort((a, b) => (ascending ? 1 : -1) * compare(rows[a][c.key], rows[b][c.key]));
      fill();
    });
    head.append(th);
  });
  fill();
  table.append(el("thead", {}, head), body);
  return el("div", { class: "table-scroll" }, table);
}
