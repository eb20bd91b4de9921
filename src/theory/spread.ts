/**
 * Spreads of directional logit derivatives and the closed-form lower bound ρ_a = π / Δ_a
 * (SPEC §2), per sample and aggregated over a sample set.
 */

/** A row-major matrix: `n` rows of `k` entries in `data` (length `n·k`). */
export interface Matrix {
  data: ArrayLike<number>;
  n: number;
  k: number;
}

/** A sample set: an array of rows (`number[][]`) or a row-major {@link Matrix}. */
export type Rows = ArrayLike<ArrayLike<number>> | Matrix;

/** How a set of per-sample spreads is reduced to one spread. */
export type Aggregate = "max" | { quantile: number };

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

function spreadOf(a: ArrayLike<number>, from: number, to: number): number {
  if (to <= from) throw new RangeError("spread: empty row");
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const x = a[i];
    if (Number.isNaN(x)) return Number.NaN;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  return hi - lo;
}

/**
 * Spread of one sample's slopes: `Δ_a = max_k a_k − min_k a_k` (≥ 0).
 *
 * NaN when any entry is NaN. Throws `RangeError` on an empty array.
 */
export function spread(a: ArrayLike<number>): number {
  return spreadOf(a, 0, a.length);
}

/**
 * The radius lower bound for a given spread: `ρ_a = π / Δ_a` (Infinity when `Δ_a = 0`).
 */
export function rhoAFromSpread(spreadValue: number): number {
  return Math.PI / spreadValue;
}

/**
 * Closed-form lower bound on the linearised Taylor radius of one sample:
 * `ρ*(x; v) ≥ ρ_a(x; v) = π / Δ_a(x; v)` with `Δ_a = max_k a_k − min_k a_k`.
 *
 * Valid for any number of classes. Infinity when all slopes are equal (then the partition
 * function has no complex zero at all).
 */
export function rhoA(a: ArrayLike<number>): number {
  return rhoAFromSpread(spread(a));
}

/**
 * Per-row spreads `Δ_a(x_i) = max_k a_ik − min_k a_ik` of a sample set, as a Float64Array of
 * length `n` (the number of rows).
 *
 * Accepts `number[][]` (rows may differ in length, none may be empty) or a row-major
 * `{data, n, k}` matrix (`data.length` must equal `n·k`, `k ≥ 1`).
 */
export function spreads(rows: Rows): Float64Array {
  if (isMatrix(rows)) {
    const { data, n, k } = rows;
    if (!Number.isInteger(n) || !Number.isInteger(k) || n < 0 || k < 1) {
      throw new RangeError(`spreads: bad matrix shape n=${n}, k=${k}`);
    }
    if (data.length !== n * k) {
      throw new RangeError(`spreads: data has ${data.length} entries, expected n·k = ${n * k}`);
    }
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = spreadOf(data, i * k, (i + 1) * k);
    return out;
  }
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = spread(rows[i]);
  return out;
}

/**
 * Quantile of `values` at level `q ∈ [0, 1]` by linear interpolation between order
 * statistics — numpy's default (`method="linear"`, Hyndman–Fan type 7):
 * with the sorted values `x_(0) ≤ … ≤ x_(n−1)`, `h = (n − 1)·q`, `j = ⌊h⌋`,
 * `Q(q) = x_(j) + (h − j)·(x_(j+1) − x_(j))`.
 *
 * `Q(0)` is the minimum and `Q(1)` the maximum exactly; the result always lies between
 * `x_(j)` and `x_(j+1)`. Throws `RangeError` on an empty input, NaN entries or `q ∉ [0, 1]`.
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
  // numpy's lerp: interpolate from the nearer end, then clamp to [lo, hi] against rounding.
  const v = f < 0.5 ? lo + (hi - lo) * f : hi - (hi - lo) * (1 - f);
  return Math.min(hi, Math.max(lo, v));
}

/**
 * Reduces per-sample spreads to one: `"max"` → `max_i Δ_i` (the theory), `{quantile: q}` →
 * {@link quantile}`(Δ, q)` (outlier-robust, no guarantee; `q = 1` equals `"max"`).
 * Throws `RangeError` on an empty input.
 */
export function aggregateSpreads(values: ArrayLike<number>, aggregate: Aggregate = "max"): number {
  if (values.length === 0) throw new RangeError("aggregateSpreads: empty sample set");
  if (aggregate === "max") {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (Number.isNaN(x)) return Number.NaN;
      if (x > m) m = x;
    }
    return m;
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
 * guarantee. Accepts `number[][]` or a row-major `{data, n, k}` matrix; throws on an empty set.
 */
export function rhoASet(rows: Rows, options: RhoASetOptions = {}): number {
  return rhoAFromSpread(aggregateSpreads(spreads(rows), options.aggregate ?? "max"));
}

/**
 * Temperature scaling: training on logits `z/T` scales every slope by `1/T`, hence
 * `Δ_a(T) = Δ_a / T` and `ρ_a(T) = π T / Δ_a`, where `a` are the slopes of the untempered
 * logits. Equals `rhoA(a.map(x => x / T))`. Throws `RangeError` unless `T > 0`.
 */
export function rhoATemperature(a: ArrayLike<number>, temperature: number): number {
  if (!(temperature > 0)) {
    throw new RangeError(`rhoATemperature: temperature must be > 0, got ${temperature}`);
  }
  return (Math.PI * temperature) / spread(a);
}
