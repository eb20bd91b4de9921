/** What the training loop reports: one {@link StepRecord} per step, a {@link TrainResult} per run. */
import type { ModelState, Params } from "../models/types.js";

/**
 * Telemetry of one step. Lengths (τ, ρ) are Euclidean lengths in parameter space (the units
 * of θ); "the probed set" is the sample set `probe.sampleSet` selects (default: this step's
 * mini-batch; `"train"`: the whole training split), measured along the step actually applied.
 */
export interface StepRecord {
  /** Step index, from 0. */
  step: number;
  /** Mean cross-entropy (nats) of this step's mini-batch at the parameters before the step. */
  loss: number;
  /** Fraction of this step's mini-batch classified correctly before the step (same forward pass). */
  batchAccuracy: number;
  /** Fraction of the test split classified correctly after the step (eval steps only). */
  testAccuracy?: number;
  /** Mean cross-entropy (nats) of the test split after the step (eval steps only). */
  testLoss?: number;
  /** Length of the update actually applied, τ = ‖p‖ (0 when skipped). */
  tau: number;
  /**
   * The output radius ρ_a = π / aggregate(Δ_a) of the softmax along the applied step, over the
   * probed set (length units; NaN when not measured this step).
   */
  rhoA: number;
  /**
   * The network radius min(ρ_out, ρ_attn, ρ_ffn) along the applied step, over the probed set,
   * when the all-radii controller measured the internal radii (absent otherwise);
   * {@link StepRecord.binding} says which of the three it is.
   */
  rhoNet?: number;
  /** Attention-logit radius ρ_attn (length) over the probed set, when measured (all-radii on a transformer). */
  rhoAttention?: number;
  /** Feed-forward (GELU) radius ρ_ffn (length) over the probed set, when measured (all-radii on a transformer). */
  rhoFfn?: number;
  /**
   * Normalised step r = τ/ρ (dimensionless) with ρ the radius that bounds the step:
   * {@link StepRecord.rhoNet} when measured, else {@link StepRecord.rhoA}. NaN when not measured.
   */
  r: number;
  /** Exact set-level ρ* (length) over the probed set, when `probe.exact` is on (or `probe.drive` is "rhoStar"). */
  rhoStar?: number;
  /** Set-level top-2 radius estimate (length) over the probed set, when `probe.drive` is "top2". */
  rhoTop2?: number;
  /**
   * Output radius ρ_a over `probe.reference`'s sample set, along the applied step (absent off
   * its cadence, on skipped steps or when τ = 0). Telemetry only.
   */
  rhoReference?: number;
  /**
   * Base learning rate × controller scale, in the optimizer's learning-rate units (ρ-set: the
   * η it chose; 0 when skipped; NaN for a raw chain, whose learning rate `train()` cannot read).
   */
  effectiveLearningRate: number;
  /**
   * Which radius bounds the step over the probed set (`output`, `attention`, `ffn`): the one
   * {@link StepRecord.r} divides by. Absent when no radius was measured this step.
   */
  binding?: string;
  /** The step had a non-finite loss, gradient or update and was not applied. */
  skipped: boolean;
  /** Wall time of the whole step, ms (evaluation and `probe.reference` excluded). */
  wallMs: number;
}

/** What a run returns. */
export interface TrainResult {
  history: StepRecord[];
  /**
   * Final parameters (borrowed from the result: valid until {@link TrainResult.release}).
   * Keep them longer by leaving `release` uncalled, or copy what you need first.
   */
  params: Params;
  /** Final model state (BatchNorm running statistics; `{}` for models without), like `params`. */
  state: ModelState;
  /** Frees `params` and `state` (a second call does nothing). Call it when done with them. */
  release(): void;
  /** Steps not applied because of a non-finite loss or gradient. */
  skippedSteps: number;
  /** Final test accuracy and loss. */
  finalTestAccuracy: number;
  finalTestLoss: number;
  /** One-line description of the optimizer chain. */
  label: string;
}
