/**
 * Armijo backtracking line search as a chain link — the classical answer to "is this step
 * too long?", and the baseline the ρ-controllers are compared against.
 *
 * Placed last in a chain (after the learning-rate link, where ρ-clip would go), it takes
 * the proposed update `p` (momentum, Adam scaling, schedule and spikes included) as the
 * trial step and shrinks it, `t ∈ {1, β, β², …}`, until the sufficient-decrease condition
 * holds on the current batch:
 *
 *     f(θ + t·p) ≤ f(θ) + c·t·⟨∇f(θ), p⟩.
 *
 * With plain SGD this is the stochastic line search of Vaswani et al. (2019) with the
 * learning rate as the initial trial step. Each backtrack costs one forward pass on the
 * batch; the loss values come from the training loop through `extra` (see
 * {@link LossExtra}). The optimizer's moments are untouched.
 */

import * as op from "../engine/ops.js";
import { reportControl, statelessLink, updateNorm } from "./controllers.js";
import { type LossAwareExtra, lossExtraFrom } from "./loss-extra.js";
import type { GradientTransformation } from "./types.js";

/** Options of {@link armijo}. */
export interface ArmijoOptions {
  /** Sufficient-decrease constant c ∈ (0, 1) (default 0.1, as in Vaswani et al.'s SLS). */
  c?: number;
  /** Backtracking factor β ∈ (0, 1) (default 0.5). */
  beta?: number;
  /**
   * Most backtracks per step (default 20, i.e. down to β²⁰ ≈ 1e-6 of the trial step). When
   * none of them satisfies the condition the step is skipped (zero update): the proposed
   * direction does not decrease the batch loss at any tried length.
   */
  maxBacktracks?: number;
}

/** The outcome of one Armijo search (pure numbers; the link reports it via `onControl`). */
export interface ArmijoResult {
  /** Accepted factor t (0 when the search failed). */
  t: number;
  /** Number of backtracks made (trial losses evaluated minus one). */
  backtracks: number;
  /** Whether the condition held at the accepted t. */
  accepted: boolean;
}

/**
 * The backtracking search on plain numbers: `lossAt(t)` is f(θ + t·p), `f0` = f(θ) and
 * `slope` = ⟨∇f, p⟩. A non-descent direction (slope ≥ 0) is searched with slope 0, i.e.
 * only a step that does not increase the loss is accepted. A non-finite trial loss counts
 * as a failure.
 */
export function armijoSearch(
  lossAt: (t: number) => number,
  f0: number,
  slope: number,
  options: ArmijoOptions = {},
): ArmijoResult {
  const { c, beta, maxBacktracks } = resolve(options);
  const s = Math.min(slope, 0);
  let t = 1;
  for (let k = 0; k <= maxBacktracks; k++) {
    const f = lossAt(t);
    if (f <= f0 + c * t * s) return { t, backtracks: k, accepted: true };
    t *= beta;
  }
  return { t: 0, backtracks: maxBacktracks, accepted: false };
}

function resolve(options: ArmijoOptions): Required<ArmijoOptions> {
  const c = options.c ?? 0.1;
  const beta = options.beta ?? 0.5;
  const maxBacktracks = options.maxBacktracks ?? 20;
  if (!(c > 0 && c < 1)) throw new RangeError(`armijo: c must be in (0, 1), got ${c}`);
  if (!(beta > 0 && beta < 1)) throw new RangeError(`armijo: beta must be in (0, 1), got ${beta}`);
  if (!Number.isInteger(maxBacktracks) || maxBacktracks < 0) {
    throw new RangeError(`armijo: maxBacktracks must be an integer ≥ 0, got ${maxBacktracks}`);
  }
  return { c, beta, maxBacktracks };
}

/**
 * Armijo backtracking on the proposed update (see the module notes). Reports through
 * `extra.onControl` with `controller: "armijo"`, `scale` = the accepted t and `rho` = NaN
 * (no radius is involved).
 */
export function armijo(options: ArmijoOptions = {}): GradientTransformation<LossAwareExtra> {
  const opts = resolve(options);
  return statelessLink<LossAwareExtra>((updates, extra) => {
    const loss = lossExtraFrom(extra, "armijo");
    const norm = updateNorm(updates, extra);
    if (!(norm > 0)) {
      reportControl(extra, {
        controller: "armijo",
        proposedNorm: norm,
        rho: Number.NaN,
        scale: 1,
        tau: 0,
      });
      return updates;
    }
    const slope = loss.gradDot(updates);
    // Each trial point lives only for its evaluation.
    const trial = (t: number) =>
      t === 1 ? loss.lossAt(updates) : op.tidy(() => loss.lossAt(op.scaleTreeByHost(updates, t)));
    const r = armijoSearch(trial, loss.loss, slope, opts);
    reportControl(extra, {
      controller: "armijo",
      proposedNorm: norm,
      rho: Number.NaN,
      scale: r.t,
      tau: r.t * norm,
    });
    return r.t === 1 ? updates : op.scaleTreeByHost(updates, r.t);
  });
}
