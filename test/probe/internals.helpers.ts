/**
 * Host reference for the transformer's internal radii: the attention scores and FFN
 * pre-activations evaluated eagerly at θ ± εv and differenced on the host, reduced the way
 * docs/science.md §3 defines them. Shares no code with the probe's jitted reduction.
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { toHost } from "../../src/engine/arrays.js";
import { flattenToHost, unflattenFromHost } from "../../src/engine/tree.js";
import type { Model, Params } from "../../src/models/types.js";

/** Per-sample internals of the 2-block, 4-head, 9-token transformer along v. */
export interface HostInternals {
  /** Per sample: max over blocks, heads and queries of (max_key ṡ − min_key ṡ). */
  spread: Float64Array;
  /** Per sample: min over blocks, tokens and hidden units of |h|/|ḣ|. */
  ratioMin: Float64Array;
  /** Every |h|/|ḣ| of every sample. */
  ratios: number[];
}

/** Central differences (step `eps` along v) of the internals of `n` samples `x`. */
export function hostInternals(
  model: Model,
  params: Params,
  v: Params,
  x: JaxArray,
  n: number,
  eps = 1e-5,
): HostInternals {
  const vFlat = flattenToHost(v);
  const internalsAt = (t: number) => {
    const shifted = unflattenFromHost(
      params,
      flattenToHost(params).map((p, i) => p + t * vFlat[i]!),
    );
    const out = model.forward(shifted, x.ref, { mode: "eval", collectInternals: true });
    out.logits.dispose();
    const scores = out.internals!.attentionScores.map((s) => toHost(s));
    const pre = out.internals!.ffnPreActivations.map((s) => toHost(s));
    for (const a of [...out.internals!.attentionScores, ...out.internals!.ffnPreActivations]) {
      a.dispose();
    }
    return { scores, pre };
  };
  const plus = internalsAt(eps);
  const minus = internalsAt(-eps);
  const center = internalsAt(0);
  const tokens = 9;
  const heads = 4;
  const spread = new Float64Array(n).fill(-Infinity);
  const ratioMin = new Float64Array(n).fill(Infinity);
  const ratios: number[] = [];
  for (let blk = 0; blk < 2; blk++) {
    const sp = plus.scores[blk]!;
    const sm = minus.scores[blk]!;
    for (let i = 0; i < n; i++) {
      for (let h = 0; h < heads; h++) {
        for (let q = 0; q < tokens; q++) {
          let hi = -Infinity;
          let lo = Infinity;
          for (let kk = 0; kk < tokens; kk++) {
            const idx = ((i * heads + h) * tokens + q) * tokens + kk;
            const d = (sp[idx]! - sm[idx]!) / (2 * eps);
            hi = Math.max(hi, d);
            lo = Math.min(lo, d);
          }
          spread[i] = Math.max(spread[i]!, hi - lo);
        }
      }
    }
    const hp = plus.pre[blk]!;
    const hm = minus.pre[blk]!;
    const h0 = center.pre[blk]!;
    const per = h0.length / n;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < per; j++) {
        const idx = i * per + j;
        const r = Math.abs(h0[idx]!) / Math.abs((hp[idx]! - hm[idx]!) / (2 * eps));
        ratios.push(r);
        ratioMin[i] = Math.min(ratioMin[i]!, r);
      }
    }
  }
  return { spread, ratioMin, ratios };
}
