/** The lab's colours are the report's: one palette module for both (src/report/palette.ts). */
export {
  colorScale,
  methodColor,
  SERIES_COLORS,
  seriesColor,
  SPLIT_COLORS,
  SURFACE_SCHEME,
} from "../../report/palette.js";
