/**
 * Ready-made optimizers (optax aliases) and their learning-rate-free "directions".
 *
 * Each optimizer is `chain(direction…, scaleByLearningRate(lr))`. The matching `…Direction`
 * transformation is the same chain *without* the learning-rate link: its output is the unscaled
 * direction `u` (gradient, momentum buffer or Adam's `m̂/(√v̂+ε)`) that the schedule-free ρ-set
 * controller scales itself — `chain(adamDirection(), rhoSet(…))`.
 */
import { chain } from "./combine.js";
import type { ScalarOrSchedule } from "./schedules.js";
import {
  type AddDecayedWeightsOptions,
  addDecayedWeights,
  identity,
  type ScaleByAdamOptions,
  scaleByAdam,
  scaleByLearningRate,
  trace,
} from "./transforms.js";
import type { GradientTransformation } from "./types.js";

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Momentum μ (PyTorch semantics, dampening 0); `null`/`undefined`/0 is plain SGD. */
  momentum?: number | null;
  /** Nesterov momentum (requires momentum > 0). Default false. */
  nesterov?: boolean;
}

/** Options of {@link adamw}. */
export interface AdamWOptions extends ScaleByAdamOptions, AddDecayedWeightsOptions {}

/**
 * SGD's direction: the gradient, or the momentum link's output (`buf`, or `g + μ·buf` with
 * Nesterov). No learning rate.
 */
export function sgdDirection({
  momentum = null,
  nesterov = false,
}: SgdOptions = {}): GradientTransformation {
  if (!momentum) {
    if (nesterov) throw new Error("sgd: Nesterov momentum requires momentum > 0");
    return identity();
  }
  return trace({ decay: momentum, nesterov });
}

/** Stochastic gradient descent, optionally with (Nesterov) momentum: `θ ← θ − lr·direction`. */
export function sgd(learningRate: ScalarOrSchedule, opts: SgdOptions = {}): GradientTransformation {
  return chain(sgdDirection(opts), scaleByLearningRate(learningRate));
}

/** Adam's direction `m̂/(√v̂+ε)` (just {@link scaleByAdam}). No learning rate. */
export function adamDirection(opts: ScaleByAdamOptions = {}): GradientTransformation {
  return scaleByAdam(opts);
}

/** Adam (PyTorch `Adam` / optax `adam`): `θ ← θ − lr·m̂/(√v̂+ε)`. */
export function adam(
  learningRate: ScalarOrSchedule,
  opts: ScaleByAdamOptions = {},
): GradientTransformation {
  return chain(scaleByAdam(opts), scaleByLearningRate(learningRate));
}

/** AdamW's direction `m̂/(√v̂+ε) + wd·θ` (default `wd` 1e-4). No learning rate. */
export function adamwDirection(opts: AdamWOptions = {}): GradientTransformation {
  const { weightDecay = 1e-4, mask = null, ...adamOpts } = opts;
  return chain(scaleByAdam(adamOpts), addDecayedWeights({ weightDecay, mask }));
}

/**
 * AdamW (optax `adamw`, PyTorch `AdamW`): `θ ← θ − lr·(m̂/(√v̂+ε) + wd·θ)`, default
 * `weightDecay` 1e-4 (optax's default; PyTorch's is 1e-2).
 */
export function adamw(
  learningRate: ScalarOrSchedule,
  opts: AdamWOptions = {},
): GradientTransformation {
  const { weightDecay = 1e-4, mask = null, ...adamOpts } = opts;
  return chain(
    scaleByAdam(adamOpts),
    addDecayedWeights({ weightDecay, mask }),
    scaleByLearningRate(learningRate),
  );
}
