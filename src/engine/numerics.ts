/**
 * Transcendental functions that are accurate in float64.
 *
 * jax-js 0.1.25's wasm backend evaluates exp, log, sin, cos, erf, … through float32 code paths
 * even for float64 arrays (arithmetic, sqrt, floor and matmul are true float64). Measured on
 * float64 arrays: exp relative error up to 1.9e-6 on [−21, 21], log absolute error 1.2e-5,
 * erf absolute error 1.5e-7 (Abramowitz–Stegun 7.1.26), exp overflowing above ~88.7 and
 * underflowing below ~−87.3. That noise is non-smooth, so it wrecks float64 finite differences
 * (and caps float64 JVPs at ~1e-7 relative). The functions below rebuild exp, log, softmax,
 * log-softmax and erf from float64 arithmetic when the input is float64, and defer to jax-js's
 * built-ins for float32 (where those are accurate to the dtype).
 *
 * A second jax-js 0.1.25 pitfall: under `jit`, a plain JS number combined with an array is a
 * weakly typed constant that gets materialised as float32, so `jit(a => a.mul(1/3))` on a
 * float64 array multiplies by fround(1/3) (relative error 3e-8); `mean` does this internally
 * with 1/n. Constants exact in float32 (small integers, halves, powers of two) are safe.
 * `constLike` and `meanOver` below avoid the rest; every constant in the models goes through
 * them.
 *
 * All functions are traceable (usable under jit/grad/jvp) and CONSUME their array argument.
 */
import { type Array as JaxArray, lax, nn, numpy as np } from "@jax-js/jax";

function isF64(x: JaxArray): boolean {
  return x.dtype === np.float64;
}

/**
 * A scalar constant to combine with `like` (which is only inspected, not consumed): the plain
 * number when it is exact in float32, otherwise a strongly typed 0-d array of `like`'s dtype,
 * which jit keeps at full precision.
 */
export function constLike(like: JaxArray, value: number): number | JaxArray {
  return Math.fround(value) === value ? value : np.array(value, { dtype: like.dtype });
}

/**
 * x / c for a number c, as x · fl(1/c) with the reciprocal held at x's precision. `x.div(c)`
 * is x · reciprocal(c), and under jit-of-grad jax-js evaluates that reciprocal of a weak JS
 * number in float32 (x/3 comes out with relative error 3e-8 even in float64). Consumes x.
 */
export function divConst(x: JaxArray, c: number): JaxArray {
  return x.mul(constLike(x, 1 / c));
}

/**
 * Mean over `axes` as sum · fl(1/count) at x's precision, instead of jax-js's `mean`, whose
 * 1/count factor is rounded to float32 under jit. Consumes x.
 */
export function meanOver(x: JaxArray, axes: number | number[], keepdims = false): JaxArray {
  const list = Array.isArray(axes) ? axes : [axes];
  let count = 1;
  for (const a of list) count *= x.shape[a < 0 ? x.ndim + a : a]!;
  return divConst(x.sum(list, { keepdims }), count);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const ONE_OVER_SQRT_PI = 1 / Math.sqrt(Math.PI);
/** Below this |u| the float64 erf uses the power series, above it the continued fraction. */
const ERF64_SWITCH = 2.5;
/** Terms of the series and levels of the continued fraction (each ≤ 1e-14 on its side). */
const ERF64_SERIES_TERMS = 36;
const ERF64_CF_TERMS = 28;
/** Halvings before the Taylor series (the result is squared back this many times). */
const EXP64_HALVINGS = 10;
/** Taylor terms for exp(y), |y| ≤ 709.8/1024 ≈ 0.69: truncation below 1e-18. */
const EXP64_TERMS = 17;

/** exp(x) = T(x/2¹⁰)^(2¹⁰), T the degree-17 Taylor polynomial (value only). Consumes x. */
function exp64Raw(x: JaxArray): JaxArray {
  const y = np.clip(x, -746, 710).mul(1 / 2 ** EXP64_HALVINGS);
  let p: JaxArray = divConst(y.ref, EXP64_TERMS).add(1);
  for (let n = EXP64_TERMS - 1; n >= 1; n--) p = divConst(y.ref.mul(p), n).add(1);
  y.dispose();
  for (let i = 0; i < EXP64_HALVINGS; i++) p = p.ref.mul(p);
  return p;
}

/**
 * value + (x − stop(x))·slope, with value and slope computed from stop(x): equals `value`
 * exactly and has first derivative `slope`. jax-js has no custom-derivative API; without this
 * the JVP/VJP of the ~300-operation float64 erf differentiates every step, which makes jit
 * compiles of float64 JVPs take tens of seconds (e.g. 20 s for the MLP+LN) for no gain.
 * Second derivatives through these functions are therefore NOT correct (only first-order AD
 * — grad, jvp, vjp — is used in this project). Consumes all three arguments.
 */
function withSlope(x: JaxArray, value: JaxArray, slope: JaxArray): JaxArray {
  const delta = x.ref.sub(lax.stopGradient(x));
  // An infinite slope (exp overflow, log at 0) would turn 0·∞ into NaN in the value.
  const capped = np.clip(
    lax.stopGradient(slope),
    constLike(slope, -Number.MAX_VALUE),
    constLike(slope, Number.MAX_VALUE),
  );
  return lax.stopGradient(value).add(delta.mul(capped));
}

/**
 * exp in float64 from arithmetic: exp(x) = T(x/2¹⁰)^(2¹⁰), T the degree-17 Taylor polynomial.
 * Relative error ≤ 3e-13 over the whole float64 range (squaring amplifies the rounding of T);
 * overflows to +∞ above ~709.8 and underflows to 0 below ~−745, like `Math.exp`. First-order
 * derivative exact (see `withSlope`). Consumes x.
 */
export function exp64(x: JaxArray): JaxArray {
  const e = exp64Raw(lax.stopGradient(x.ref));
  return withSlope(x, e.ref, e);
}

/**
 * log in float64: jax-js's float32-accurate log refined by two Newton steps on the
 * float64 exp (1e-5 → 1e-10 → 3e-13 absolute). First-order derivative 1/x. Consumes x.
 */
export function log64(x: JaxArray): JaxArray {
  const xs = lax.stopGradient(x.ref);
  const positive = xs.ref.greater(0);
  // Newton needs x > 0; 0 and negatives take jax-js's −∞ / NaN instead.
  const safe = np.maximum(xs.ref, constLike(xs, Number.MIN_VALUE));
  const value = np.where(positive, log64Raw(safe.ref), np.log(xs));
  return withSlope(x, value, np.reciprocal(safe));
}

/**
 * erf in float64 (absolute error ~1e-13, smooth): see `erf64Raw`. First-order derivative
 * (2/√π)e^{−u²}. Consumes u.
 */
export function erf64(u: JaxArray): JaxArray {
  const us = lax.stopGradient(u.ref);
  const value = erf64Raw(us.ref);
  const slope = exp64Raw(us.ref.mul(us).neg()).mul(constLike(u, TWO_OVER_SQRT_PI));
  return withSlope(u, value, slope);
}

/** exp in the input's precision (float64: `exp64`; otherwise jax-js's own). Consumes x. */
export function exp(x: JaxArray): JaxArray {
  return isF64(x) ? exp64(x) : np.exp(x);
}

/**
 * log via Newton steps y ← y − 1 + x·e^{−y} from jax-js's float32 log (value only). The start
 * is range-reduced by powers of 2¹⁰⁰ so x beyond float32's range (down to subnormals) works.
 * For x > 0. Consumes x.
 */
function log64Raw(x: JaxArray): JaxArray {
  let a = x.ref;
  let shift: JaxArray = np.zerosLike(x.ref);
  for (let i = 0; i < 11; i++) {
    const big = a.ref.greater(2 ** 50);
    a = np.where(big.ref, a.ref.mul(2 ** -100), a);
    shift = shift.add(np.where(big, 100, 0));
    const tiny = a.ref.less(2 ** -50);
    a = np.where(tiny.ref, a.ref.mul(2 ** 100), a);
    shift = shift.sub(np.where(tiny, 100, 0));
  }
  // Newton on log(a), a = x·2^(−shift) ∈ [2⁻⁵⁰, 2⁵⁰], so e^{−y} stays finite.
  let y = np.log(a.ref);
  for (let i = 0; i < 2; i++) y = y.ref.sub(1).add(a.ref.mul(exp64Raw(y.neg())));
  a.dispose();
  x.dispose();
  return y.add(shift.mul(constLike(y, Math.LN2)));
}

/** log in the input's precision. Consumes x. */
export function log(x: JaxArray): JaxArray {
  return isF64(x) ? log64(x) : np.log(x);
}

/** Softmax along `axis` (default last), max-shifted; precise in float64. Consumes x. */
export function softmax(x: JaxArray, axis = -1): JaxArray {
  if (!isF64(x)) return nn.softmax(x, axis);
  const m = lax.stopGradient(x.ref.max(axis, { keepdims: true }));
  const e = exp64(x.sub(m));
  return e.ref.div(e.sum(axis, { keepdims: true }));
}

/** log-softmax along `axis` (default last), max-shifted; precise in float64. Consumes x. */
export function logSoftmax(x: JaxArray, axis = -1): JaxArray {
  if (!isF64(x)) return nn.logSoftmax(x, axis);
  const m = lax.stopGradient(x.ref.max(axis, { keepdims: true }));
  const s = x.sub(m);
  const lse = log64(exp64(s.ref).sum(axis, { keepdims: true }));
  return s.sub(lse);
}

/**
 * erf value in float64 from arithmetic and the float64 exp (absolute error ~1e-13):
 * - |u| ≤ 2.5: erf(u) = (2/√π) e^{−u²} Σₙ (2u²)ⁿ u / (2n+1)!!  (positive terms, no
 *   cancellation), 36 terms;
 * - |u| > 2.5: erfc(|u|) = e^{−u²}/√π · 1/(|u| + ½/(|u| + 1/(|u| + 3/2/(|u| + …)))),
 *   28 levels.
 * Each branch sees a clamped argument so the unused one stays finite (no NaN gradients
 * through `where`). Consumes u.
 */
function erf64Raw(u: JaxArray): JaxArray {
  const small = np.abs(u.ref).lessEqual(ERF64_SWITCH);
  const us = np.clip(u.ref, -ERF64_SWITCH, ERF64_SWITCH);
  const us2 = us.ref.mul(us.ref);
  const w = us2.ref.mul(2);
  let r: JaxArray = divConst(w.ref, 2 * ERF64_SERIES_TERMS + 1).add(1);
  for (let n = ERF64_SERIES_TERMS - 1; n >= 1; n--) r = divConst(w.ref.mul(r), 2 * n + 1).add(1);
  w.dispose();
  const c1 = constLike(us, TWO_OVER_SQRT_PI);
  const series = exp64Raw(us2.neg()).mul(us).mul(r).mul(c1);
  const a = np.maximum(np.abs(u.ref), ERF64_SWITCH);
  let f: JaxArray = a.ref;
  for (let k = ERF64_CF_TERMS; k >= 1; k--) f = a.ref.add(np.reciprocal(f).mul(k / 2));
  const a2 = a.ref.mul(a);
  const c2 = constLike(a2, ONE_OVER_SQRT_PI);
  const erfc = exp64Raw(a2.neg()).mul(c2).div(f);
  const large = np.sign(u).mul(np.negative(erfc).add(1));
  return np.where(small, series, large);
}

/**
 * erf in the input's precision: `erf64` for float64; jax-js's built-in for float32
 * (Abramowitz–Stegun 7.1.26, absolute error ≤ 1.5e-7, i.e. float32 resolution). Consumes u.
 */
export function erf(u: JaxArray): JaxArray {
  return isF64(u) ? erf64(u) : lax.erf(u);
}
