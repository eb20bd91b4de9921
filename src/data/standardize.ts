/**
 * Z-score standardisation of features, fitted on a training split only.
 *
 * @module
 */
import { DataError, type Dataset, withFeatures } from "./dataset.js";

/** Per-feature location and scale: `x' = (x − mean) / std`. */
export interface Standardizer {
  /** Mean of each feature over the fitting set (exactly the value for constant features), length d. */
  mean: Float64Array;
  /** Population standard deviation of each feature (1 for constant features), length d. */
  std: Float64Array;
}

/**
 * Fits per-feature mean and population standard deviation (divisor n) on `train`.
 * Fit on the training split only, then apply the same standardiser to every split, so no
 * information from the test set leaks into the features.
 *
 * A feature that is constant on `train` (zero variance — e.g. the corner pixels of the
 * digits, always 0) gets `std = 1` instead of 0: dividing by 0 would give NaN/Infinity,
 * while with 1 the feature becomes 0 on the training set and keeps its (shifted) raw
 * scale elsewhere. "Constant" is tested exactly (minimum = maximum), so rounding in the
 * mean cannot turn a constant column into a tiny, huge-scaling std.
 *
 * @throws {DataError} if `train` has no samples.
 */
export function fitStandardizer(train: Dataset): Standardizer {
  const { n, d, x } = train;
  if (n < 1) throw new DataError("fitStandardizer: the training set is empty");
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  const min = new Float64Array(d).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(d).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j];
      mean[j] += v;
      if (v < min[j]) min[j] = v;
      if (v > max[j]) max[j] = v;
    }
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  // Second pass for the variance: stable, unlike E[x²] − E[x]².
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const c = x[i * d + j] - mean[j];
      std[j] += c * c;
    }
  }
  for (let j = 0; j < d; j++) {
    if (min[j] === max[j]) {
      // Constant: use the value itself as the mean (a summed mean can be off by an ulp),
      // so the feature maps to exactly 0 on the training set.
      mean[j] = min[j];
      std[j] = 1;
    } else {
      std[j] = Math.sqrt(std[j] / n);
    }
  }
  return { mean, std };
}

/**
 * Returns a copy of `ds` with standardised features `(x − mean) / std`; `ds` is unchanged.
 *
 * @throws {DataError} if the standardiser's length differs from `ds.d`.
 */
export function applyStandardizer(ds: Dataset, st: Standardizer): Dataset {
  const { n, d } = ds;
  if (st.mean.length !== d || st.std.length !== d) {
    throw new DataError(
      `applyStandardizer: standardiser has ${st.mean.length} features, data has ${d}`,
    );
  }
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      out[i * d + j] = (ds.x[i * d + j] - st.mean[j]) / st.std[j];
    }
  }
  return withFeatures(ds, out);
}
