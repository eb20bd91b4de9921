/** Normalised step length and its regimes (docs/science.md §2). */

/** A step regime relative to the radius. */
export type Regime = "inside" | "boundary" | "outside";

/**
 * The boundary band used by {@link regime}: `lower ≤ r ≤ upper` is "boundary".
 * Default `[0.9, 1.1]`, i.e. within ±10% of the radius.
 */
export const BOUNDARY_BAND: Readonly<{ lower: number; upper: number }> = Object.freeze({
  lower: 0.9,
  upper: 1.1,
});

/**
 * Normalised step `r = τ / ρ` with `τ = ‖p‖` the length of the update actually applied
 * (momentum and Adam scaling included) and `ρ` a radius (usually the set-level `ρ_a`).
 * For plain gradient descent `r = η‖∇f‖Δ_a/π`. `ρ = Infinity` gives 0.
 * Throws `RangeError` unless `τ` is finite and ≥ 0 and `ρ > 0`.
 */
export function normalisedStep(tau: number, rho: number): number {
  if (!(tau >= 0 && Number.isFinite(tau))) {
    throw new RangeError(`normalisedStep: tau must be finite and >= 0, got ${tau}`);
  }
  if (!(rho > 0)) throw new RangeError(`normalisedStep: rho must be > 0, got ${rho}`);
  return tau / rho;
}

/**
 * Regime of a normalised step `r`: `"inside"` for `r < lower` (inside the disk, every
 * local model is trustworthy), `"boundary"` for `lower ≤ r ≤ upper`, `"outside"` for
 * `r > upper` (no guarantee). The band defaults to {@link BOUNDARY_BAND} = [0.9, 1.1].
 * Throws `RangeError` for NaN or negative `r`.
 */
export function regime(r: number, band: { lower: number; upper: number } = BOUNDARY_BAND): Regime {
  if (!(r >= 0)) throw new RangeError(`regime: r must be >= 0, got ${r}`);
  if (r < band.lower) return "inside";
  if (r <= band.upper) return "boundary";
  return "outside";
}
