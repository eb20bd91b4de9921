/**
 * Reporting: statistics over seeds, figures (Vega-Lite → SVG) and the HTML report page.
 *
 * @module
 */
export {
  escapeHtml,
  type InlineFigure,
  NoResultsError,
  type ReportEntry,
  type ReportOptions,
  renderReportHtml,
  writeReport,
  writeReportFromDisk,
} from "./html.js";
export {
  formatMedianIqr,
  formatNumber,
  iqr,
  median,
  quantile,
  type SummariseOptions,
  type Summary5,
  summarise,
} from "./stats.js";
export {
  type BarGroupsOptions,
  barGroups,
  type ChartRow,
  type LineWithBandOptions,
  lineWithBand,
  type RenderOptions,
  type RuleSpec,
  renderSvg,
} from "./vega.js";
