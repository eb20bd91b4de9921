/**
 * Smallest and largest element of an array by a loop. `Math.min(...xs)` passes every element
 * as an argument and overflows the call stack near 125,000 elements; these take any length
 * and otherwise agree with `Math.min` / `Math.max` (up to the sign of a zero): an empty
 * input gives +Infinity /
 * −Infinity, and a NaN anywhere gives NaN.
 *
 * @module
 */

/** The smallest element (`Math.min` semantics: +Infinity when empty, NaN if any is NaN). */
export function minOf(xs: ArrayLike<number>): number {
  let m = Number.POSITIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (Number.isNaN(x)) return Number.NaN;
    if (x < m) m = x;
  }
  return m;
}

/** The largest element (`Math.max` semantics: −Infinity when empty, NaN if any is NaN). */
export function maxOf(xs: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (Number.isNaN(x)) return Number.NaN;
    if (x > m) m = x;
  }
  return m;
}
