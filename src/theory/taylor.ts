/**
 * The Taylor series of the cross-entropy loss along a line, with exact coefficients.
 *
 * Along θ + t·v the logits move as z + t·a, so the loss of a sample with label y is
 * ℓ(t) = log Σ_k e^{z_k + a_k t} − (z_y + a_y t). Its derivatives at t = 0 are the cumulants of
 * the slopes a under the softmax p = softmax(z): ℓ'(0) = E_p[a] − a_y and ℓ^{(n)}(0) = κ_n for
 * n ≥ 2. The series converges exactly for |t| < ρ*, the distance to the nearest complex zero of
 * the partition function (`nearestGhost`), and diverges beyond it.
 *
 * @module
 */

function checkLine(z: ArrayLike<number>, a: ArrayLike<number>, y: number): void {
  if (z.length !== a.length) {
    throw new RangeError(`logits and slopes differ in length (${z.length} vs ${a.length})`);
  }
  if (z.length < 2) throw new RangeError(`need at least 2 classes, got ${z.length}`);
  if (!Number.isInteger(y) || y < 0 || y >= z.length) {
    throw new RangeError(`label ${y} is not a class index in [0, ${z.length})`);
  }
}

/** `log Σ_k e^{x_k}` without overflow. */
function logSumExp(x: ArrayLike<number>): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < x.length; k++) if (x[k] > m) m = x[k];
  let s = 0;
  for (let k = 0; k < x.length; k++) s += Math.exp(x[k] - m);
  return m + Math.log(s);
}

/**
 * The loss along the line, ℓ(t) = log Σ_k e^{z_k + a_k t} − (z_y + a_y t), computed stably.
 *
 * @throws {RangeError} for mismatched lengths, fewer than 2 classes or a bad label.
 */
export function lossAlongLine(
  z: ArrayLike<number>,
  a: ArrayLike<number>,
  y: number,
  t: number,
): number {
  checkLine(z, a, y);
  const moved = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) moved[k] = z[k] + a[k] * t;
  return logSumExp(moved) - moved[y];
}

/**
 * Taylor coefficients c_0 … c_order of ℓ(t) at t = 0 (c_n = ℓ^{(n)}(0)/n!), exact up to
 * float64 rounding: from the moments of the centred slopes under the softmax, turned into
 * cumulants by the power-series logarithm n·c_n = n·m_n − Σ_{j<n} j·c_j·m_{n−j}
 * (m_n = E_p[(a − E_p a)^n]/n!). No differencing of ℓ.
 *
 * @param order highest power (a non-negative integer).
 * @throws {RangeError} for mismatched lengths, fewer than 2 classes, a bad label or order.
 */
export function taylorCoefficients(
  z: ArrayLike<number>,
  a: ArrayLike<number>,
  y: number,
  order: number,
): Float64Array {
  checkLine(z, a, y);
  if (!Number.isInteger(order) || order < 0) {
    throw new RangeError(`order must be a non-negative integer, got ${order}`);
  }
  const lse = logSumExp(z);
  const K = z.length;
  const p = new Float64Array(K);
  let mean = 0;
  for (let k = 0; k < K; k++) {
    p[k] = Math.exp(z[k] - lse);
    mean += p[k] * a[k];
  }
  // m[n] = E_p[b^n]/n! with b = a − mean, built term by term as b^n/n!
  const m = new Float64Array(order + 1);
  const term = new Float64Array(K).fill(1);
  m[0] = 1;
  for (let n = 1; n <= order; n++) {
    let s = 0;
    for (let k = 0; k < K; k++) {
      term[k] *= (a[k] - mean) / n;
      s += p[k] * term[k];
    }
    m[n] = s;
  }
  // Cumulants of b (c[1] = 0: the mean is removed), then shift c_1 back.
  const c = new Float64Array(order + 1);
  for (let n = 2; n <= order; n++) {
    let s = n * m[n];
    for (let j = 2; j < n; j++) s -= j * c[j] * m[n - j];
    c[n] = s / n;
  }
  c[0] = lse - z[y];
  if (order >= 1) c[1] = mean - a[y];
  return c;
}

/** The Taylor polynomial Σ_{n ≤ order} c_n t^n (Horner), for the first `order + 1` coefficients. */
export function taylorPolynomial(
  coefficients: ArrayLike<number>,
  t: number,
  order = coefficients.length - 1,
): number {
  let s = 0;
  for (let n = Math.min(order, coefficients.length - 1); n >= 0; n--) s = s * t + coefficients[n];
  return s;
}
