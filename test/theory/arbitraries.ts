/** Shared fast-check generators and settings for the theory property tests. */
import fc from "fast-check";

/**
 * Runs per property (the brief asks for at least 10,000). Mutation testing lowers it through
 * `GHOSTS_PROPERTY_RUNS` (see `propertyRuns`); `npm test` always uses the full count.
 */
export const RUNS = propertyRuns(10_000);

/**
 * `runs`, or fewer when the environment variable `GHOSTS_PROPERTY_RUNS` caps it: the mutation
 * runs (bench/mutation) re-run the same properties once per mutant and cannot afford 10,000
 * cases each. The seeds stay fixed, so a capped run checks a prefix of the full run's cases.
 */
export function propertyRuns(runs: number): number {
  const cap = Number(process.env["GHOSTS_PROPERTY_RUNS"]);
  return Number.isInteger(cap) && cap > 0 ? Math.min(runs, cap) : runs;
}

/**
 * A finite double in [min, max]: mostly uniform on the real interval (fc.double alone is
 * uniform over bit patterns, i.e. dominated by tiny magnitudes), plus some fc.double draws
 * and the end points for edge cases.
 */
export function finite(min: number, max: number): fc.Arbitrary<number> {
  const uniform = fc
    .maxSafeNat()
    .map((i) => Math.min(max, min + (max - min) * (i / Number.MAX_SAFE_INTEGER)));
  return fc.oneof(
    { weight: 8, arbitrary: uniform },
    { weight: 1, arbitrary: fc.double({ min, max, noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max, Math.min(max, Math.max(min, 0))) },
  );
}

/** One sample: logits and slopes of the same length K ∈ [minK, maxK]. */
export function sample(
  minK = 2,
  maxK = 12,
  logitRange = 30,
  slopeRange = 10,
): fc.Arbitrary<{ logits: number[]; slopes: number[] }> {
  return fc.integer({ min: minK, max: maxK }).chain((k) =>
    fc.record({
      logits: fc.array(finite(-logitRange, logitRange), { minLength: k, maxLength: k }),
      slopes: fc.array(finite(-slopeRange, slopeRange), { minLength: k, maxLength: k }),
    }),
  );
}

/**
 * Relative tolerance for a quantity computed from differences of the entries of `a`:
 * rounding is relative to the entries' magnitude, not to the (possibly tiny) spread.
 */
export function spreadTol(a: ArrayLike<number>, d: number, ulps = 8): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return (ulps * Number.EPSILON * m) / d + 1e-15;
}

/** Relative closeness with a tolerance in ulps-ish units (`rel`). */
export function close(a: number, b: number, rel = 1e-12): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}
