/**
 * Okabe & Ito's colour-blind-safe palette (2008), ordered for lines on white (yellow last: it is
 * faint on white). Surfaces use viridis, which is perceptually uniform and safe for the common
 * colour-vision deficiencies.
 */
export const SERIES_COLORS = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#F0E442",
];

/** Train vs test: blue and vermillion, distinguishable in every common form of colour blindness. */
export const SPLIT_COLORS = { train: "#0072B2", test: "#D55E00" };

export const SURFACE_SCHEME = "viridis";

export function seriesColor(i: number): string {
  return SERIES_COLORS[i % SERIES_COLORS.length];
}
