/**
 * How numbers read in the experiments' tables and verdicts: one percentage format, one
 * learning-rate label, one "median [IQR]" cell.
 *
 * @module
 */
import type { FinalAccuracy } from "./stats.js";

/** A fraction as a percentage with `digits` decimals ("98.1%"); non-finite: "—". */
export function pct(x: number | null | undefined, digits = 1): string {
  return typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "—";
}

/** A learning rate (or any power-of-ten-ish number) as a short label: `1e-3`, `3e-4`. */
export function lrLabel(lr: number): string {
  const [m, e] = lr.toExponential().split("e");
  return `${m}e${e.replace("+", "")}`;
}

/** A ratio r = τ/ρ for a sentence: "≈ 12", "≈ 0.87"; non-finite: "—". */
export function approx(r: number | null | undefined): string {
  if (typeof r !== "number" || !Number.isFinite(r)) return "—";
  return `≈ ${r >= 10 ? Math.round(r) : r.toPrecision(2)}`;
}

/**
 * "median [q25, q75]", each part by `format` (default: {@link pct}). With one value (`n = 1`)
 * or a zero-width range the brackets would say nothing: the median alone.
 */
export function medianIqr(
  s: { median: number; q25: number; q75: number; n?: number },
  format: (x: number) => string = pct,
): string {
  const m = format(s.median);
  if (s.n === 1 || (s.q25 === s.median && s.q75 === s.median)) return m;
  return `${m} [${format(s.q25)}, ${format(s.q75)}]`;
}

/** The "final test acc, median [IQR]" cell of a row with {@link FinalAccuracy} over `seeds` runs. */
export function finalAccuracyCell(row: FinalAccuracy & { seeds?: number }): string {
  return medianIqr({ median: row.medianFinalTestAcc, q25: row.q25, q75: row.q75, n: row.seeds });
}
