// Headless Vega-Lite rendering: spec → SVG string (no DOM, no canvas) → optional PNG via resvg.
import * as vega from "vega";
import { compile, type Config, type TopLevelSpec } from "vega-lite";
import { Resvg } from "@resvg/resvg-js";

export type VegaLiteSpec = TopLevelSpec;

// Unquoted family names on purpose: resvg 2.6 skips quoted names that follow a comma,
// and falls back to the first system font (often a serif) when nothing in the list matches.
export const FONT_STACK =
  "Helvetica Neue, Helvetica, Arial, DejaVu Sans, Liberation Sans, Noto Sans, sans-serif";

export const DEFAULT_WIDTH = 480;
export const DEFAULT_HEIGHT = 300;

export const defaultConfig: Config = {
  font: FONT_STACK,
  background: "white",
  padding: 8,
  view: { continuousWidth: DEFAULT_WIDTH, continuousHeight: DEFAULT_HEIGHT, stroke: "#e2e2e2" },
  title: { fontSize: 15, fontWeight: 600, anchor: "start", color: "#1f2328", offset: 10 },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 500,
    labelColor: "#4b5563",
    titleColor: "#1f2328",
    gridColor: "#eceff3",
    domainColor: "#9aa3ad",
    tickColor: "#9aa3ad",
  },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 500, orient: "right" },
  line: { strokeWidth: 2 },
  point: { size: 36, filled: true },
};

// Spec's own config wins, one level deep (so a spec can override `axis.labelFontSize` alone).
function withDefaults(spec: VegaLiteSpec): VegaLiteSpec {
  const own = (spec.config ?? {}) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...defaultConfig };
  for (const [key, value] of Object.entries(own)) {
    const base = merged[key];
    merged[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  return { ...spec, config: merged as Config } as VegaLiteSpec;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Compile a Vega-Lite spec and render it to a standalone SVG string. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const vgSpec = compile(withDefaults(spec)).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize(); // release timers/listeners so the process can exit
  }
}

export interface PngOptions {
  /** Output width in pixels; height follows the aspect ratio. Default: 2× the SVG width. */
  width?: number;
  background?: string;
}

/** Rasterise an SVG with resvg, using system fonts so axis text is visible. */
export function svgToPng(svg: string, opts: PngOptions = {}): Buffer {
  const resvg = new Resvg(svg, {
    background: opts.background ?? "white",
    fitTo: opts.width ? { mode: "width", value: opts.width } : { mode: "zoom", value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}
