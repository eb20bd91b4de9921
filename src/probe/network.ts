/**
 * The all-radii probe for transformers (docs/science.md §3): one pass gives the output-logit slopes
 * (for ρ_out) and the derivatives of the pre-softmax attention scores and the FFN
 * pre-activations, reduced to ρ_attn = π/Δ_attn and ρ_ffn = the 1% quantile of |h|/|ḣ| (type 1
 * by default; `ffnQuantileMethod: "linear"` interpolates, as the published reference does).
 */
import type { DeviceArray as JaxArray } from "../engine/arrays.js";
import type { Model, ModelState, Params } from "../models/types.js";
import {
  type DirectionalOptions,
  type FfnQuantileOptions,
  transformerInternalDerivatives,
} from "./directional.js";
import type { ProbeResult } from "./radius.js";

/** The output probe plus the internal radii, all for a unit direction. */
export interface NetworkProbe {
  /** Output-logit slopes and logits, already divided by the direction's norm. */
  output: ProbeResult;
  /** π / (largest attention-score spread over samples, blocks, heads and queries). */
  rhoAttention: number;
  /**
   * The `ffnQuantile` quantile of |h|/|ḣ| over all FFN pre-activations (distance to the kink),
   * read between order statistics by `ffnQuantileMethod`.
   */
  rhoFfn: number;
}

/** True when the model exposes attention scores and FFN pre-activations. */
export function hasInternals(model: Model): boolean {
  return model.name === "transformer";
}

/**
 * Probes a transformer along the unnormalised direction `p` of length `norm`. The
 * derivatives are linear in the direction, so spreads scale by 1/‖p‖ and the ratios
 * |h|/|ḣ| by ‖p‖ to express everything for the unit direction. Borrows everything.
 */
export function probeNetwork(
  model: Model,
  params: Params,
  state: ModelState,
  p: Params,
  norm: number,
  x: JaxArray,
  opts: DirectionalOptions & FfnQuantileOptions = {},
): NetworkProbe {
  const d = transformerInternalDerivatives(model, params, state, p, x, opts);
  for (let i = 0; i < d.a.length; i++) d.a[i] /= norm;
  let maxAttention = 0;
  for (const s of d.attentionSpread) if (s > maxAttention) maxAttention = s;
  return {
    output: { a: d.a, logits: d.logits, n: d.n, k: d.k },
    rhoAttention: maxAttention > 0 ? (Math.PI * norm) / maxAttention : Number.POSITIVE_INFINITY,
    rhoFfn: d.ffnRatioQuantile * norm,
  };
}
