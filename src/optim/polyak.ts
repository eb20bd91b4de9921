import * as op from "../engine/ops.js";
import { reportControl, statelessLink, updateNorm } from "./controllers.js";
import { type LossAwareExtra, lossExtraFrom } from "./loss-extra.js";
import type { GradientTransformation } from "./types.js";

/** Options of {@link polyak}. */
export interface PolyakOptions {
  /** Lower bound f* of the loss (default 0, cross-entropy's). */
  fStar?: number;
  /** Divisor c > 0 of the Polyak step (default 1: the classical step; SPS often uses 0.5). */
  c?: number;
}

/**
 * The Polyak factor on plain numbers: `f` = f(θ), `slope` = ⟨∇f, p⟩ of the proposed update
 * p. Returns t ∈ [0, 1] (see the module notes).
 */
export function polyakFactor(f: number, slope: number, options: PolyakOptions = {}): number {
  const { fStar, c } = resolve(options);
  if (!(slope < 0)) return 1;
  const gap = f - fStar;
  if (!(gap > 0)) return 0;
  return Math.min(1, gap / (c * -slope));
}

function resolve(options: PolyakOptions): Required<PolyakOptions> {
  const fStar = options.fStar ?? 0;
  const c = options.c ?? 1;
  if (!Number.isFinite(fStar)) throw new RangeError(`polyak: fStar must be finite, got ${fStar}`);
  if (!(c > 0) || !Number.isFinite(c)) {
    throw new RangeError(`polyak: c must be a positive finite number, got ${c}`);
  }
  return { fStar, c };
}

/**
 * Polyak step-size cap on the proposed update (see the module notes). Reports through
 * `extra.onControl` with `controller: "polyak"`, `scale` = t and `rho` = NaN.
 */
export function polyak(options: PolyakOptions = {}): GradientTransformation<LossAwareExtra> {
  const opts = resolve(options);
  return statelessLink<LossAwareExtra>((updates, extra) => {
    const loss = lossExtraFrom(extra, "polyak");
    const norm = updateNorm(updates, extra);
    const t = norm > 0 ? polyakFactor(loss.loss, loss.gradDot(updates), opts) : 1;
    reportControl(extra, {
      controller: "polyak",
      proposedNorm: norm,
      rho: Number.NaN,
      scale: t,
      tau: t * norm,
    });
    return t === 1 ? updates : op.scaleTreeByHost(updates, t);
  });
}
