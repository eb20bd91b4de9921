/**
 * Polyak step sizes as a chain link: choose the step so that the linear model of the loss
 * just reaches its lower bound f*, `η = (f − f*)/‖∇f‖²` for gradient descent — capped by
 * the learning rate (the "SPS_max" form of Loizou et al., 2021).
 *
 * Placed last in a chain (after the learning-rate link, where ρ-clip would go), it takes
 * the proposed update `p = −η_lr·u` and shortens it to the Polyak length when that is
 * shorter:
 *
 *     t = min(1, (f − f*) / (c · (−⟨∇f, p⟩))),   applied step t·p,
 *
 * which for `u = ∇f` is exactly `η = min(η_lr, (f − f*)/(c‖∇f‖²))`: the scheduled learning
 * rate (spikes included) is the cap. For cross-entropy f* = 0 is the natural lower bound.
 * A proposed update that is not a descent direction (⟨∇f, p⟩ ≥ 0) has no Polyak length and
 * passes unchanged; a loss already at f* gives a zero step.
 */
import { tree } from "@jax-js/jax";
import { reportControl, updateNorm } from "./controllers.js";
import { lossExtraFrom } from "./loss-extra.js";
import { treeScale } from "./tree-math.js";
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
export function polyak(options: PolyakOptions = {}): GradientTransformation {
  const opts = resolve(options);
  return {
    init(params) {
      tree.dispose(params);
      return {};
    },
    update(updates, state, params, extra) {
      tree.dispose(state);
      tree.dispose(params);
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
      return [t === 1 ? updates : treeScale(updates, t), {}];
    },
  };
}
