/**
 * Closed forms for two classes (docs/science.md §2): the exact linearised radius and its ghost, and the
 * per-sample top-2 estimate that reduces any K to the label and its strongest rival.
 */

import { requireFinite, requireFiniteArray } from "./finite.js";

/** A point of the complex step plane `t = re + i·im`. */
export interface ComplexPoint {
  re: number;
  im: number;
}

/**
 * Exact linearised radius for K = 2: with logit gap `δ = z_1 − z_2` and slope gap
 * `Δ = a_1 − a_2`, `ρ* = √(δ² + π²) / |Δ|` (Infinity when `Δ = 0`). It equals the lower
 * bound `π/|Δ|` only at `δ = 0`. Throws `RangeError` on a non-finite argument.
 */
export function rhoStarBinary(delta: number, slopeGap: number): number {
  requireFinite(delta, "rhoStarBinary", "delta");
  requireFinite(slopeGap, "rhoStarBinary", "slopeGap");
  return Math.hypot(delta, Math.PI) / Math.abs(slopeGap);
}

/**
 * Nearest zero of `F(t) = e^{z_1 + a_1 t} + e^{z_2 + a_2 t}` with `im ≥ 0`.
 *
 * `F(t) = 0 ⇔ e^{δ + Δt} = −1 ⇔ δ + Δt = iπ(2m + 1)`, so `t_m = (−δ + iπ(2m + 1)) / Δ` with
 * `δ = z_1 − z_2`, `Δ = a_1 − a_2`. `|t_m|` is smallest for `m ∈ {0, −1}`, a conjugate pair;
 * the one with non-negative imaginary part is `t = −δ/Δ + i·π/|Δ|`, of modulus
 * {@link rhoStarBinary}. Returns `null` when `Δ = 0` (F never vanishes). Throws `RangeError`
 * on a non-finite argument.
 */
export function binaryGhost(delta: number, slopeGap: number): ComplexPoint | null {
  requireFinite(delta, "binaryGhost", "delta");
  requireFinite(slopeGap, "binaryGhost", "slopeGap");
  if (slopeGap === 0) return null;
  return { re: -delta / slopeGap, im: Math.PI / Math.abs(slopeGap) };
}

/** The label/rival pair behind a top-2 estimate, see {@link top2}. */
export interface Top2 {
  /** Class playing the label role `y` (the given label, or the argmax). */
  label: number;
  /** Strongest rival `c = argmax_{k≠y} z_k` (lowest index on ties). */
  rival: number;
  /** Margin `δ = z_y − z_c` (±Infinity only when it overflows float64; see `slopeGap`). */
  delta: number;
  /** Slope gap `Δ_{y,c} = a_y − a_c` (±Infinity only when it overflows float64; `rho` and `ghost` are then computed from the halved slopes). */
  slopeGap: number;
  /** `ρ_top2 = √(δ² + π²) / |Δ_{y,c}|` (Infinity when the slopes are equal). */
  rho: number;
  /** Nearest zero of the two-term partition function, `im ≥ 0`; `null` when `Δ_{y,c} = 0`. */
  ghost: ComplexPoint | null;
}

function argmaxExcept(z: ArrayLike<number>, skip: number): number {
  let best = -1;
  for (let k = 0; k < z.length; k++) {
    if (k === skip) continue;
    if (best < 0 || z[k] > z[best]) best = k;
  }
  return best;
}

/**
 * Per-sample top-2 reduction: keep only the label `y` and its strongest rival
 * `c = argmax_{k≠y} z_k`, and apply the binary closed form to that pair:
 * `δ = z_y − z_c`, `Δ_{y,c} = a_y − a_c`, `ρ_top2 = √(δ² + π²)/|Δ_{y,c}|`, ghost at
 * `t = −δ/Δ_{y,c} + i·π/|Δ_{y,c}|`.
 *
 * Without a label, `y = argmax_k z_k` and `c` is the runner-up (lowest index on ties).
 *
 * **An estimate, not a bound:** the other K − 2 classes can move the true nearest zero
 * closer or further, so `ρ_top2` may lie above or below the exact `ρ*`; only `π/Δ_a`
 * ({@link rhoA}) is guaranteed to be ≤ `ρ*`. For K = 2 it is exact (= {@link rhoStarBinary}).
 *
 * Throws `RangeError` for K < 2, mismatched lengths, a non-finite logit or slope, or a label
 * that is not an integer in `[0, K)`.
 */
export function top2(logits: ArrayLike<number>, slopes: ArrayLike<number>, label?: number): Top2 {
  const k = logits.length;
  if (slopes.length !== k) {
    throw new RangeError(`top2: logits have ${k} entries, slopes ${slopes.length}`);
  }
  if (k < 2) throw new RangeError("top2: needs at least 2 classes");
  requireFiniteArray(logits, "top2", "logits");
  requireFiniteArray(slopes, "top2", "slopes");
  let y: number;
  if (label === undefined) {
    y = argmaxExcept(logits, -1);
  } else {
    if (!Number.isInteger(label) || label < 0 || label >= k) {
      throw new RangeError(`top2: label ${label} is not a class index in [0, ${k})`);
    }
    y = label;
  }
  const c = argmaxExcept(logits, y);
  const delta = logits[y] - logits[c];
  const slopeGap = slopes[y] - slopes[c];
  // ρ and the ghost are computed from halved logits/slopes when a difference overflows
  // float64 (|z|, |a| near 1.8e308), then rescaled: ρ = √(δ² + π²)/|Δ| with δ = δ'/sd and
  // Δ = Δ'/sg is √(δ'² + (π·sd)²)/|Δ'| · sg/sd.
  const sd = Number.isFinite(delta) ? 1 : 0.5;
  const sg = Number.isFinite(slopeGap) ? 1 : 0.5;
  const d = sd === 1 ? delta : logits[y] / 2 - logits[c] / 2;
  const g = sg === 1 ? slopeGap : slopes[y] / 2 - slopes[c] / 2;
  const ratio = sg / sd;
  return {
    label: y,
    rival: c,
    delta,
    slopeGap,
    rho: (Math.hypot(d, Math.PI * sd) / Math.abs(g)) * ratio,
    ghost: g === 0 ? null : { re: (-d / g) * ratio, im: ((Math.PI * sd) / Math.abs(g)) * ratio },
  };
}

/** `ρ_top2` of {@link top2}: an estimate of `ρ*`, not a bound. */
export function rhoTop2(
  logits: ArrayLike<number>,
  slopes: ArrayLike<number>,
  label?: number,
): number {
  return top2(logits, slopes, label).rho;
}

/** Ghost location of {@link top2} (`im ≥ 0`, `null` when the pair's slopes are equal). */
export function top2Ghost(
  logits: ArrayLike<number>,
  slopes: ArrayLike<number>,
  label?: number,
): ComplexPoint | null {
  return top2(logits, slopes, label).ghost;
}
