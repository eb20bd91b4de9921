/**
 * KL cross-check of the radius scale in real arithmetic (docs/science.md §2). Moving the logits by
 * `t·a` changes the softmax `p(t)`; with the log-partition `K(t) = log Σ_k e^{z_k + t a_k}` and
 * the cumulants κ_n of `a` under `p(0)`:
 *
 * - reverse KL: `KL(p(0)‖p(t)) = K(t) − K(0) − t K'(0) = (t²/2)κ₂ + (t³/6)κ₃ + …`, with the
 *   rigorous bound `|KL − (t²/2)Var| ≤ |t|³ Δ_a³ / (36√3)`;
 * - forward KL: `KL(p(t)‖p(0)) = t K'(t) − K(t) + K(0) = (t²/2)κ₂ + (t³/3)κ₃ + …`, whose
 *   leading remainder term is at most `|t|³ Δ_a³ / (18√3)` — twice the reverse constant, and
 *   a leading-order estimate, not a bound (the quartic term is not controlled).
 *
 * Both use `|κ₃| ≤ Δ_a³/(6√3)` for a law on an interval of width Δ_a (sharp: the two-point law
 * with `p = (3 ± √3)/6`). The reference implementation checks the forward direction with the
 * 1/(18√3) constant: its `klRemainderBound(tau, delta)` is our `forwardKlRemainderLeading(t, Δ)`.
 * Every name here carries its direction, so a port cannot swap them silently.
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
 * Exact reverse KL, `KL(p(0)‖p(t))`, between the softmax of `z` and of `z + t·a`:
 * `KL = K(t) − K(0) − t·ā = log Σ_k p_k e^{c_k}` with `p = p(0)`, `ā = Σ_k p_k a_k`,
 * `c_k = t(a_k − ā)`.
 *
 * Computed without cancellation: since `Σ_k p_k c_k = 0`,
 * `KL = log1p(S)`, `S = Σ_k p_k (e^{c_k} − 1 − c_k) ≥ 0`, and `S` is accumulated in log space
 * (`log S = logsumexp_k(log p_k + log(e^{c_k} − 1 − c_k))`), so the result keeps full relative
 * precision for tiny `t` (KL ~ t²) and does not overflow for large `t`. Always ≥ 0.
 */
export function reverseKl(logits: ArrayLike<number>, slopes: ArrayLike<number>, t: number): number {
  checkPair(logits, slopes, t, "reverseKl");
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

/** `log(c·(e^c − 1))` for real c ≠ 0 (the product is > 0 for both signs), without overflow. */
function logCExpm1(c: number): number {
  if (c < 0) return Math.log(-c) + Math.log(-Math.expm1(c));
  return Math.log(c) + (c > 30 ? c + Math.log1p(-Math.exp(-c)) : Math.log(Math.expm1(c)));
}

/**
 * Exact forward KL, `KL(p(t)‖p(0))`, between the softmax of `z + t·a` and of `z`:
 * `KL = Σ_k q_k c_k − L` with `c_k = t(a_k − ā)`, `L = log Σ_k p_k e^{c_k}` (the reverse KL)
 * and the tilted law `q_k = p_k e^{c_k − L}`.
 *
 * Computed without cancellation: since `Σ_k p_k c_k = 0`,
 * `Σ_k q_k c_k = e^{−L} Σ_k p_k c_k (e^{c_k} − 1)`, a sum of non-negative terms accumulated in
 * log space; what is left is the difference of two positive numbers in a ratio near 2. ≥ 0.
 */
export function forwardKl(logits: ArrayLike<number>, slopes: ArrayLike<number>, t: number): number {
  checkPair(logits, slopes, t, "forwardKl");
  const { logp, c } = centred(logits, slopes, t);
  const reverse = reverseKl(logits, slopes, t);
  const terms = new Float64Array(logp.length);
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < logp.length; k++) {
    terms[k] = c[k] === 0 ? Number.NEGATIVE_INFINITY : logp[k] + logCExpm1(c[k]);
    if (terms[k] > m) m = terms[k];
  }
  if (m === Number.NEGATIVE_INFINITY) return 0;
  let s = 0;
  for (let k = 0; k < terms.length; k++) s += Math.exp(terms[k] - m);
  return Math.max(0, Math.exp(m + Math.log(s) - reverse) - reverse);
}

function cubed(who: string, t: number, spreadValue: number): number {
  requireFinite(t, who, "t");
  requireFinite(spreadValue, who, "spread");
  if (spreadValue < 0) throw new RangeError(`${who}: spread must be >= 0, got ${spreadValue}`);
  const x = Math.abs(t) * spreadValue;
  return x * x * x;
}

/**
 * Rigorous bound on the cubic remainder of the REVERSE KL,
 * `|KL(p(0)‖p(t)) − (t²/2)Var_{p(0)}(a)| ≤ |t|³ Δ_a³ / (36√3)`.
 *
 * Lagrange remainder `R = (t³/6) K‴(ξ)`; `K‴(ξ)` is the third central moment of the tilted
 * softmax, a law on an interval of width `Δ_a`, whose modulus is at most `Δ_a³/(6√3)`
 * (two-point law with `p = (3 ± √3)/6`). Arguments in the reference implementation's
 * order: the step `t`, then the spread `Δ_a ≥ 0`.
 */
export function reverseKlRemainderBound(t: number, spreadValue: number): number {
  return cubed("reverseKlRemainderBound", t, spreadValue) / (36 * Math.sqrt(3));
}

/**
 * The leading remainder term of the FORWARD KL, `|t|³ Δ_a³ / (18√3)`: the largest possible
 * `|(t³/3)κ₃|` in `KL(p(t)‖p(0)) − (t²/2)Var_{p(0)}(a)`. An estimate as `t → 0`, not a bound
 * (the quartic term is not controlled). The reference implementation's
 * `klRemainderBound(tau, delta)`, with the same argument order.
 */
export function forwardKlRemainderLeading(t: number, spreadValue: number): number {
  return cubed("forwardKlRemainderLeading", t, spreadValue) / (18 * Math.sqrt(3));
}

/** Softmax probabilities of `logits` (max-shifted). Throws on empty or non-finite input. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  if (logits.length === 0) throw new RangeError("softmax: empty input");
  requireFiniteArray(logits, "softmax", "logits");
  // exp(z − max) / Σ rather than exp(log-softmax): no rounding of a large log-sum-exp
  let m = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < logits.length; k++) if (logits[k] > m) m = logits[k];
  const p = new Float64Array(logits.length);
  let sum = 0;
  for (let k = 0; k < p.length; k++) {
    p[k] = Math.exp(logits[k] - m);
    sum += p[k];
  }
  for (let k = 0; k < p.length; k++) p[k] /= sum;
  return p;
}

/** Checks weights: non-empty, finite, ≥ 0, positive sum; returns the sum. */
function weightSum(p: ArrayLike<number>, who: string, name: string): number {
  if (p.length === 0) throw new RangeError(`${who}: ${name} is empty`);
  requireFiniteArray(p, who, name);
  let sum = 0;
  for (let k = 0; k < p.length; k++) {
    if (p[k] < 0) throw new RangeError(`${who}: ${name}[${k}] = ${p[k]} is negative`);
    sum += p[k];
  }
  if (!(sum > 0)) throw new RangeError(`${who}: ${name} sums to 0`);
  return sum;
}

/**
 * `KL(p‖q) = Σ_k p_k log(p_k / q_k)` of two distributions on the same classes (each
 * normalised by its sum); `0·log 0 = 0`, and `+∞` where `q_k = 0 < p_k`. No smoothing epsilon
 * (the reference adds 1e-12 inside the logs), so tiny probabilities count exactly.
 */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) {
    throw new RangeError(`klDivergence: p has ${p.length} entries, q ${q.length}`);
  }
  const sp = weightSum(p, "klDivergence", "p");
  const sq = weightSum(q, "klDivergence", "q");
  let kl = 0;
  for (let k = 0; k < p.length; k++) {
    if (p[k] === 0) continue;
    if (q[k] === 0) return Number.POSITIVE_INFINITY;
    const pk = p[k] / sp;
    kl += pk * Math.log(pk / (q[k] / sq));
  }
  return Math.max(0, kl);
}

/**
 * `Var_p(a) = Σ_k p_k (a_k − ā)²` with `ā = Σ_k p_k a_k` (p normalised by its sum; two passes,
 * so no `E[a²] − E[a]²` cancellation).
 */
export function variance(p: ArrayLike<number>, a: ArrayLike<number>): number {
  if (p.length !== a.length) {
    throw new RangeError(`variance: p has ${p.length} entries, a ${a.length}`);
  }
  const sp = weightSum(p, "variance", "p");
  requireFiniteArray(a, "variance", "a");
  let mean = 0;
  for (let k = 0; k < p.length; k++) mean += p[k] * a[k];
  mean /= sp;
  let v = 0;
  for (let k = 0; k < p.length; k++) v += p[k] * (a[k] - mean) * (a[k] - mean);
  return v / sp;
}
