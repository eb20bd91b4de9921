/**
 * Spreads of directional logit derivatives and the closed-form lower bound ρ_a = π / Δ_a
 * (docs/science.md §2), per sample and aggregated over a sample set.
 */

import { requireFinite } from "./finite.js";

/** A row-major matrix: `n` rows of `k` entries in `data` (length `n·k`). */
export interface Matrix {
  data: ArrayLike<number>;
  n: number;
  k: number;
}

/** A sample set: an array of rows (`number[][]`) or a row-major {@link Matrix}. */
export type Rows = ArrayLike<ArrayLike<number>> | Matrix;

/** How a set of per-sample spreads is reduced to one spread. */
/**
 * How per-sample spreads reduce to one: `"max"` (the theory's bound), `{quantile: q}`
 * (outlier-robust, no guarantee), or `"mean"` (the reference implementation's default for its
 * output radius; for comparison only: a mean under-states the worst sample, so `π / mean Δ`
 * is no bound).
 */
export type Aggregate = "max" | "mean" | { quantile: number };

/** True when `rows` is the row-major {@link Matrix} form. */
export function isMatrix(rows: Rows): rows is Matrix {
  return (
    typeof rows === "object" &&
    rows !== null &&
    "data" in rows &&
    "n" in rows &&
    "k" in rows &&
    typeof (rows as Matrix).n === "number"
  );
}

/** Smallest and largest entry of `a[from, to)`; throws on an empty range or a non-finite entry. */
function rangeOf(a: ArrayLike<number>, from: number, to: number, who: string): [number, number] {
  if (to <= from) throw new RangeError(`${who}: empty row`);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const x = a[i];
    if (!Number.isFinite(x)) {
      throw new RangeError(`${who}: slope ${i - from} of a row must be finite, got ${x}`);
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return [lo, hi];
}

/**
 * Spread of one sample's slopes: `Δ_a = max_k a_k − min_k a_k` (≥ 0).
 *
 * Infinity only when the difference of two finite slopes exceeds the float64 range
 * (|a| near 1.8e308); {@link rhoA} and {@link rhoASet} rescale in that case. Throws
 * `RangeError` on an empty array or a non-finite slope.
 */
export function spread(a: ArrayLike<number>): number {
  const [lo, hi] = rangeOf(a, 0, a.length, "spread");
  return hi - lo;
}

/**
 * The radius lower bound for a given spread: `ρ_a = π / Δ_a` (Infinity when `Δ_a = 0`).
 *
 * Infinity is also the answer for a positive spread below `π / Number.MAX_VALUE` ≈ 1.7e-308:
 * the bound then exceeds the float64 range (a zero exists, `spread > 0` tells it apart from
 * "no zero"). Throws `RangeError` for a negative, NaN or infinite spread (an overflowed
 * spread cannot give a radius; use {@link rhoA}, which rescales).
 */
export function rhoAFromSpread(spreadValue: number): number {
  if (!(spreadValue >= 0) || spreadValue === Number.POSITIVE_INFINITY) {
    throw new RangeError(
      `rhoAFromSpread: spread must be finite and >= 0, got ${spreadValue}` +
        (spreadValue === Number.POSITIVE_INFINITY ? " (overflow: use rhoA on the slopes)" : ""),
    );
  }
  return Math.PI / spreadValue;
}

/** `π / (hi − lo)`, rescaled by ½ when the difference overflows (the radius is scale-covariant). */
function rhoOfRange(lo: number, hi: number): number {
  const d = hi - lo;
  return Number.isFinite(d) ? Math.PI / d : Math.PI / 2 / (hi / 2 - lo / 2);
}

/**
 * Closed-form lower bound on the linearised Taylor radius of one sample:
 * `ρ*(x; v) ≥ ρ_a(x; v) = π / Δ_a(x; v)` with `Δ_a = max_k a_k − min_k a_k`.
 *
 * Valid for any number of classes. Infinity when all slopes are equal (then the partition
 * function has no complex zero at all), or when the spread is so small that the bound
 * exceeds the float64 range (see {@link rhoAFromSpread}). Slopes whose spread overflows
 * float64 (±1.5e308) still give the correct, tiny radius. Throws `RangeError` on an empty
 * array or a non-finite slope.
 */
export function rhoA(a: ArrayLike<number>): number {
  const [lo, hi] = rangeOf(a, 0, a.length, "rhoA");
  return rhoOfRange(lo, hi);
}

/**
 * Per-row spreads of `rows` with every slope multiplied by `scale` first (`scale = ½` keeps a
 * difference of finite slopes finite).
 */
function scaledSpreads(rows: Rows, scale: number, who: string): Float64Array {
  if (isMatrix(rows)) {
    const { data, n, k } = rows;
    if (!Number.isInteger(n) || !Number.isInteger(k) || n < 0 || k < 1) {
      throw new RangeError(`${who}: bad matrix shape n=${n}, k=${k}`);
    }
    if (data.length !== n * k) {
      throw new RangeError(`${who}: data has ${data.length} entries, expected n·k = ${n * k}`);
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const [lo, hi] = rangeOf(data, i * k, (i + 1) * k, who);
      out[i] = hi * scale - lo * scale;
    }
    return out;
  }
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [lo, hi] = rangeOf(rows[i], 0, rows[i].length, who);
    out[i] = hi * scale - lo * scale;
  }
  return out;
}

/**
 * Per-row spreads `Δ_a(x_i) = max_k a_ik − min_k a_ik` of a sample set, as a Float64Array of
 * length `n` (the number of rows).
 *
 * Accepts `number[][]` (rows may differ in length, none may be empty) or a row-major
 * `{data, n, k}` matrix (`data.length` must equal `n·k`, `k ≥ 1`). Throws `RangeError` on a
 * non-finite slope; a spread is Infinity only when it overflows float64 (see {@link spread}).
 */
export function spreads(rows: Rows): Float64Array {
  return scaledSpreads(rows, 1, "spreads");
}

/**
 * Quantile of `values` at level `q ∈ [0, 1]` by linear interpolation between order
 * statistics — numpy's default (`method="linear"`, Hyndman–Fan type 7):
 * with the sorted values `x_(0) ≤ … ≤ x_(n−1)`, `h = (n − 1)·q`, `j = ⌊h⌋`,
 * `Q(q) = x_(j) + (h − j)·(x_(j+1) − x_(j))`.
 *
 * `Q(0)` is the minimum and `Q(1)` the maximum exactly; the result always lies between
 * `x_(j)` and `x_(j+1)`. Throws `RangeError` on an empty input, NaN entries or `q ∉ [0, 1]`;
 * ±Infinity entries are ordered values (an order statistic of radii may be infinite).
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const n = values.length;
  if (n === 0) throw new RangeError("quantile: empty input");
  const x = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(x[i])) throw new RangeError("quantile: NaN in input");
  }
  x.sort();
  const h = (n - 1) * q;
  const j = Math.floor(h);
  if (j >= n - 1) return x[n - 1];
  const f = h - j;
  const lo = x[j];
  const hi = x[j + 1];
  if (f === 0 || lo === hi) return lo;
  // An infinite order statistic (an overflowed spread, a "never" onset) is where the
  // interpolation lands: return it rather than the NaN of ∞ − ∞.
  if (!Number.isFinite(lo)) return lo;
  if (!Number.isFinite(hi)) return hi;
  // numpy's lerp: interpolate from the nearer end, then clamp to [lo, hi] against rounding.
  const v = f < 0.5 ? lo + (hi - lo) * f : hi - (hi - lo) * (1 - f);
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Reduces per-sample spreads to one: `"max"` → `max_i Δ_i` (the theory), `{quantile: q}` →
 * {@link quantile}`(Δ, q)` (outlier-robust, no guarantee; `q = 1` equals `"max"`), `"mean"` →
 * the mean spread (the reference implementation's reduction; no guarantee, for comparison).
 * Throws `RangeError` on an empty input or a spread that is NaN or negative (an overflowed,
 * infinite spread is kept: it is still the largest).
 */
export function aggregateSpreads(values: ArrayLike<number>, aggregate: Aggregate = "max"): number {
  if (values.length === 0) throw new RangeError("aggregateSpreads: empty sample set");
  for (let i = 0; i < values.length; i++) {
    if (!(values[i] >= 0)) {
      throw new RangeError(`aggregateSpreads: spread ${i} must be >= 0, got ${values[i]}`);
    }
  }
  if (aggregate === "max") {
    let m = 0;
    for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
    return m;
  }
  if (aggregate === "mean") {
    // Spreads are ≥ 0: sum the halves when the sum itself would overflow.
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[i];
    if (Number.isFinite(sum)) return sum / values.length;
    let half = 0;
    for (let i = 0; i < values.length; i++) half += values[i] / 2;
    return (half / values.length) * 2;
  }
  return quantile(values, aggregate.quantile);
}

/** Options of {@link rhoASet}. */
export interface RhoASetOptions {
  /** `"max"` (default, the guaranteed bound) or `{quantile: q}` with `q ∈ [0, 1]`. */
  aggregate?: Aggregate;
}

/**
 * Set-level lower bound: a step moves every sample at once, so over a sample set `S`
 * `ρ_a(v) = π / max_{x∈S} Δ_a(x; v)`. Smaller sets give larger values:
 * `ρ_a(train) ≤ ρ_a(batch) ≤ ρ_a(x)`.
 *
 * With `{aggregate: {quantile: q}}` the max is replaced by the q-quantile of the spreads
 * (`π / Q_q(Δ)`, see {@link quantile}); that value is ≥ the max version and carries no
 * guarantee. Accepts `number[][]` or a row-major `{data, n, k}` matrix; throws `RangeError`
 * on an empty set or a non-finite slope. Spreads that overflow float64 are handled by
 * rescaling (ρ_a is scale-covariant: halving every slope doubles it).
 */
export function rhoASet(rows: Rows, options: RhoASetOptions = {}): number {
  const aggregate = options.aggregate ?? "max";
  const s = spreads(rows);
  if (!s.includes(Number.POSITIVE_INFINITY)) return rhoAFromSpread(aggregateSpreads(s, aggregate));
  return Math.PI / 2 / aggregateSpreads(scaledSpreads(rows, 0.5, "rhoASet"), aggregate);
}

/**
 * Temperature scaling: training on logits `z/T` scales every slope by `1/T`, hence
 * `Δ_a(T) = Δ_a / T` and `ρ_a(T) = π T / Δ_a`, where `a` are the slopes of the untempered
 * logits. Equals `rhoA(a.map(x => x / T))`. Throws `RangeError` unless `T` is finite and
 * `> 0`, or on a non-finite slope.
 */
export function rhoATemperature(a: ArrayLike<number>, temperature: number): number {
  if (!(requireFinite(temperature, "rhoATemperature", "temperature") > 0)) {
    throw new RangeError(`rhoATemperature: temperature must be > 0, got ${temperature}`);
  }
  const [lo, hi] = rangeOf(a, 0, a.length, "rhoATemperature");
  const d = hi - lo;
  return Number.isFinite(d)
    ? (Math.PI * temperature) / d
    : ((Math.PI / 2) * temperature) / (hi / 2 - lo / 2);
}
