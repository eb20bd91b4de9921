/**
 * Order statistics over seeds: medians and interquartile ranges, as the paper reports.
 * Quantiles use numpy's default (linear) interpolation, via the theory module.
 *
 * @module
 */

import { quantile } from "softmax-ghosts/theory";
import { maxOf, minOf } from "softmax-ghosts/util";

export { quantile };

/** Median of `values` (linear interpolation between the middle two for an even count). */
export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** Interquartile range `q75 − q25`. */
export function iqr(values: ArrayLike<number>): number {
  return quantile(values, 0.75) - quantile(values, 0.25);
}

/** Five-number summary of a sample, plus its size. */
export type Summary5 = {
  median: number;
  q25: number;
  q75: number;
  min: number;
  max: number;
  /** Number of values summarised (after dropping NaNs, if asked). */
  n: number;
};

/** Options of {@link summarise}. */
export type SummariseOptions = {
  /** Leave NaNs out instead of throwing (e.g. losses of diverged seeds); default false. */
  dropNaN?: boolean;
};

/**
 * Median, quartiles, extremes and count of `values`. ±Infinity is an ordinary value
 * (ordered at the ends).
 *
 * @throws {RangeError} if `values` is empty (after dropping NaNs), or holds a NaN and
 *   `dropNaN` is not set.
 */
export function summarise(values: ArrayLike<number>, opts: SummariseOptions = {}): Summary5 {
  let xs = Array.from(values);
  if (opts.dropNaN) xs = xs.filter((v) => !Number.isNaN(v));
  else if (xs.some(Number.isNaN)) throw new RangeError("summarise: NaN in input");
  if (xs.length === 0) throw new RangeError("summarise: no values");
  return {
    median: quantile(xs, 0.5),
    q25: quantile(xs, 0.25),
    q75: quantile(xs, 0.75),
    min: minOf(xs),
    max: maxOf(xs),
    n: xs.length,
  };
}

/**
 * A number for a table: integers in full, others to `digits` significant digits (default
 * 4) without trailing zeros, exponent notation outside [1e-3, 1e6); ±∞ as "∞"/"−∞";
 * `null` as "—".
 */
export function formatNumber(value: number | null, digits = 4): string {
  if (value === null) return "—";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "∞" : "−∞";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  const a = Math.abs(value);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    const [m, e] = value.toExponential(digits - 1).split("e");
    return `${trimZeros(m)}e${e.replace("+", "")}`;
  }
  // toPrecision would switch to exponent notation here: round to an integer instead
  if (a >= 10 ** digits) return String(Math.round(value));
  return trimZeros(value.toPrecision(digits));
}

function trimZeros(s: string): string {
  return s.includes(".") ? s.replace(/\.?0+$/, "") : s;
}

/**
 * `median [q25, q75]` for a table cell, each part by {@link formatNumber}; `scale`
 * multiplies first (e.g. 100 for percentages).
 */
export function formatMedianIqr(s: Summary5, digits = 3, scale = 1): string {
  const f = (v: number) => formatNumber(v * scale, digits);
  return `${f(s.median)} [${f(s.q25)}, ${f(s.q75)}]`;
}
