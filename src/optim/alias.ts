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
  /**
   * Coupled L2 weight decay (PyTorch `SGD`'s `weight_decay`): `wd·θ` is added to the gradient
   * *before* momentum, so it is inside the momentum buffer, the step and its length τ — unlike
   * AdamW's decoupled decay. Default 0 (no link added).
   */
  weightDecay?: number;
}

/** Options of {@link adamw}. */
export interface AdamWOptions extends ScaleByAdamOptions, AddDecayedWeightsOptions {}

/**
 * SGD's direction: the gradient (plus `wd·θ` with weight decay), or the momentum link's
 * output on it (`buf`, or `g + μ·buf` with Nesterov). No learning rate.
 */
export function sgdDirection({
  momentum = null,
  nesterov = false,
  weightDecay = 0,
}: SgdOptions = {}): GradientTransformation {
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) {
    throw new Error(`sgd: weight decay must be a finite number ≥ 0, got ${weightDecay}`);
  }
  if (!momentum && nesterov) throw new Error("sgd: Nesterov momentum requires momentum > 0");
  const dir = momentum ? trace({ decay: momentum, nesterov }) : identity();
  // without decay the chain is exactly the one before weight decay existed (same state tree)
  return weightDecay === 0 ? dir : chain(addDecayedWeights({ weightDecay }), dir);
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
