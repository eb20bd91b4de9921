/**
 * Per-sample nearest ghosts of a probe, the one loop the experiments that look at ghosts
 * (theory's ghost map, calibration, ghost-envelope) share: for every row of a probe (logits
 * `z` and directional slopes `a` along one unit direction) the theory's certified
 * `nearestGhost` and the per-sample bound `ρ_a = π/Δ_a`.
 *
 * Nothing is recomputed here: the solver and the bound are `src/theory`'s.
 *
 * @module
 */
import { nearestGhost, rhoAFromSpread, spread } from "softmax-ghosts/theory";

/** One sample's nearest ghost (the zero of `F(t) = Σ_k e^{z_k + a_k t}` of least modulus, `im ≥ 0`). */
export type GhostPoint = {
  re: number;
  im: number;
  /** `ρ*` of the sample (`+∞` when all slopes coincide: no ghost). */
  modulus: number;
  /** `π/Δ_a` of the sample. */
  rhoA: number;
  certified: boolean;
};

/** Nearest ghosts of every sample of a probe (rows of `logits`/`a`, k columns). */
export function ghostsOf(
  logits: Float64Array,
  a: Float64Array,
  n: number,
  k: number,
): GhostPoint[] {
  const out: GhostPoint[] = [];
  for (let i = 0; i < n; i++) {
    const zi = logits.subarray(i * k, (i + 1) * k);
    const ai = a.subarray(i * k, (i + 1) * k);
    const g = nearestGhost(zi, ai);
    out.push({
      re: g.re,
      im: g.im,
      modulus: g.modulus,
      rhoA: rhoAFromSpread(spread(ai)),
      certified: g.certified,
    });
  }
  return out;
}

/**
 * Fraction of training rows whose largest logit is their label (ties count for the first
 * largest), from a probe's logits: the accuracy of exactly the parameters probed.
 */
export function accuracyOfLogits(
  logits: Float64Array,
  labels: ArrayLike<number>,
  n: number,
  k: number,
): number {
  if (n === 0) return Number.NaN;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c]! > logits[i * k + best]!) best = c;
    if (best === labels[i]) right++;
  }
  return right / n;
}
