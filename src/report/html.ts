// Self-contained HTML report: inline CSS and SVG, no scripts, no external assets.

export interface ReportFigure {
  /** A standalone SVG document (e.g. from renderSvg); inlined as-is apart from id namespacing. */
  svg: string;
  caption: string;
}

export interface ReportTable {
  columns: string[];
  rows: (string | number | null)[][];
}

export interface ReportSection {
  heading: string;
  /** Plain text; blank lines separate paragraphs. */
  text?: string;
  figures?: ReportFigure[];
  table?: ReportTable;
  /** Preformatted text (e.g. pretty JSON), shown in a monospace block. */
  code?: string;
}

export interface ReportOptions {
  title: string;
  subtitle?: string;
  sections: ReportSection[];
  footer?: string;
}

export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export function reportHtml(o: ReportOptions): string {
  let figureCount = 0;
  const sections = o.sections
    .map((s) => {
      const parts = [`<h2>${escapeHtml(s.heading)}</h2>`];
      if (s.text) parts.push(paragraphs(s.text));
      if (s.table) parts.push(table(s.table));
      if (s.figures?.length) {
        const figs = s.figures.map((f) => figure(f, `fig${++figureCount}-`));
        parts.push(`<div class="figures">${figs.join("\n")}</div>`);
      }
      if (s.code !== undefined) parts.push(`<pre><code>${escapeHtml(s.code)}</code></pre>`);
      return `<section>\n${parts.join("\n")}\n</section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(o.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<header>
<h1>${escapeHtml(o.title)}</h1>
${o.subtitle ? `<p class="subtitle">${escapeHtml(o.subtitle)}</p>` : ""}
</header>
${sections}
${o.footer ? `<footer>${escapeHtml(o.footer)}</footer>` : ""}
</main>
</body>
</html>
`;
}

function paragraphs(text: string): string {
  return text
    .split(/\n\s*\n/)
    .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
    .join("\n");
}

function table(t: ReportTable): string {
  // All-blank column names (a key/value table) means: no header row.
  const head = t.columns.some((c) => c.trim())
    ? `<thead><tr>${t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead>\n`
    : "";
  const body = t.rows
    .map((r) => `<tr>${r.map((v) => `<td>${escapeHtml(v === null ? "—" : String(v))}</td>`).join("")}</tr>`)
    .join("\n");
  return `<div class="table-wrap"><table>\n${head}<tbody>\n${body}\n</tbody>\n</table></div>`;
}

function figure(f: ReportFigure, idPrefix: string): string {
  return `<figure>\n${inlineSvg(f.svg, idPrefix)}\n<figcaption>${escapeHtml(f.caption)}</figcaption>\n</figure>`;
}

// Several SVGs in one document share an id namespace; Vega reuses ids like "clip1" per chart,
// so prefix each chart's ids (and references to them) to keep clip paths from crossing over.
function inlineSvg(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>\s*/, "")
    .replace(/<!DOCTYPE[^>]*>\s*/i, "")
    .replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
    .replace(/(xlink:href|href)="#([^"]+)"/g, `$1="#${prefix}$2"`);
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f6f7f9; color: #1f2328;
  font: 15px/1.55 -apple-system, BlinkMacSystemFont, "Segoe UI", Helvetica, Arial, sans-serif; }
main { max-width: 1000px; margin: 0 auto; padding: 32px 24px 48px; }
header { margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; word-break: break-word; }
.subtitle { margin: 0; color: #57606a; }
section { background: #fff; border: 1px solid #e3e6ea; border-radius: 10px; padding: 20px 24px; margin-top: 20px; }
h2 { font-size: 18px; margin: 0 0 12px; }
p { margin: 0 0 10px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 7px 12px; border-bottom: 1px solid #eceff3; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; color: #444c56; }
tbody tr:nth-child(even) td { background: #fafbfc; }
td:first-child { color: #57606a; white-space: nowrap; }
/* One chart per row: charts are ~600px wide with legend, and shrinking two side by side makes labels tiny. */
.figures { display: flex; flex-direction: column; gap: 20px; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { font-size: 13px; color: #57606a; text-align: center; margin-top: 4px; }
pre { background: #f6f8fa; border: 1px solid #e3e6ea; border-radius: 6px; padding: 12px 14px; overflow-x: auto;
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; }
footer { margin-top: 24px; font-size: 13px; color: #6e7781; text-align: center; }
`;
