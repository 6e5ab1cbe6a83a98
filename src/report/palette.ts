/**
 * One colour per run or method, the same in the report and the lab. Okabe & Ito's
 * colour-blind-safe palette (2008), ordered for lines on white (yellow last: faint on white).
 * Known methods (optimisers, initialisers, steering methods) keep a fixed colour wherever they
 * appear, so "adam" is orange on every page; anything else takes the series colours in order.
 * No Node or DOM imports: the lab's browser bundle uses this file as it is.
 */

export const SERIES_COLORS = [
  "#0072B2", // blue
  "#D55E00", // vermillion
  "#009E73", // bluish green
  "#CC79A7", // reddish purple
  "#E69F00", // orange
  "#56B4E9", // sky blue
  "#000000", // black
  "#F0E442", // yellow
];

/** Train vs test (and validation vs test): blue and vermillion. */
export const SPLIT_COLORS = { train: SERIES_COLORS[0], test: SERIES_COLORS[1] };

/** Surfaces and heat maps: viridis, perceptually uniform and colour-blind safe. */
export const SURFACE_SCHEME = "viridis";

const [blue, vermillion, green, purple, orange, sky, black, yellow] = SERIES_COLORS;

/**
 * Fixed colours for the methods the project compares. Within each family the colours differ; a
 * name shared by two families (none today) would take the first.
 */
export const METHOD_COLORS: Record<string, string> = {
  // optimisers
  sgd: blue,
  adam: vermillion,
  lion: green,
  momentum: purple,
  adamw: orange,
  rmsprop: sky,
  nesterov: black,
  adagrad: yellow,
  sophia: "#882255",
  adafactor: "#44AA99",
  lamb: "#999933",
  lars: "#AA4499",
  // initialisers
  torch_default: black,
  lecun: purple,
  xavier_normal: vermillion,
  xavier_uniform: orange,
  kaiming_normal: blue,
  kaiming_uniform: sky,
  orthogonal: green,
  scaled_orthogonal: "#44AA99",
  l_momentum: "#882255",
  // steering methods
  base: black,
  svf: blue,
  lora: vermillion,
  ct: green,
  "ct-trainable": purple,
  linear: orange,
  "linear probe": orange,
};

export function seriesColor(i: number): string {
  return SERIES_COLORS[((i % SERIES_COLORS.length) + SERIES_COLORS.length) % SERIES_COLORS.length];
}

/** The fixed colour of a known method (case and any " lr …" or "@…" suffix ignored), else undefined. */
export function methodColor(name: string): string | undefined {
  const key = name.toLowerCase().trim();
  return METHOD_COLORS[key] ?? METHOD_COLORS[key.split(/[\s@(,:]/)[0]];
}

/**
 * A colour scale for these names: known methods keep their colour, the rest take series colours
 * in order, skipping those already used on the chart.
 */
export function colorScale(names: readonly string[]): { domain: string[]; range: string[] } {
  const domain = [...new Set(names)];
  // A fixed colour already taken on this chart (two names of one family) counts as free.
  const taken = new Set<string>();
  const fixed = domain.map((n) => {
    const c = methodColor(n);
    if (!c || taken.has(c)) return undefined;
    taken.add(c);
    return c;
  });
  const free = SERIES_COLORS.filter((c) => !taken.has(c));
  let next = 0;
  const range = fixed.map((c) => c ?? free[next++] ?? seriesColor(next++));
  return { domain, range };
}
