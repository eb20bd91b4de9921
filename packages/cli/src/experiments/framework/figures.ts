/**
 * The figures experiments draw from their summaries, in one shape: a named, titled
 * `lineWithBand`, `barGroups` or `scatterPlot` chart over the summary's own rows, whose field names are
 * checked against the row type (a renamed summary field cannot leave a figure plotting
 * nothing), and one y axis for an accuracy.
 *
 * @module
 */
import {
  type BarGroupsOptions,
  barGroups,
  type ChartRow,
  type LineWithBandOptions,
  lineWithBand,
  type ScatterOptions,
  scatterPlot,
} from "../../report/vega.js";
import type { FigureSpec } from "./types.js";

/** A field of `Row` (summary rows are `type` aliases of JSON values, so every key is a string). */
type FieldOf<Row> = Extract<keyof Row, string>;

/** {@link lineWithBand}'s options with the data's fields named by `Row`'s keys. */
export type BandLineOptions<Row> = Omit<
  LineWithBandOptions,
  "data" | "x" | "y" | "lo" | "hi" | "color"
> & {
  x: FieldOf<Row>;
  y: FieldOf<Row>;
  /** Fields of the band's edges, e.g. `["q25", "q75"]`. */
  band?: readonly [FieldOf<Row>, FieldOf<Row>];
  color?: FieldOf<Row>;
};

/** {@link barGroups}' options with the data's fields named by `Row`'s keys. */
export type BarOptions<Row> = Omit<
  BarGroupsOptions,
  "data" | "x" | "y" | "lo" | "hi" | "group" | "ref"
> & {
  x: FieldOf<Row>;
  y: FieldOf<Row>;
  /** Fields of the error bar's ends, e.g. `["q25", "q75"]`. */
  band?: readonly [FieldOf<Row>, FieldOf<Row>];
  group?: FieldOf<Row>;
  ref?: FieldOf<Row>;
};

/** The y axis of an accuracy: a fraction from 0 to 1, titled `title`. */
export function accuracyAxis(title = "test accuracy"): {
  yTitle: string;
  yDomain: [number, number];
} {
  return { yTitle: title, yDomain: [0, 1] };
}

/**
 * The chart's own options: a copy of `rows` as its data (the figure's CSV holds every field),
 * the band as `lo`/`hi`.
 */
function chartOptions<Row extends ChartRow, O>(
  rows: readonly Row[],
  { band, ...o }: O & { band?: readonly [string, string] },
) {
  const edges = band === undefined ? {} : { lo: band[0], hi: band[1] };
  return { data: rows.map((r): ChartRow => ({ ...r })), ...o, ...edges };
}

/** Lines (one per `color`) through `rows` with an optional band, as figure `name`. */
export function bandLines<Row extends ChartRow>(
  name: string,
  title: string,
  rows: readonly Row[],
  options: BandLineOptions<Row>,
): FigureSpec {
  return { name, title, spec: lineWithBand(chartOptions(rows, options)) };
}

/** Grouped bars over `rows` with optional error bars, as figure `name`. */
export function bars<Row extends ChartRow>(
  name: string,
  title: string,
  rows: readonly Row[],
  options: BarOptions<Row>,
): FigureSpec {
  return { name, title, spec: barGroups(chartOptions(rows, options)) };
}

/** {@link scatterPlot}'s options with the data's fields named by `Row`'s keys. */
export type ScatterPointsOptions<Row> = Omit<
  ScatterOptions,
  "data" | "x" | "y" | "color" | "shape"
> & {
  x: FieldOf<Row>;
  y: FieldOf<Row>;
  color?: FieldOf<Row>;
  shape?: FieldOf<Row>;
};

/** Points of `rows` (one per row), with optional diagonals y = c·x, as figure `name`. */
export function scatter<Row extends ChartRow>(
  name: string,
  title: string,
  rows: readonly Row[],
  options: ScatterPointsOptions<Row>,
): FigureSpec {
  return { name, title, spec: scatterPlot(chartOptions(rows, options)) };
}
