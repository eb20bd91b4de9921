/**
 * The device half of the directional probes (`src/probe/directional.ts`): the traced
 * functions that evaluate a model's logits — and a transformer's internals — together with
 * their derivative along a direction, by one JVP or by central differences, run chunk by
 * chunk. Host-level entry points BORROW everything and return host arrays.
 */
import { type Array as JaxArray, type JsTree, jvp, numpy as np } from "@jax-js/jax";
import type { Model, ModelState, Params } from "../models/types.js";
import { type FloatDType, jaxDtype, toDevice } from "./arrays.js";
import { cachedJit, sliceRows } from "./compute.js";
import { castTree, disposeTree, refTree } from "./tree.js";

/** A probe the model cannot answer (a missing parameter, no internals). */
export class DirectionalError extends Error {
  override name = "DirectionalError";
}

/** How a directional probe computes. */
export interface TangentOptions {
  method: "jvp" | "fd";
  dtype: FloatDType;
  /** Rows per device call. */
  chunk: number;
  /** FD only: the step along the direction. */
  eps?: number;
  temperature?: number;
  /**
  /**
   * FD only, logit probe: false skips the evaluation at θ itself, one forward pass of three,
   * and returns no logits (the slopes come from θ ± εv alone). Default true.
   */
  logits?: boolean;
  /**
   * BatchNorm statistics: running (`"eval"`, default) or the chunk's own (`"train"`; the
   * caller passes all rows as one chunk). The updated running statistics are dropped.
   */
  mode?: "eval" | "train";
}

/** The float dtype of a parameter tree (its first leaf's; float32 for an empty tree). */
export function treeFloatDtype(params: Params): FloatDType {
  for (const v of Object.values(params)) {
    if (v === undefined) continue;
    if (typeof v === "object" && (v as object).constructor === Object) {
      return treeFloatDtype(v as Params);
    }
    return (v as JaxArray).dtype === np.float64 ? "float64" : "float32";
  }
  return "float32";
}

/** Cast an owned tree to `dtype`, consuming it (identity for leaves already in that dtype). */
function castOwned<T extends Params>(t: T, dtype: FloatDType): T {
  const out = castTree(t, dtype);
  disposeTree(t);
  return out;
}

function castArray(a: JaxArray, dtype: FloatDType): JaxArray {
  const d = jaxDtype(dtype);
  return a.dtype === d ? a : a.astype(d);
}

/** What one probe evaluates: the logits, plus (transformer) the internals. */
interface ProbeOutputs {
  z: JaxArray;
  scores: JaxArray[];
  pre: JaxArray[];
}

/** Evaluate the probed outputs (eval or train mode, see {@link TangentOptions}). Consumes p, xb and s. */
function evalOutputs(
  model: Model,
  p: Params,
  xb: JaxArray,
  s: ModelState,
  temperature: number | undefined,
  internals: boolean,
  mode: "eval" | "train",
): ProbeOutputs {
  const out = model.forward(p, xb, {
    mode,
    state: s,
    temperature,
    collectInternals: internals,
  });
  disposeTree(out.state);
  if (internals && !out.internals) {
    out.logits.dispose();
    throw new DirectionalError(`${model.name} has no internals to probe (transformer only)`);
  }
  return {
    z: out.logits,
    scores: out.internals?.attentionScores ?? [],
    pre: out.internals?.ffnPreActivations ?? [],
  };
}

/** Leafwise θ + sign·e·v over two Params trees (borrows p and v, consumes nothing else). */
function shifted(p: Params, v: Params, e: JaxArray, sign: 1 | -1): Params {
  const out: Params = {};
  for (const key of Object.keys(p)) {
    const pv = p[key]!;
    const vv = v[key];
    if (vv === undefined) throw new DirectionalError(`direction lacks parameter "${key}"`);
    if (typeof pv === "object" && (pv as object).constructor === Object) {
      out[key] = shifted(pv as Params, vv as Params, e, sign);
    } else {
      const step = (vv as JaxArray).ref.mul(e.ref);
      out[key] = sign > 0 ? (pv as JaxArray).ref.add(step) : (pv as JaxArray).ref.sub(step);
    }
  }
  return out;
}

/**
 * Primal outputs and their derivative along v, by JVP or central differences, all cast to
 * `dtype` first. Consumes every argument. With `primal` false, FD leaves out the evaluation
 * at θ and returns null for it.
 */
function outputsAndTangents(
  model: Model,
  method: "jvp" | "fd",
  dtype: FloatDType,
  temperature: number | undefined,
  internals: boolean,
  mode: "eval" | "train",
  p: Params,
  v: Params,
  s: ModelState,
  xb: JaxArray,
  eps: JaxArray | null,
  primal = true,
): [ProbeOutputs | null, ProbeOutputs] {
  const pc = castOwned(p, dtype);
  const vc = castOwned(v, dtype);
  const sc = castOwned(s, dtype);
  const xc = castArray(xb, dtype);
  if (method === "jvp") {
    eps?.dispose();
    const f = (pp: Params) =>
      evalOutputs(model, pp, xc, sc, temperature, internals, mode) as unknown as JsTree<JaxArray>;
    return jvp(f, [pc], [vc]) as unknown as [ProbeOutputs, ProbeOutputs];
  }
  const e = castArray(eps!, dtype);
  const plus = shifted(pc, vc, e, 1);
  const minus = shifted(pc, vc, e, -1);
  disposeTree(vc);
  const run = (pp: Params) =>
    evalOutputs(model, pp, xc.ref, refTree(sc), temperature, internals, mode);
  const op = run(plus);
  const om = run(minus);
  let o: ProbeOutputs | null = null;
  if (primal) o = run(pc);
  else disposeTree(pc);
  xc.dispose();
  disposeTree(sc);
  const twoE = e.mul(2);
  const diff = (a: JaxArray, b: JaxArray) => a.sub(b).div(twoE.ref);
  const tangent: ProbeOutputs = {
    z: diff(op.z, om.z),
    scores: op.scores.map((a, i) => diff(a, om.scores[i]!)),
    pre: op.pre.map((a, i) => diff(a, om.pre[i]!)),
  };
  twoE.dispose();
  return [o, tangent];
}

/** Jitted probe of the logits: returns [z, a], each [b, k] (FD without logits: [a]). */
function logitProbeFn(
  model: Model,
  method: "jvp" | "fd",
  dtype: FloatDType,
  temperature: number | undefined,
  logits: boolean,
  mode: "eval" | "train",
) {
  const primal = method === "jvp" || logits;
  const key = `directional:${method}:${dtype}:${temperature ?? "cfg"}:${mode}${primal ? "" : ":slopes"}`;
  return cachedJit(model, key, () => {
    return (p: Params, v: Params, s: ModelState, xb: JaxArray, ...eps: JaxArray[]) => {
      const e = eps[0] ?? null;
      const [o, t] = outputsAndTangents(
        model,
        method,
        dtype,
        temperature,
        false,
        mode,
        p,
        v,
        s,
        xb,
        e,
        primal,
      );
      return (o === null ? [t.z] : [o.z, t.z]) as JaxArray[];
    };
  });
}

/**
 * Jitted probe of the transformer internals, reduced on device: returns
 * [z, a, attnSpread [b], ffnRatio [b, blocks·tokens·hidden]].
 */
function internalProbeFn(
  model: Model,
  method: "jvp" | "fd",
  dtype: FloatDType,
  temperature: number | undefined,
  mode: "eval" | "train",
) {
  return cachedJit(model, `internals:${method}:${dtype}:${temperature ?? "cfg"}:${mode}`, () => {
    return (p: Params, v: Params, s: ModelState, xb: JaxArray, ...eps: JaxArray[]) => {
      const e = eps[0] ?? null;
      const [primal, t] = outputsAndTangents(
        model,
        method,
        dtype,
        temperature,
        true,
        mode,
        p,
        v,
        s,
        xb,
        e,
      );
      const o = primal!;
      for (const a of o.scores) a.dispose();
      const b = o.z.shape[0]!;
      // Δ_attn per sample: spread of the score derivatives over keys, max over heads/queries.
      const spreads = t.scores.map((sd) => {
        const spread = sd.ref.max(-1).sub(sd.min(-1)); // [b, heads, queries]
        return spread.max([1, 2]); // [b]
      });
      const attn = np.stack(spreads, 1).max(1);
      // |h|/|ḣ| for every FFN pre-activation entry, per sample.
      const ratios = o.pre.map((h, i) => np.abs(h).div(np.abs(t.pre[i]!)).reshape([b, -1]));
      const ffn = np.concatenate(ratios, 1);
      return [o.z, t.z, attn, ffn] as [JaxArray, JaxArray, JaxArray, JaxArray];
    };
  });
}

/**
 * Logits z and their derivative a = J_z·v along `direction` for every row of x, row-major
 * [n × k], in the mode `opts.mode` says (eval by default; FD with `logits: false`: empty
 * logits). Borrows everything.
 */
export function logitTangentsHost(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  opts: TangentOptions,
): { logits: Float64Array; a: Float64Array } {
  const k = model.config.numClasses;
  const n = x.shape[0]!;
  const withLogits = opts.method === "jvp" || opts.logits !== false;
  const fn = logitProbeFn(
    model,
    opts.method,
    opts.dtype,
    opts.temperature,
    withLogits,
    opts.mode ?? "eval",
  );
  const a = new Float64Array(n * k);
  const logits = new Float64Array(withLogits ? n * k : 0);
  for (let start = 0; start < n; start += opts.chunk) {
    const end = Math.min(n, start + opts.chunk);
    const e = opts.eps === undefined ? [] : [toDevice([opts.eps], [], opts.dtype)];
    const out = fn(
      refTree(params),
      refTree(direction),
      refTree(state),
      sliceRows(x, start, end),
      ...e,
    );
    const t = out[out.length - 1]!;
    if (withLogits) logits.set(out[0]!.dataSync() as ArrayLike<number>, start * k);
    a.set(t.dataSync() as ArrayLike<number>, start * k);
  }
  return { logits, a };
}

/** One chunk of {@link internalTangentsHost}, on the host. */
export interface InternalChunk {
  /** First row of the chunk. */
  start: number;
  /** Logits and their derivatives, row-major [rows × k]. */
  z: ArrayLike<number>;
  a: ArrayLike<number>;
  /** Per row: the largest attention-score spread over blocks, heads and queries. */
  attentionSpread: ArrayLike<number>;
  /** |h|/|ḣ| of every FFN pre-activation entry, row-major [rows × width]. */
  ffnRatios: ArrayLike<number>;
  width: number;
}

/**
 * A transformer's logits, their derivative, and its internals' derivatives reduced on the
 * device, chunk by chunk (`onChunk` sees each). Borrows everything.
 */
export function internalTangentsHost(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  opts: TangentOptions,
  onChunk: (chunk: InternalChunk) => void,
): void {
  const n = x.shape[0]!;
  const fn = internalProbeFn(model, opts.method, opts.dtype, opts.temperature, opts.mode ?? "eval");
  for (let start = 0; start < n; start += opts.chunk) {
    const end = Math.min(n, start + opts.chunk);
    const e = opts.eps === undefined ? [] : [toDevice([opts.eps], [], opts.dtype)];
    const [z, t, attn, ffn] = fn(
      refTree(params),
      refTree(direction),
      refTree(state),
      sliceRows(x, start, end),
      ...e,
    );
    onChunk({
      start,
      z: z.dataSync() as ArrayLike<number>,
      a: t.dataSync() as ArrayLike<number>,
      attentionSpread: attn.dataSync() as ArrayLike<number>,
      width: ffn.shape[1]!,
      ffnRatios: ffn.dataSync() as ArrayLike<number>,
    });
  }
}
