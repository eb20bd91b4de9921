/**
 * KL cross-check of the radius scale in real arithmetic (docs/science.md §2). Moving the logits by
 * `t·a` changes the softmax `p(t)`; with the log-partition `K(t) = log Σ_k e^{z_k + t a_k}`,
 * `KL(p(0)‖p(t)) = K(t) − K(0) − t K'(0) = (t²/2) Var_{p(0)}(a) + R`,
 * `|R| ≤ |t|³ Δ_a³ / (36√3)`.
 */

import { requireFinite, requireFiniteArray } from "./finite.js";

function checkPair(
  logits: ArrayLike<number>,
  slopes: ArrayLike<number>,
  t: number,
  who: string,
): void {
  if (logits.length !== slopes.length) {
    throw new RangeError(`${who}: logits have ${logits.length} entries, slopes ${slopes.length}`);
  }
  if (logits.length === 0) throw new RangeError(`${who}: empty input`);
  requireFiniteArray(logits, who, "logits");
  requireFiniteArray(slopes, who, "slopes");
  requireFinite(t, who, "t");
}

/** `log p(0)_k = z_k − log Σ_j e^{z_j}`, computed with the max shift. */
function logSoftmax(z: ArrayLike<number>): Float64Array {
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < z.length; k++) if (z[k] > m) m = z[k];
  let s = 0;
  for (let k = 0; k < z.length; k++) s += Math.exp(z[k] - m);
  const lse = m + Math.log(s);
  const out = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) out[k] = z[k] - lse;
  return out;
}

/**
 * Softmax probabilities `p = p(0)` and the centred, scaled slopes `c_k = t(a_k − ā)` with
 * `ā = Σ_k p_k a_k / Σ_k p_k`. The mean is taken of the offsets `a_k − min a` (exact for
 * nearly equal slopes) and clamped to `[0, Δ_a]`, so its rounding error is relative to the
 * spread `Δ_a` rather than to the slopes' magnitude, and equal slopes give `c ≡ 0` exactly.
 */
function centred(
  logits: ArrayLike<number>,
  a: ArrayLike<number>,
  t: number,
): { logp: Float64Array; p: Float64Array; c: Float64Array; sumP: number } {
  const logp = logSoftmax(logits);
  const n = logp.length;
  let lo = Number.POSITIVE_INFINITY;
  for (let k = 0; k < n; k++) if (a[k] < lo) lo = a[k];
  const p = new Float64Array(n);
  const d = new Float64Array(n);
  let sumP = 0;
  let sumPD = 0;
  let maxD = 0;
  for (let k = 0; k < n; k++) {
    p[k] = Math.exp(logp[k]);
    d[k] = a[k] - lo;
    if (d[k] > maxD) maxD = d[k];
    sumP += p[k];
    sumPD += p[k] * d[k];
  }
  const mu = Math.min(maxD, Math.max(0, sumPD / sumP));
  const c = new Float64Array(n);
  for (let k = 0; k < n; k++) c[k] = t * (d[k] - mu);
  return { logp, p, c, sumP };
}

/** `log(e^c − 1 − c)` for real c, accurate for tiny |c| and without overflow for large c. */
function logExpm1MinusX(c: number): number {
  if (c === 0) return Number.NEGATIVE_INFINITY;
  if (Math.abs(c) < 0.5) {
    // e^c − 1 − c = Σ_{n≥2} c^n / n!
    let term = (c * c) / 2;
    let sum = term;
    for (let n = 3; n < 40; n++) {
      term *= c / n;
      sum += term;
      if (Math.abs(term) <= 1e-17 * sum) break;
    }
    return Math.log(sum);
  }
  if (c > 30) return c + Math.log1p(-(1 + c) * Math.exp(-c));
  return Math.log(Math.expm1(c) - c);
}

/** `log(1 + e^x)` without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Exact `KL(p(0)‖p(t))` between the softmax of `z` and of `z + t·a`:
 * `KL = K(t) − K(0) − t·ā = log Σ_k p_k e^{c_k}` with `p = p(0)`, `ā = Σ_k p_k a_k`,
 * `c_k = t(a_k − ā)`.
 *
 * Computed without cancellation: since `Σ_k p_k c_k = 0`,
 * `KL = log1p(S)`, `S = Σ_k p_k (e^{c_k} − 1 − c_k) ≥ 0`, and `S` is accumulated in log space
 * (`log S = logsumexp_k(log p_k + log(e^{c_k} − 1 − c_k))`), so the result keeps full relative
 * precision for tiny `t` (KL ~ t²) and does not overflow for large `t`. Always ≥ 0.
 */
export function klExact(logits: ArrayLike<number>, slopes: ArrayLike<number>, t: number): number {
  checkPair(logits, slopes, t, "klExact");
  const { logp, c } = centred(logits, slopes, t);
  const terms = new Float64Array(logp.length);
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < logp.length; k++) {
    terms[k] = logp[k] + logExpm1MinusX(c[k]);
    if (terms[k] > m) m = terms[k];
  }
  if (m === Number.NEGATIVE_INFINITY) return 0;
  let s = 0;
  for (let k = 0; k < terms.length; k++) s += Math.exp(terms[k] - m);
  return softplus(m + Math.log(s));
}

/**
 * Quadratic (second-order) model of the KL: `(t²/2)·Var_{p(0)}(a)` with
 * `Var_{p(0)}(a) = Σ_k p_k (a_k − ā)²` (two-pass, `p = softmax(z)`), accumulated as
 * `½ Σ_k p_k (t(a_k − ā))²` so that huge `t` with tiny slopes does not overflow.
 */
export function klQuadratic(
  logits: ArrayLike<number>,
  slopes: ArrayLike<number>,
  t: number,
): number {
  checkPair(logits, slopes, t, "klQuadratic");
  const { p, c, sumP } = centred(logits, slopes, t);
  let v = 0;
  for (let k = 0; k < p.length; k++) v += p[k] * c[k] * c[k];
  return (0.5 * v) / sumP;
}

/**
 * Rigorous bound on the cubic remainder `R = KL − (t²/2)Var_{p(0)}(a)`:
 * `|R| ≤ |t|³ Δ_a³ / (36√3)`.
 *
 * Lagrange remainder `R = (t³/6) K'''(ξ)`; `K'''(ξ)` is the third central moment of the
 * tilted softmax, a law on an interval of width `Δ_a`, whose modulus is at most
 * `Δ_a³/(6√3)` (two-point law with `p = (3 ± √3)/6`).
 */
export function klRemainderBound(spreadValue: number, t: number): number {
  requireFinite(spreadValue, "klRemainderBound", "spread");
  requireFinite(t, "klRemainderBound", "t");
  const x = Math.abs(t) * spreadValue;
  return (x * x * x) / (36 * Math.sqrt(3));
}
