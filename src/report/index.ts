export {
  renderSvg,
  svgToPng,
  defaultConfig,
  FONT_STACK,
  type VegaLiteSpec,
  type PngOptions,
} from "./vega.js";
export {
  lineChart,
  trainingCurves,
  type LineChartOptions,
  type RunMetrics,
  type StepMetric,
  type EpochMetric,
  type TrainingCurves,
} from "./charts.js";
export {
  reportHtml,
  escapeHtml,
  type ReportOptions,
  type ReportSection,
  type ReportFigure,
  type ReportTable,
} from "./html.js";
export {
  readRunConfig,
  readRunStatus,
  readRunMetrics,
  type RunConfig,
  type RunStatus,
  type LoadedMetrics,
} from "../runs/records.js";
export { writeRunReport } from "./run-report.js";
