/**
 * Exact, certified nearest ghost: the zero of smallest modulus of
 *
 *     F(t) = Σ_k exp(z_k + a_k t),   t ∈ C,
 *
 * the linearised softmax partition function along a step direction (docs/science.md §2, ρ*).
 * Plain double-precision TypeScript; no allocation in the hot loops.
 *
 * ── 1. Normalisation (exact invariances) ──────────────────────────────────────────
 * Adding a constant to every z_k multiplies F by a positive constant; adding c to every
 * a_k multiplies F by e^{ct}, which never vanishes; scaling every a_k by s maps zeros
 * t ↦ t/s. So with l_k = z_k − max z ≤ 0, c = (max a + min a)/2, s = (max a − min a)/2,
 * b_k = (a_k − c)/s ∈ [−1, 1] and τ = s t, the zeros of F in t are the zeros of
 *
 *     G(τ) = Σ_k e^{l_k} e^{b_k τ}
 *
 * divided by s. Terms with equal slopes are merged (log-add-exp of their weights).
 * Every evaluation is done in log space: at τ = u + iv the terms are scaled by
 * e^{−max_k(l_k + b_k u)}, so the largest term has modulus exactly 1 and nothing
 * overflows or underflows whatever the logits (±1e4) or slopes (1e−6…1e6). If all slopes
 * are equal (or K = 1), G is one exponential and has no zero: modulus = Infinity,
 * re = NaN, im = Infinity, certified = true (that is a proof, not a failure).
 *
 * ── 2. Search bracket ──────────────────────────────────────────────────────────────
 * Theorem (docs/science.md §2): on the line Im τ = v every term has phase b_k v; if |v| < π/2 all
 * phases lie in (−π/2, π/2), so Re G > 0 and G ≠ 0. Hence every zero has |Im τ| ≥ π/2,
 * i.e. ρ* ≥ π/Δ_a in t units; this is the lower end of every search. Zeros come in
 * conjugate pairs (G is real on the real axis) and G > 0 on the real axis, so we only
 * look at the upper half plane and report im ≥ 0.
 * Candidates come from the tropical picture of G: the upper envelope max_k(l_k + b_k u)
 * is piecewise linear; on the vertical line through the breakpoint of each edge (j, k)
 * of the upper convex hull of the points (b_k, l_k) the two terms j, k dominate and G
 * vanishes near τ_jk = (l_j − l_k + iπ)/(b_k − b_j) — the pairwise "top-2" ghost. Newton
 * (step capped at 1, the scale on which G can turn by a radian) is started from the
 * hull-edge ghosts in order of modulus. Newton alone proves nothing; the certificate
 * (§4) decides. If it reports zeros inside the candidate's circle, those are searched
 * for (Newton from the contour points where |G| is smallest and from all pairwise
 * ghosts inside, then bisection on the radius with winding counts) and the smaller zero
 * is certified in turn.
 *
 * ── 3. Pruning (K large) ───────────────────────────────────────────────────────────
 * With R an estimate of the search radius, a term with l_k + |b_k| R < −R − 46 − ln K is
 * below e^{−46}/K of the envelope everywhere in |τ| ≤ R (the envelope is ≥ e^{−R} there,
 * because the top logit term alone is). Such terms are dropped from the sums, but not
 * from the proof: by convexity of b ↦ e^{bu} on [−1, 1], each dropped term satisfies
 * e^{l_k + b_k u} ≤ e^{l_k}((1 + b_k)/2 e^u + (1 − b_k)/2 e^{−u}), so the whole tail obeys
 * |tail(τ)| ≤ P₊ e^{u} + P₋ e^{−u} with two precomputed constants, valid at every τ (not
 * only inside R). This bound is added to the error budget of every check in §4; it is the
 * Rouché argument: when |G − G_kept| < |G_kept| on the contour, G and G_kept have the
 * same number of zeros inside. Pruning never weakens the certificate; at worst it makes
 * it fail (then the solve is repeated without pruning).
 *
 * ── 4. Certificate (argument principle, proof grade) ─────────────────────────────────
 * Let z0 be the candidate and r slightly below |z0| (see the end of this section). The number of zeros in
 * the open upper half disk {|τ| < r, Im τ > 0} is N = (1/2π)·Δarg G along the upper
 * semicircle from θ = 0 to θ = π (the real diameter contributes nothing since G > 0
 * there). On the parts of the semicircle with Im τ ≤ V0 = (π/2)(1 − 1e−4) we have
 * Re G ≥ cos(V0)·Σ|terms| > 0, so the argument is the principal value there and needs no
 * sampling. The remaining arc θ ∈ [asin(V0/r), π − asin(V0/r)] is walked with points
 * τ_0, τ_1, …; at each point we compute c_j ≈ G(τ_j) with a rigorous bound E_j on
 * |G(τ_j) − c_j| (rounding: an a-priori bound eps·(2K + 8 + 4(max|l| + |u| + |v|))·Σ|terms|
 * assuming Math.exp/sin/cos are faithful, as V8's fdlibm ports are; plus the pruned tail).
 * The argument increment between consecutive points is accepted only if one of three
 * sufficient conditions proves that G stays in a known half plane / sector:
 *  (a) reach: |G(τ) − c_j| ≤ (|G'(τ_j)| + E_j) h + e·S2_j h²/2 + E_j + tail < 0.99|c_j|
 *      for |τ − τ_j| ≤ h ≤ 1, where S2_j = Σ b_k²|term_k| bounds |G''| up to the factor
 *      e^{h} ≤ e (|b_k| ≤ 1). So G lies in the disk D(c_j, |c_j|), which misses 0 and
 *      sits inside an open half plane; if the reaches of two neighbours cover the arc
 *      between them, the continuous argument changes by the principal difference
 *      (|change| < π). This is the classical |F'|-bounded sampling, done adaptively
 *      (bisection where it fails), so the phase step between samples is always < π.
 *      On long contours (r ≥ 16) the same bound is also tried in a rotating frame: with
 *      β = b_j of the largest term, G(τ)e^{−β(τ−τ_j)} − c_j is bounded term by term
 *      (|e^{γs} − 1 − γs| ≤ (|γ|h)²e^{|γ|h}/2 for the terms with γ = b_k − β small, a
 *      crude e^{2h} growth for the rest, computed from their log-moduli so that even
 *      underflowed terms are covered); then arg G − β·Im τ is pinned instead of arg G,
 *      and a cluster of nearly equal slopes gives reaches ~1/(cluster width) instead of
 *      ~1. Two neighbours are joined through a common arc point M of both disks: the
 *      predicted change β_j(v_M − v_j) + β_{j+1}(v_{j+1} − v_M) plus a principal correction.
 *  (b) dominance: if one term T_j has Σ_{k≠j}|T_k| + tail + E < 0.9|T_j| at both ends,
 *      then, because Σ_{k≠j} e^{(l_k − l_j) + (b_k − b_j)u} (and the tail bound over |T_j|)
 *      is convex in u and u is monotone along the upper semicircle, the same holds on
 *      the whole arc between; G/T_j stays in D(1, 0.9) and Δarg G = b_j Δv + the
 *      principal corrections at the ends. This makes large radii (huge logit gaps) cheap.
 *      Variant (b'): the terms with |b_k − b_j| ≤ w = 0.3/r (j's cluster) are exempt from
 *      the sum, because on the circle their phases relative to T_j stay within w·r = 0.3,
 *      so Re(e^{−i b_j v}·cluster) ≥ cos(0.3)|T_j|; the threshold is 0.9·cos(0.3).
 *  (c) model (near z0): with d0 ≈ G'(z0), |G(τ) − d0 (τ − z0)| ≤ A0 + A1 ℓ + A2 ℓ² where
 *      ℓ = |τ − z0|, A0 = |G(z0)| bound, A1 = error of d0, A2 = e^{D} S2/2. If
 *      A0/ℓ + A1 + A2 ℓ < 0.99|d0| for ℓ = ℓmin and ℓ = D (then for all ℓ in between, by
 *      convexity), G/(d0(τ − z0)) ∈ D(1, 0.99) on the arc portion within D of z0, whose
 *      argument change is that of τ − z0 (z0 is outside the circle, so that is a
 *      principal difference) plus end corrections. The same inequality on the circle
 *      |τ − z0| = ℓmin is Rouché's theorem: G has exactly one zero within ℓmin of z0.
 * The lifted argument ψ̃ built from these increments stays within π/2 of the true
 * continuous argument at every point, so N = round((ψ̃_end − arg c_end)/2π) is exact.
 * "certified" means: N = 0 for r = |z0| − 2ℓmin (no zero with |t| < lower = r/s) and,
 * through (c), a zero exists with |t| ≤ upper = (|z0| + ℓmin)/s. ℓmin is ≈ 4|G(z0)|/|G'(z0)|
 * (~1e−14 relative for small K, ~1e−10 at K = 50,000 where the a-priori rounding bound
 * grows with K), so the modulus is exact to about that. If the model check fails (a
 * multiple or nearly multiple zero, which Newton only locates to ~√eps) the contour is
 * taken at r = |z0|(1 − 1e−9), then at |z0|(1 − 1e−6), and upper = Infinity; certified
 * then requires N = 0 and |G(z0)| ≤ 1e−8 Σ|terms|, and `lower` says how tight it is. Any check that cannot be
 * completed (contour passes too close to another zero, evaluation budget of ~5e7 term
 * evaluations exhausted) yields certified = false — never a wrong "true". `lower` is
 * always a valid lower bound (at least π/Δ_a, by the theorem). Known zeros just outside
 * the circle (e.g. a mirror-image ghost of the same modulus) get their own rule-(c)
 * model so the walk can pass them.
 */

/** The nearest complex zero of F(t) = Σ_k exp(z_k + a_k t). */
export interface Ghost {
  re: number;
  im: number;
  modulus: number;
  certified: boolean;
}

/** {@link Ghost} plus the proven bracket and some bookkeeping. */
export interface GhostResult extends Ghost {
  /** Proven: no zero of F has |t| < lower. Always valid (≥ π/Δ_a up to rounding). */
  lower: number;
  /** Proven: some zero has |t| ≤ upper (Infinity when existence was not proven). */
  upper: number;
  /** Terms kept after merging equal slopes and pruning. */
  terms: number;
  /** Number of evaluations of F (each costs one pass over the kept terms). */
  evaluations: number;
}

export interface GhostOptions {
  /** Run the argument-principle certificate (default true). Without it certified = false. */
  certify?: boolean;
  /** Drop terms that provably cannot matter, with the tail bounded rigorously (default true). */
  prune?: boolean;
}

const EPS = 2.220446049250313e-16;
const HALF_PI = Math.PI / 2;
const TWO_PI = 2 * Math.PI;
/** Height below which Re G > 0 is guaranteed (cos V0 ≈ 1.6e−4 ≫ rounding). */
const V0 = HALF_PI * (1 - 1e-4);
const E1 = Math.E;
const MAX_CONTOUR_EVALS = 20000;

/** Normalised problem G(τ) = Σ e^{l_k + b_k τ} (+ a bounded, dropped tail). */
interface Problem {
  n: number;
  l: Float64Array;
  b: Float64Array;
  /** log P₊, log P₋ of the pruned tail (−Infinity when nothing was pruned). */
  tailP: number;
  tailM: number;
  /** eps·(2n + 8 + 4 max|l|): rounding factor before the |u| + |v| part. */
  errBase: number;
  /** Hull-edge ghosts (u, v) sorted by modulus. */
  seeds: Float64Array;
}

// ── evaluation state (module level to keep the hot loop allocation-free) ────────────
let GR = 0; // Re G / e^{shift}
let GI = 0; // Im G / e^{shift}
let DR = 0; // Re G'
let DI = 0; // Im G'
let S0 = 0; // Σ |terms|
let S2 = 0; // Σ b² |terms|
let JMAX = 0; // index of the largest term (modulus exactly 1)
let SOUT = 0; // Σ |terms| with |b_k − b_JMAX| > CLUSTER_W (outside JMAX's cluster)
let TAIL = 0; // bound on |pruned tail| at this point (scaled)
let ERR = 0; // bound on |G_kept − computed| (scaled)
let EVALS = 0;
/** Slope width of a "cluster" for rule (b'), set per contour to CLUSTER_WR / r. */
let CLUSTER_W = 0;
const CLUSTER_WR = 0.3;
/** Rule (b') threshold: 0.9·cos(CLUSTER_WR). */
const CLUSTER_Q = 0.9 * Math.cos(CLUSTER_WR);
/** EVALS value at which the current solve gives up (certified = false). */
let BUDGET_END = Number.POSITIVE_INFINITY;

// Per-term scratch of the last evaluation: exponent relative to the top term, modulus.
let XE = new Float64Array(64);
let XM = new Float64Array(64);

function evalAt(P: Problem, u: number, v: number): void {
  const n = P.n;
  const l = P.l;
  const b = P.b;
  if (XE.length < n) {
    XE = new Float64Array(n);
    XM = new Float64Array(n);
  }
  const xe = XE;
  const xm = XM;
  let mx = Number.NEGATIVE_INFINITY;
  let jm = 0;
  for (let k = 0; k < n; k++) {
    const e = l[k] + b[k] * u;
    xe[k] = e;
    if (e > mx) {
      mx = e;
      jm = k;
    }
  }
  let gr = 0;
  let gi = 0;
  let dr = 0;
  let di = 0;
  let s0 = 0;
  let s2 = 0;
  let so = 0;
  const bj = b[jm];
  const w = CLUSTER_W;
  for (let k = 0; k < n; k++) {
    const bk = b[k];
    const e = xe[k] - mx;
    const m = Math.exp(e);
    xe[k] = e;
    xm[k] = m;
    const db = bk - bj;
    if (db > w || db < -w) so += m;
    const ph = bk * v;
    const c = Math.cos(ph) * m;
    const s = Math.sin(ph) * m;
    gr += c;
    gi += s;
    dr += bk * c;
    di += bk * s;
    s0 += m;
    s2 += bk * bk * m;
  }
  GR = gr;
  GI = gi;
  DR = dr;
  DI = di;
  S0 = s0;
  S2 = s2 * (1 + 1e-12);
  JMAX = jm;
  SOUT = so;
  let tail = 0;
  if (P.tailP > Number.NEGATIVE_INFINITY) tail += Math.exp(P.tailP + u - mx);
  if (P.tailM > Number.NEGATIVE_INFINITY) tail += Math.exp(P.tailM - u - mx);
  TAIL = tail * (1 + 1e-12);
  ERR = s0 * (P.errBase + 4 * EPS * (Math.abs(u) + Math.abs(v))) + 1e-300;
  EVALS++;
}

/** Principal value of x in (−π, π]. */
function wrap(x: number): number {
  if (x > -Math.PI && x <= Math.PI) return x;
  let y = x - TWO_PI * Math.round(x / TWO_PI);
  if (y <= -Math.PI) y += TWO_PI;
  else if (y > Math.PI) y -= TWO_PI;
  return y;
}

/** Radius h ≤ 1 around the last evaluated point inside which G ∈ D(c, 0.99|c|) (rule a). */
function reachHere(): number {
  const g = 0.99 * Math.hypot(GR, GI) - ERR - E1 * TAIL;
  if (!(g > 0)) return 0;
  const a1 = Math.hypot(DR, DI) + ERR;
  const m2 = E1 * S2;
  const h = (2 * g) / (a1 + Math.sqrt(a1 * a1 + 2 * m2 * g));
  return Math.min(h, 1);
}

/** Frame of the last framedReach (the slope β of the rotating frame e^{βτ}). */
let FR_BETA = 0;

/** Contours with r below this use the plain reach only. */
const FRAME_MIN_R = 16;

/**
 * Rule (a) in a rotating frame, for long contours: with β = b_JMAX and γ_k = b_k − β,
 * G(τ)e^{−β(τ−A)} − G(A) = (G'(A) − βG(A))s + Σ T_k(A)(e^{γ_k s} − 1 − γ_k s), s = τ − A,
 * and |e^{γs} − 1 − γs| ≤ (|γ|h)²/2·e^{|γ|h} for the "near" terms (|γ| ≤ t), while the
 * others (|γ| ≤ 2) are bounded by e^{e_k}(e^{2h} − 1 − 2h) with e_k their log-modulus
 * (so underflowed terms are still accounted for) and the tail by TAIL·e^{2h}. When a
 * cluster of nearly equal slopes dominates, this reach is ~1/(cluster width) instead
 * of ~1. Returns the largest h found (≥ the plain reach h0) and sets FR_BETA.
 */
function framedReach(P: Problem, r: number, h0: number): number {
  const g = 0.99 * Math.hypot(GR, GI) - ERR;
  FR_BETA = 0;
  if (!(g > 0)) return h0;
  const n = P.n;
  const b = P.b;
  const beta = b[JMAX];
  const ab = Math.abs(beta);
  const a1 = Math.hypot(DR - beta * GR, DI - beta * GI) + ERR * (1 + ab);
  let best = h0;
  let bestBeta = 0;
  for (let tier = 0; tier < 3; tier++) {
    const t = (tier === 0 ? 2 : tier === 1 ? 16 : 128) / r;
    let q2 = 0;
    let gmax = 0;
    let ef = Number.NEGATIVE_INFINITY;
    let nf = 0;
    for (let k = 0; k < n; k++) {
      const gk = b[k] - beta;
      const a = gk < 0 ? -gk : gk;
      if (a <= t) {
        q2 += gk * gk * XM[k];
        if (a > gmax) gmax = a;
      } else {
        nf++;
        if (XE[k] > ef) ef = XE[k];
      }
    }
    q2 *= 1 + 1e-12;
    const far = nf > 0 ? nf * Math.exp(ef) : 0;
    const bound = (h: number): number => {
      const x = 2 * h;
      const farPart = far > 0 ? far * (Math.expm1(x) - x) : 0;
      return a1 * h + 0.5 * q2 * h * h * Math.exp(gmax * h) + farPart + TAIL * Math.exp(x);
    };
    let h = Math.max(best, 1e-3);
    if (bound(h) > g) continue;
    const hmax = 4 * r;
    while (h < hmax && bound(2 * h) <= g) h *= 2;
    let hi = 2 * h;
    for (let it = 0; it < 4 && h < hmax; it++) {
      const mid = 0.5 * (h + hi);
      if (bound(mid) <= g) h = mid;
      else hi = mid;
    }
    if (h > best) {
      best = h;
      bestBeta = beta;
    }
  }
  FR_BETA = bestBeta;
  return best;
}

// ── Newton ──────────────────────────────────────────────────────────────────────────
let NU = 0;
let NV = 0;

/** Damped Newton on G from (u, v); result in NU, NV (upper half plane). */
function newton(P: Problem, u0: number, v0: number, maxIter = 60): boolean {
  let u = u0;
  let v = v0 < 0 ? -v0 : v0;
  let closing = 0;
  for (let it = 0; it < maxIter; it++) {
    if (EVALS > BUDGET_END) return false;
    evalAt(P, u, v);
    const den = DR * DR + DI * DI;
    if (!(den > 0)) return false;
    let su = -(GR * DR + GI * DI) / den;
    let sv = -(GI * DR - GR * DI) / den;
    const sl = Math.hypot(su, sv);
    if (!Number.isFinite(sl)) return false;
    if (sl > 1) {
      su /= sl;
      sv /= sl;
    }
    u += su;
    v += sv;
    if (v < 0) v = -v;
    const scale = 1 + Math.hypot(u, v);
    if (sl <= 1e-9 * scale) {
      closing++;
      if (sl <= 4 * EPS * scale || closing >= 2) {
        NU = u;
        NV = v;
        return true;
      }
    }
  }
  // accept only if we ended on a genuine zero
  evalAt(P, u, v);
  if (Math.hypot(GR, GI) <= 1e-10 * S0) {
    NU = u;
    NV = v;
    return true;
  }
  return false;
}

// ── contour walk (argument principle on the upper arc |τ| = r) ────────────────────────
// Left point of the current interval.
let LT = 0; // theta
let LV = 0; // v
let LARG = 0; // principal arg of c
let LREACH = 0;
let LBETA = 0; // frame slope of the left point's reach
let LDOM = -1; // dominant term index or −1 (rule b)
let LCLU = -1; // dominant cluster's top term or −1 (rule b')
let LGR = 0;
let PSI = 0; // lifted argument at the left point
// Stack of pending right points.
const STACK = 96;
const ST = new Float64Array(STACK);
const SV = new Float64Array(STACK);
const SARG = new Float64Array(STACK);
const SREACH = new Float64Array(STACK);
const SBETA = new Float64Array(STACK);
const SDOM = new Int32Array(STACK);
const SCLU = new Int32Array(STACK);
const SGR = new Float64Array(STACK);
let SP = 0;
// Contour points kept for seeding searches: (u, v, |G|/Σ|terms|).
let CU = new Float64Array(256);
let CV = new Float64Array(256);
let CQ = new Float64Array(256);
let CN = 0;
// Where the last failed walk got stuck.
let FAIL_U = 0;
let FAIL_V = 0;
let CONTOUR_EVALS = 0;

function recordPoint(u: number, v: number, q: number): void {
  if (CN === CU.length) {
    const m = CN * 2;
    const nu = new Float64Array(m);
    const nv = new Float64Array(m);
    const nq = new Float64Array(m);
    nu.set(CU);
    nv.set(CV);
    nq.set(CQ);
    CU = nu;
    CV = nv;
    CQ = nq;
  }
  CU[CN] = u;
  CV[CN] = v;
  CQ[CN] = q;
  CN++;
}

/** Evaluate the arc point at angle th and push it on the stack. */
function pushPoint(P: Problem, r: number, th: number): void {
  const u = r * Math.cos(th);
  const v = r * Math.sin(th);
  evalAt(P, u, v);
  CONTOUR_EVALS++;
  const i = SP++;
  ST[i] = th;
  SV[i] = v;
  SARG[i] = Math.atan2(GI, GR);
  const h0 = reachHere();
  if (r >= FRAME_MIN_R) {
    SREACH[i] = framedReach(P, r, h0);
    SBETA[i] = FR_BETA;
  } else {
    SREACH[i] = h0;
    SBETA[i] = 0;
  }
  // dominance ratio (rule b): the largest term has modulus exactly 1
  SDOM[i] = S0 - 1 + TAIL + ERR < 0.9 ? JMAX : -1;
  SCLU[i] = SOUT + TAIL + ERR < CLUSTER_Q ? JMAX : -1;
  SGR[i] = GR;
  recordPoint(u, v, Math.hypot(GR, GI) / S0);
}

function popToLeft(): void {
  const i = --SP;
  LT = ST[i];
  LV = SV[i];
  LARG = SARG[i];
  LREACH = SREACH[i];
  LBETA = SBETA[i];
  LDOM = SDOM[i];
  LCLU = SCLU[i];
  LGR = SGR[i];
}

/** Walk from the left point to angle thR, refining until every increment is proven. */
function walkTo(P: Problem, r: number, thR: number): boolean {
  pushPoint(P, r, thR);
  const minLen = 1e-13 * Math.max(r, 1);
  while (SP > 0) {
    const i = SP - 1;
    const len = r * (ST[i] - LT);
    const hR = SREACH[i];
    if (LREACH + hR >= len) {
      // both disks contain the arc point M; arg G − β·Im(τ − centre) is known in each
      let pred = 0;
      if (LBETA !== 0 || SBETA[i] !== 0) {
        const vM = r * Math.sin(LT + (ST[i] - LT) * (LREACH / (LREACH + hR)));
        pred = LBETA * (vM - LV) + SBETA[i] * (SV[i] - vM);
      }
      PSI += pred + wrap(SARG[i] - LARG - pred);
      popToLeft();
      continue;
    }
    let j = SDOM[i];
    if (j < 0 || j !== LDOM) j = SCLU[i] >= 0 && SCLU[i] === LCLU ? SCLU[i] : -1;
    if (j >= 0) {
      const bj = P.b[j];
      PSI += bj * (SV[i] - LV) + wrap(SARG[i] - bj * SV[i]) - wrap(LARG - bj * LV);
      popToLeft();
      continue;
    }
    if (len < minLen || SP >= STACK || CONTOUR_EVALS > MAX_CONTOUR_EVALS || EVALS > BUDGET_END) {
      const tm = 0.5 * (LT + ST[i]);
      FAIL_U = r * Math.cos(tm);
      FAIL_V = r * Math.sin(tm);
      SP = 0;
      return false;
    }
    pushPoint(P, r, 0.5 * (LT + ST[i]));
  }
  return true;
}

/** A known simple zero z with the rule-(c) data: valid for ℓ = |τ − z| ∈ [lmin, D]. */
interface Model {
  zu: number;
  zv: number;
  mod: number;
  /** arg G'(z) */
  argD: number;
  lmin: number;
  D: number;
  /** θ range on the current contour covered by the model (set per contour). */
  th1: number;
  th2: number;
}

/**
 * Rule (c) for a zero near (zu, zv): returns null when the linear model cannot be proven
 * (e.g. a near-multiple zero). Leaves the evaluation at (zu, zv) in the globals.
 */
function buildModel(P: Problem, zu: number, zv: number): Model | null {
  const mod = Math.hypot(zu, zv);
  evalAt(P, zu, zv);
  const d0 = Math.hypot(DR, DI);
  if (!(d0 > 0)) return null;
  // D from A2·D ≤ 0.4|d0| with e^{D} ≤ e
  let D = (0.8 * d0) / (E1 * (S2 + TAIL));
  if (D > 1) D = 1;
  const eD = Math.exp(D);
  const A0 = Math.hypot(GR, GI) + ERR + eD * TAIL;
  const A1 = ERR;
  const A2 = 0.5 * eD * (S2 + TAIL);
  let lmin = (4 * A0) / d0;
  const floor = 1e-15 * mod;
  if (lmin < floor) lmin = floor;
  const lim = 0.99 * d0;
  if (!(lmin < 0.5 * D && A0 / lmin + A1 + A2 * lmin < lim && A0 / D + A1 + A2 * D < lim)) {
    return null;
  }
  return { zu, zv, mod, argD: Math.atan2(DI, DR), lmin, D, th1: 0, th2: 0 };
}

const NO_MODELS: Model[] = [];

/** Rule (c): from the left point to the arc point at angle th, across the model m. */
function modelStep(P: Problem, r: number, m: Model, th: number): void {
  const argL = Math.atan2(LV - m.zv, r * Math.cos(LT) - m.zu);
  pushPoint(P, r, th);
  const i = SP - 1;
  const argR = Math.atan2(SV[i] - m.zv, r * Math.cos(ST[i]) - m.zu);
  PSI += wrap(argR - argL) + wrap(SARG[i] - m.argD - argR) - wrap(LARG - m.argD - argL);
  popToLeft();
}

/** Walk the arc from the left point to angle t1 with an initial grid of spacing ≈ 2. */
function segment(P: Problem, r: number, t1: number): boolean {
  const t0 = LT;
  const len = r * (t1 - t0);
  if (!(len > 0)) return true;
  let m = Math.ceil(len / 2);
  if (m > 64) m = 64;
  for (let q = 1; q <= m; q++) {
    const th = q === m ? t1 : t0 + ((t1 - t0) * q) / m;
    if (!walkTo(P, r, th)) return false;
  }
  return true;
}

/**
 * Number of zeros of G in the open upper half disk |τ| < r, or −1 when the walk could
 * not be completed (FAIL_U/FAIL_V then hold a point very close to a zero). Models of
 * known zeros outside the circle (at distance ≥ their lmin) shortcut the walk near them.
 */
function countUpper(P: Problem, r: number, models: Model[]): number {
  CN = 0;
  CONTOUR_EVALS = 0;
  if (!(r > V0)) return 0;
  CLUSTER_W = CLUSTER_WR / r;
  const tha = Math.asin(V0 / r);
  const thb = Math.PI - tha;
  SP = 0;
  pushPoint(P, r, tha);
  popToLeft();
  if (!(LGR > 0)) {
    // cannot happen by the theorem unless rounding is absurd; refuse to certify
    FAIL_U = r * Math.cos(tha);
    FAIL_V = r * Math.sin(tha);
    return -1;
  }
  PSI = LARG;
  // usable models with their θ ranges on this circle, sorted and made disjoint
  let use = NO_MODELS;
  if (models.length > 0) {
    use = [];
    for (const m of models) {
      const dist = m.mod - r;
      const Dp = 0.999 * m.D;
      if (!(dist >= m.lmin && dist < Dp)) continue;
      const cosA = (r * r + m.mod * m.mod - Dp * Dp) / (2 * r * m.mod);
      const alpha = cosA <= -1 ? Math.PI : Math.acos(cosA);
      const thz = Math.atan2(m.zv, m.zu);
      m.th1 = Math.min(thb, Math.max(tha, thz - alpha));
      m.th2 = Math.min(thb, Math.max(tha, thz + alpha));
      if (m.th2 > m.th1) use.push(m);
    }
    use.sort((x, y) => x.th1 - y.th1);
    for (let i = 1; i < use.length; i++) {
      const prev = use[i - 1];
      const cur = use[i];
      if (cur.th1 < prev.th2) {
        const cut = 0.5 * (cur.th1 + prev.th2);
        prev.th2 = cut;
        cur.th1 = cut;
      }
    }
  }
  for (const m of use) {
    if (m.th1 < LT || m.th2 <= m.th1) continue;
    if (!segment(P, r, m.th1)) return -1;
    modelStep(P, r, m, m.th2);
  }
  if (!segment(P, r, thb)) return -1;
  return Math.round((PSI - LARG) / TWO_PI);
}

// ── certification of a candidate ──────────────────────────────────────────────────────
interface Cert {
  /** zeros in the open upper half disk of radius r (−1: walk failed) */
  count: number;
  r: number;
  /** proven upper bound on ρ* (Infinity when existence was not proven) */
  upper: number;
  residualOk: boolean;
  /** the candidate's linear model was proven (it is a simple zero) */
  simple: boolean;
}

/**
 * Certificate for the candidate `best` (normalised units): count the zeros strictly inside
 * |τ| = |best| − lmin (or |best|(1 − relGap) when best is not provably simple), using the
 * models of all known zeros near that circle.
 */
function certifyCandidate(
  P: Problem,
  best: Model | null,
  bu: number,
  bv: number,
  known: Model[],
  relGap: number,
): Cert {
  const mod = Math.hypot(bu, bv);
  evalAt(P, bu, bv);
  const residualOk = Math.hypot(GR, GI) <= 1e-8 * S0;
  let r: number;
  let upper = Number.POSITIVE_INFINITY;
  if (best !== null) {
    // 2·lmin: the circle's distance to the zero must stay ≥ lmin after rounding
    r = mod - 2 * best.lmin;
    upper = mod + best.lmin;
  } else r = mod * (1 - relGap);
  for (const m of known) {
    if (m !== best && m.mod - 2 * m.lmin < r && m.mod >= mod) r = m.mod - 2 * m.lmin;
  }
  const count = countUpper(P, r, known);
  return { count, r, upper, residualOk, simple: best !== null };
}

// ── problem setup ───────────────────────────────────────────────────────────────────
interface Setup {
  /** merged, sorted, not pruned */
  full: Problem;
  s: number;
  /** spread Δ_a = 2s */
  spread: number;
}

function makeProblem(
  l: Float64Array,
  b: Float64Array,
  tailP: number,
  tailM: number,
  seeds?: Float64Array,
): Problem {
  const n = l.length;
  let lmax = 0;
  for (let k = 0; k < n; k++) {
    const a = -l[k];
    if (a > lmax) lmax = a;
  }
  return {
    n,
    l,
    b,
    tailP,
    tailM,
    errBase: EPS * (2 * n + 8 + 4 * lmax),
    seeds: seeds ?? hullSeeds(l, b),
  };
}

/** Ghosts of the upper-hull edges of (b_k, l_k), b sorted ascending, as (u, v) pairs. */
function hullSeeds(l: Float64Array, b: Float64Array): Float64Array {
  const n = l.length;
  const h = new Int32Array(n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    while (m >= 2) {
      const i = h[m - 2];
      const j = h[m - 1];
      // remove j if it lies on or below the chord i→k
      const cross = (b[j] - b[i]) * (l[k] - l[i]) - (l[j] - l[i]) * (b[k] - b[i]);
      if (cross >= 0) m--;
      else break;
    }
    h[m++] = k;
  }
  const out = new Float64Array(2 * (m - 1));
  const mods = new Float64Array(m - 1);
  for (let e = 0; e + 1 < m; e++) {
    const i = h[e];
    const j = h[e + 1];
    const db = b[j] - b[i];
    out[2 * e] = (l[i] - l[j]) / db;
    out[2 * e + 1] = Math.PI / db;
    mods[e] = Math.hypot(out[2 * e], out[2 * e + 1]);
  }
  // sort edges by modulus (few edges: insertion sort)
  const ne = m - 1;
  for (let x = 1; x < ne; x++) {
    const mv = mods[x];
    const uu = out[2 * x];
    const vv = out[2 * x + 1];
    let y = x - 1;
    while (y >= 0 && mods[y] > mv) {
      mods[y + 1] = mods[y];
      out[2 * y + 2] = out[2 * y];
      out[2 * y + 3] = out[2 * y + 1];
      y--;
    }
    mods[y + 1] = mv;
    out[2 * y + 2] = uu;
    out[2 * y + 3] = vv;
  }
  return out;
}

function logAddExp(x: number, y: number): number {
  if (x === Number.NEGATIVE_INFINITY) return y;
  if (y === Number.NEGATIVE_INFINITY) return x;
  return x > y ? x + Math.log1p(Math.exp(y - x)) : y + Math.log1p(Math.exp(x - y));
}

/** Normalise, sort by slope and merge equal slopes. Returns null when F has no zero. */
function setup(logits: ArrayLike<number>, slopes: ArrayLike<number>): Setup | null {
  const K = logits.length;
  if (slopes.length !== K) {
    throw new RangeError(`nearestGhost: ${K} logits but ${slopes.length} slopes`);
  }
  if (K < 1) throw new RangeError("nearestGhost: need at least one term");
  let zmax = Number.NEGATIVE_INFINITY;
  let amin = Number.POSITIVE_INFINITY;
  let amax = Number.NEGATIVE_INFINITY;
  let live = 0;
  for (let k = 0; k < K; k++) {
    const z = logits[k];
    const a = slopes[k];
    if (Number.isNaN(z) || z === Number.POSITIVE_INFINITY || !Number.isFinite(a)) {
      throw new RangeError(`nearestGhost: non-finite input at index ${k}`);
    }
    if (z === Number.NEGATIVE_INFINITY) continue; // zero weight: the term is absent
    live++;
    if (z > zmax) zmax = z;
    if (a < amin) amin = a;
    if (a > amax) amax = a;
  }
  if (live === 0) throw new RangeError("nearestGhost: all logits are -Infinity");
  if (!(amax > amin)) return null;
  const c = amin / 2 + amax / 2;
  const s = amax / 2 - amin / 2;
  const lw = new Float64Array(live);
  const bw = new Float64Array(live);
  let q = 0;
  for (let k = 0; k < K; k++) {
    const z = logits[k];
    if (z === Number.NEGATIVE_INFINITY) continue;
    let bk = (slopes[k] - c) / s;
    if (bk > 1) bk = 1;
    else if (bk < -1) bk = -1;
    if (slopes[k] === amax) bk = 1;
    else if (slopes[k] === amin) bk = -1;
    lw[q] = z - zmax;
    if (lw[q] === Number.NEGATIVE_INFINITY) {
      // two finite logits farther apart than float64 can express: the zero's location
      // depends on that gap, which cannot be represented
      throw new RangeError(
        `nearestGhost: logits ${z} and ${zmax} differ by more than the float64 range`,
      );
    }
    bw[q] = bk;
    q++;
  }
  // sort by b
  const idx = new Uint32Array(live);
  for (let k = 0; k < live; k++) idx[k] = k;
  if (live <= 32) {
    for (let x = 1; x < live; x++) {
      const v = idx[x];
      const bv = bw[v];
      let y = x - 1;
      while (y >= 0 && bw[idx[y]] > bv) {
        idx[y + 1] = idx[y];
        y--;
      }
      idx[y + 1] = v;
    }
  } else {
    idx.sort((i, j) => bw[i] - bw[j]);
  }
  // merge equal slopes
  const lm = new Float64Array(live);
  const bm = new Float64Array(live);
  let n = 0;
  for (let x = 0; x < live; x++) {
    const k = idx[x];
    if (n > 0 && bm[n - 1] === bw[k]) {
      lm[n - 1] = logAddExp(lm[n - 1], lw[k]);
    } else {
      lm[n] = lw[k];
      bm[n] = bw[k];
      n++;
    }
  }
  // merging can only raise weights; renormalise so that max l = 0
  let lmx = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < n; k++) if (lm[k] > lmx) lmx = lm[k];
  for (let k = 0; k < n; k++) lm[k] -= lmx;
  const full = makeProblem(
    lm.slice(0, n),
    bm.slice(0, n),
    Number.NEGATIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
  );
  return { full, s, spread: amax - amin };
}

/** Drop terms below e^{−46}/n of the envelope in |τ| ≤ R; keep a rigorous tail bound. */
function prune(P: Problem): Problem {
  const n = P.n;
  if (n <= 64 || P.seeds.length < 2) return P;
  const m0 = Math.hypot(P.seeds[0], P.seeds[1]);
  const R = Math.max(2 * m0, m0 + 4);
  const cut = -R - 46 - Math.log(n);
  let keep = 0;
  for (let k = 0; k < n; k++) if (P.l[k] + Math.abs(P.b[k]) * R >= cut) keep++;
  if (keep === n || keep < 2) return P;
  const l = new Float64Array(keep);
  const b = new Float64Array(keep);
  let tp = Number.NEGATIVE_INFINITY;
  let tm = Number.NEGATIVE_INFINITY;
  let q = 0;
  for (let k = 0; k < n; k++) {
    const lk = P.l[k];
    const bk = P.b[k];
    if (lk + Math.abs(bk) * R >= cut) {
      l[q] = lk;
      b[q] = bk;
      q++;
    } else {
      if (bk > -1) tp = logAddExp(tp, lk + Math.log((1 + bk) / 2));
      if (bk < 1) tm = logAddExp(tm, lk + Math.log((1 - bk) / 2));
    }
  }
  // the kept set still contains the l = 0 term (it always passes the cut)
  // seeds: hull of the full set
  return makeProblem(l, b, tp + 1e-12, tm + 1e-12, P.seeds);
}

// ── search ──────────────────────────────────────────────────────────────────────────
interface Found {
  zu: number;
  zv: number;
  certified: boolean;
  lower: number; // normalised units
  upper: number;
}

/** Newton from the given (u, v) seeds; smallest-modulus zero with modulus < limit. */
function bestFromSeeds(
  P: Problem,
  us: ArrayLike<number>,
  vs: ArrayLike<number>,
  count: number,
  limit: number,
): { u: number; v: number; mod: number } | null {
  let best: { u: number; v: number; mod: number } | null = null;
  let lim = limit;
  for (let i = 0; i < count; i++) {
    if (newton(P, us[i], vs[i])) {
      const m = Math.hypot(NU, NV);
      if (m < lim) {
        lim = m;
        best = { u: NU, v: NV, mod: m };
      }
    }
  }
  return best;
}

/** The last walk's contour points with the smallest |G|/Σ|terms| (Newton seeds). */
function contourSeeds(max: number): { us: Float64Array; vs: Float64Array; n: number } {
  const cand: number[] = [];
  for (let i = 0; i < CN; i++) cand.push(i);
  cand.sort((x, y) => CQ[x] - CQ[y]);
  const n = Math.min(max, cand.length);
  const us = new Float64Array(n);
  const vs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    us[i] = CU[cand[i]];
    vs[i] = CV[cand[i]];
  }
  return { us, vs, n };
}

/** All pairwise ghosts (top-2 formula) of the strongest terms with modulus below lim. */
function pairSeeds(P: Problem, lim: number): { us: Float64Array; vs: Float64Array; n: number } {
  const n = P.n;
  // strongest terms near the disk: by l + |b| lim
  const order: number[] = [];
  for (let k = 0; k < n; k++) order.push(k);
  if (n > 40) {
    order.sort((x, y) => P.l[y] + Math.abs(P.b[y]) * lim - (P.l[x] + Math.abs(P.b[x]) * lim));
    order.length = 40;
  }
  const us: number[] = [];
  const vs: number[] = [];
  const ms: number[] = [];
  for (let x = 0; x < order.length; x++) {
    for (let y = x + 1; y < order.length; y++) {
      const i = order[x];
      const j = order[y];
      const db = P.b[j] - P.b[i];
      if (db === 0) continue;
      const u = (P.l[i] - P.l[j]) / db;
      const v = Math.PI / Math.abs(db);
      const m = Math.hypot(u, v);
      if (m < lim) {
        us.push(u);
        vs.push(v);
        ms.push(m);
      }
    }
  }
  const ord = ms.map((_, i) => i).sort((x, y) => ms[x] - ms[y]);
  const cnt = Math.min(12, ord.length);
  const ou = new Float64Array(cnt);
  const ov = new Float64Array(cnt);
  for (let i = 0; i < cnt; i++) {
    ou[i] = us[ord[i]];
    ov[i] = vs[ord[i]];
  }
  return { us: ou, vs: ov, n: cnt };
}

/**
 * Find a zero with modulus < hi, knowing the upper half disk of radius hi holds some.
 * Returns null when nothing could be found.
 */
function findInside(P: Problem, hi0: number): { u: number; v: number; mod: number } | null {
  // 1. contour minima of the last walk (already in CU/CV/CQ)
  let cs = contourSeeds(4);
  let z = bestFromSeeds(P, cs.us, cs.vs, cs.n, hi0);
  if (z !== null) return z;
  // 2. pairwise ghosts inside
  const ps = pairSeeds(P, hi0);
  z = bestFromSeeds(P, ps.us, ps.vs, ps.n, hi0);
  if (z !== null) return z;
  // 3. bisection on the radius with winding counts
  let lo = V0;
  let hi = hi0;
  for (let it = 0; it < 60 && hi - lo > 1e-12 * hi && EVALS <= BUDGET_END; it++) {
    const mid = 0.5 * (lo + hi);
    const n = countUpper(P, mid, NO_MODELS);
    if (n < 0) {
      if (newton(P, FAIL_U, FAIL_V)) {
        const m = Math.hypot(NU, NV);
        if (m < hi0) return { u: NU, v: NV, mod: m };
      }
      // a zero sits (almost) on this circle but Newton missed it: look just outside
      hi = Math.min(hi, mid * (1 + 1e-6));
      continue;
    }
    if (n > 0) {
      hi = mid;
      cs = contourSeeds(3);
      z = bestFromSeeds(P, cs.us, cs.vs, cs.n, hi0);
      if (z !== null) return z;
    } else {
      lo = mid;
    }
  }
  return null;
}

function solveNormalised(P: Problem, certify: boolean): Found {
  const seeds = P.seeds;
  const ne = seeds.length / 2;
  let bu = Number.NaN;
  let bv = Number.NaN;
  let bmod = Number.POSITIVE_INFINITY;
  for (let e = 0; e < ne; e++) {
    const su = seeds[2 * e];
    const sv = seeds[2 * e + 1];
    const sm = Math.hypot(su, sv);
    // seeds are sorted; further ones only help when not far beyond the best zero
    if (e > 0 && sm > 1.25 * bmod) break;
    if (e >= 3 && bmod < Number.POSITIVE_INFINITY) break;
    if (newton(P, su, sv)) {
      const m = Math.hypot(NU, NV);
      if (m < bmod) {
        bmod = m;
        bu = NU;
        bv = NV;
      }
    }
  }
  if (!certify) {
    if (!(bmod < Number.POSITIVE_INFINITY)) {
      // fall back to the top seed as an estimate
      bu = seeds[0];
      bv = seeds[1];
    }
    return { zu: bu, zv: bv, certified: false, lower: HALF_PI, upper: Number.POSITIVE_INFINITY };
  }
  if (!(bmod < Number.POSITIVE_INFINITY)) {
    // no seed converged: grow a radius until it encloses a zero, then search inside
    let R = Math.max(2 * Math.hypot(seeds[0], seeds[1]), 4);
    let found: { u: number; v: number; mod: number } | null = null;
    for (let it = 0; it < 40 && found === null && EVALS <= BUDGET_END; it++) {
      const n = countUpper(P, R, NO_MODELS);
      if (n < 0) {
        if (newton(P, FAIL_U, FAIL_V)) found = { u: NU, v: NV, mod: Math.hypot(NU, NV) };
        else R *= 1.01;
      } else if (n > 0) found = findInside(P, R);
      else R *= 2;
    }
    if (found === null) {
      return {
        zu: Number.NaN,
        zv: Number.NaN,
        certified: false,
        lower: HALF_PI,
        upper: Number.POSITIVE_INFINITY,
      };
    }
    bu = found.u;
    bv = found.v;
    bmod = found.mod;
  }
  // certify; on failure locate the offending zero and try again
  const known: Model[] = [];
  const near = (u: number, v: number, zu: number, zv: number): boolean =>
    Math.hypot(u - zu, v - zv) <= 1e-7 * (1 + Math.hypot(zu, zv));
  const addKnown = (u: number, v: number): Model | null => {
    for (const m of known) if (near(u, v, m.zu, m.zv)) return m;
    const m = buildModel(P, u, v);
    if (m !== null) known.push(m);
    return m;
  };
  let bestModel = addKnown(bu, bv);
  let relGap = 1e-9;
  for (let round = 0; round < 16 && EVALS <= BUDGET_END; round++) {
    const cert = certifyCandidate(P, bestModel, bu, bv, known, relGap);
    if (cert.count === 0) {
      return {
        zu: bu,
        zv: bv,
        certified: cert.simple || cert.residualOk,
        lower: Math.max(HALF_PI, cert.r),
        upper: cert.upper,
      };
    }
    let found = false;
    if (cert.count < 0) {
      // the contour passed too close to some zero: locate it
      found = newton(P, FAIL_U, FAIL_V);
    } else {
      const z = findInside(P, cert.r);
      if (z !== null) {
        NU = z.u;
        NV = z.v;
        found = true;
      }
    }
    // a candidate that is not provably simple (near-multiple zero) is only located to
    // ~sqrt(eps): certify it on a circle a little further inside instead
    const widen = !cert.simple && relGap < 1e-6;
    if (!found || near(NU, NV, bu, bv)) {
      if (widen) {
        relGap = 1e-6;
        continue;
      }
      break;
    }
    const m1 = Math.hypot(NU, NV);
    if (m1 < bmod) {
      bu = NU;
      bv = NV;
      bmod = m1;
      bestModel = addKnown(bu, bv);
      relGap = 1e-9;
    } else {
      // a zero just outside the circle: its model lets the walk pass it
      const n0 = known.length;
      addKnown(NU, NV);
      if (known.length === n0) {
        if (widen) {
          relGap = 1e-6;
          continue;
        }
        break;
      }
    }
  }
  return {
    zu: bu,
    zv: bv,
    certified: false,
    lower: HALF_PI,
    upper: Number.POSITIVE_INFINITY,
  };
}

/** Evaluations allowed per call: ~5e7 term evaluations, at most 2e5 evaluations. */
function budgetFor(n: number): number {
  return Math.max(200, Math.min(2e5, Math.floor(5e7 / n)));
}

const NO_ZERO: GhostResult = {
  re: Number.NaN,
  im: Number.POSITIVE_INFINITY,
  modulus: Number.POSITIVE_INFINITY,
  certified: true,
  lower: Number.POSITIVE_INFINITY,
  upper: Number.POSITIVE_INFINITY,
  terms: 1,
  evaluations: 0,
};

/**
 * Nearest ghost: the zero of F(t) = Σ_k exp(logits_k + slopes_k t) of smallest modulus,
 * with im ≥ 0 (its conjugate is a zero too). When all slopes are equal (or K = 1) F has no
 * zero: modulus = Infinity, re = NaN, im = Infinity, certified = true. A logit of −Infinity
 * marks an absent term; NaN, +Infinity logits and non-finite slopes throw a RangeError, as
 * do two finite logits whose difference overflows float64 (|z| near 1e308).
 */
export function nearestGhost(
  logits: ArrayLike<number>,
  slopes: ArrayLike<number>,
  options: GhostOptions = {},
): GhostResult {
  const st = setup(logits, slopes);
  if (st === null) return { ...NO_ZERO };
  const certify = options.certify !== false;
  const evals0 = EVALS;
  BUDGET_END = EVALS + budgetFor(st.full.n);
  let P = st.full;
  if (options.prune !== false) P = prune(P);
  let f = solveNormalised(P, certify);
  if (certify && !f.certified && P !== st.full) {
    P = st.full;
    f = solveNormalised(P, certify);
  }
  const s = st.s;
  const mod = Math.hypot(f.zu, f.zv);
  const lowerTheorem = Math.PI / st.spread;
  const lower = Math.max(lowerTheorem, f.lower / s) * (1 - 8 * EPS);
  return {
    re: f.zu / s,
    im: Math.abs(f.zv) / s,
    modulus: mod / s,
    certified: f.certified,
    lower: Math.min(lower, mod / s),
    upper: f.upper < Number.POSITIVE_INFINITY ? (f.upper / s) * (1 + 8 * EPS) : f.upper,
    terms: P.n,
    evaluations: EVALS - evals0,
  };
}

/**
 * Number of zeros of F (with multiplicity, both half planes) in the open disk |t| < radius,
 * by the certified argument-principle walk. `certified` is false when the circle passes
 * too close to a zero to decide (count is then −1).
 */
export function countZerosInDisk(
  logits: ArrayLike<number>,
  slopes: ArrayLike<number>,
  radius: number,
): { count: number; certified: boolean } {
  if (!(radius >= 0) || radius === Number.POSITIVE_INFINITY) {
    throw new RangeError(`countZerosInDisk: radius must be finite and ≥ 0, got ${radius}`);
  }
  const st = setup(logits, slopes);
  if (st === null) return { count: 0, certified: true };
  BUDGET_END = EVALS + budgetFor(st.full.n);
  const n = countUpper(st.full, radius * st.s, NO_MODELS);
  if (n < 0) return { count: -1, certified: false };
  return { count: 2 * n, certified: true };
}
