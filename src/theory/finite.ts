/**
 * The theory API's one rule for bad numbers: a non-finite input (NaN, ±Infinity) throws a
 * `RangeError` naming the function and the argument, instead of flowing into a result that
 * reads as valid. The documented exceptions are values that may legitimately be infinite:
 * a radius (`normalisedStep`'s ρ, `regime`'s r), an order statistic (`quantile`) and a
 * logit of −Infinity, which marks an absent term (`nearestGhost`, `countZerosInDisk`).
 */

/** Throws a `RangeError` unless `x` is a finite number. */
export function requireFinite(x: number, who: string, name: string): number {
  if (!Number.isFinite(x)) throw new RangeError(`${who}: ${name} must be finite, got ${x}`);
  return x;
}

/** Throws a `RangeError` naming the first non-finite entry of `values[from, to)`. */
export function requireFiniteArray(
  values: ArrayLike<number>,
  who: string,
  name: string,
  from = 0,
  to = values.length,
): void {
  for (let i = from; i < to; i++) {
    if (!Number.isFinite(values[i])) {
      throw new RangeError(`${who}: ${name}[${i - from}] must be finite, got ${values[i]}`);
    }
  }
}
