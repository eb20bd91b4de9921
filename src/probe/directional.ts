/**
 * Directional logit derivatives `a = J_z(x)·v` (SPEC §2) for a batch of samples, by exact
 * forward-mode AD (one JVP) or by central finite differences, plus the logits themselves.
 *
 * Ownership: BORROWS every argument (params, state, direction, x); returns host arrays only.
 * BatchNorm models are always probed in eval mode (running statistics), which never reads or
 * writes anything but the given state; the state is not modified.
 *
 * Finite-difference step. With h = ε‖v‖ the length moved in parameter space, the central
 * difference has truncation error ~h²|z'''|/6 and rounding error ~u·|z|/h (u the unit roundoff
 * of the computing dtype), optimal near h ≈ u^{1/3} in natural units. We use
 *
 *     ε = u^{1/3} · max(1, ‖θ‖_∞) / ‖v‖₂
 *
 * (‖θ‖_∞ scales the step when weights are large, since the perturbation must stay well above
 * the rounding of θ itself). FD runs in float64 by default even for a float32 model: the
 * params, state and inputs are cast up, so `a` is the derivative of the float64 evaluation of
 * the same function at the same point. Measured agreement with the exact JVP on all six
 * architectures (test/probe/directional.test.ts, bench notes in .notes/engine-progress.md):
 * ~1e-9 relative in float64; in float32 with ε = u₃₂^{1/3}·… (≈ 5e-3/‖v‖) only ~1e-2, which
 * is why float32 FD is opt-in (`dtype: "float32"`).
 */
import { type Array as JaxArray, type JsTree, jvp, numpy as np } from "@jax-js/jax";
import { type FloatDType, jaxDtype, machineEps, toDevice } from "../engine/arrays.js";
import { cachedJit } from "../engine/compute.js";
import { castTree, disposeTree, maxAbsTree, normTree, refTree } from "../engine/tree.js";
import type { Model, ModelState, Params } from "../models/types.js";

/** Thrown for invalid probe requests (shape mismatch, bad options). */
export class ProbeError extends Error {
  override name = "ProbeError";
}

/** Options of the directional probes. */
export interface DirectionalOptions {
  /** "jvp" (default): exact forward mode. "fd": central differences. */
  method?: "jvp" | "fd";
  /** Samples per device call (default 2048: the digits training split in one call); bounds memory. */
  chunk?: number;
  /** FD only: the step ε along the direction (θ ± εv); default from the rule above. */
  eps?: number;
  /**
   * Dtype to compute in. Default: the parameters' dtype for "jvp" (exact up to that dtype's
   * rounding), float64 for "fd".
   */
  dtype?: FloatDType;
  /** Overrides the model's configured temperature. */
  temperature?: number;
}

/** `a` and logits of n samples, row-major n × k (the shape `ProbeResult` in radius.ts expects). */
export interface DirectionalResult {
  /** a[i·k + c] = d z_c(x_i; θ + t v)/dt at t = 0. */
  a: Float64Array;
  /** logits[i·k + c] = z_c(x_i; θ). */
  logits: Float64Array;
  /** Number of samples. */
  n: number;
  /** Number of classes. */
  k: number;
  /** How `a` was computed. */
  method: "jvp" | "fd";
  /** Dtype it was computed in. */
  dtype: FloatDType;
  /** FD only: the step ε used. */
  eps?: number;
}

function paramsDtype(params: Params): FloatDType {
  for (const v of Object.values(params)) {
    if (v === undefined) continue;
    if (typeof v === "object" && (v as object).constructor === Object) {
      return paramsDtype(v as Params);
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

/** The default FD step: ε = u^{1/3}·max(1, ‖θ‖_∞)/‖v‖₂ (see the module comment). */
export function defaultFdEps(params: Params, direction: Params, dtype: FloatDType): number {
  const vNorm = normTree(direction);
  if (!(vNorm > 0) || !Number.isFinite(vNorm)) {
    throw new ProbeError(`direction must have a positive finite norm, got ${vNorm}`);
  }
  const scale = Math.max(1, maxAbsTree(params));
  return (Math.cbrt(machineEps(dtype) / 2) * scale) / vNorm;
}

/** What one probe evaluates: the logits, plus (transformer) the internals. */
interface ProbeOutputs {
  z: JaxArray;
  scores: JaxArray[];
  pre: JaxArray[];
}

/** Evaluate the probed outputs in eval mode. Consumes p, xb and s. */
function evalOutputs(
  model: Model,
  p: Params,
  xb: JaxArray,
  s: ModelState,
  temperature: number | undefined,
  internals: boolean,
): ProbeOutputs {
  const out = model.forward(p, xb, {
    mode: "eval",
    state: s,
    temperature,
    collectInternals: internals,
  });
  disposeTree(out.state);
  if (internals && !out.internals) {
    out.logits.dispose();
    throw new ProbeError(`${model.name} has no internals to probe (transformer only)`);
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
    if (vv === undefined) throw new ProbeError(`direction lacks parameter "${key}"`);
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
 * `dtype` first. Consumes every argument.
 */
function outputsAndTangents(
  model: Model,
  method: "jvp" | "fd",
  dtype: FloatDType,
  temperature: number | undefined,
  internals: boolean,
  p: Params,
  v: Params,
  s: ModelState,
  xb: JaxArray,
  eps: JaxArray | null,
): [ProbeOutputs, ProbeOutputs] {
  const pc = castOwned(p, dtype);
  const vc = castOwned(v, dtype);
  const sc = castOwned(s, dtype);
  const xc = castArray(xb, dtype);
  if (method === "jvp") {
    eps?.dispose();
    const f = (pp: Params) =>
      evalOutputs(model, pp, xc, sc, temperature, internals) as unknown as JsTree<JaxArray>;
    return jvp(f, [pc], [vc]) as unknown as [ProbeOutputs, ProbeOutputs];
  }
  const e = castArray(eps!, dtype);
  const plus = shifted(pc, vc, e, 1);
  const minus = shifted(pc, vc, e, -1);
  disposeTree(vc);
  const run = (pp: Params) => evalOutputs(model, pp, xc.ref, refTree(sc), temperature, internals);
  const op = run(plus);
  const om = run(minus);
  const o = run(pc);
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

/** Jitted probe of the logits: returns [z, a], each [b, k]. */
function logitProbeFn(
  model: Model,
  method: "jvp" | "fd",
  dtype: FloatDType,
  temperature: number | undefined,
) {
  return cachedJit(model, `directional:${method}:${dtype}:${temperature ?? "cfg"}`, () => {
    return (p: Params, v: Params, s: ModelState, xb: JaxArray, ...eps: JaxArray[]) => {
      const e = eps[0] ?? null;
      const [o, t] = outputsAndTangents(model, method, dtype, temperature, false, p, v, s, xb, e);
      return [o.z, t.z] as [JaxArray, JaxArray];
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
) {
  return cachedJit(model, `internals:${method}:${dtype}:${temperature ?? "cfg"}`, () => {
    return (p: Params, v: Params, s: ModelState, xb: JaxArray, ...eps: JaxArray[]) => {
      const e = eps[0] ?? null;
      const [o, t] = outputsAndTangents(model, method, dtype, temperature, true, p, v, s, xb, e);
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

function checkInputs(model: Model, x: JaxArray, chunk: number): void {
  if (x.ndim !== 2 || x.shape[1] !== model.config.inputDim) {
    throw new ProbeError(
      `${model.name}: expected x of shape [n, ${model.config.inputDim}], got [${x.shape.join(", ")}]`,
    );
  }
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new ProbeError(`chunk must be a positive integer, got ${chunk}`);
  }
}

/** Rows [start, end) of x as a new reference (the whole of x when it is one chunk). */
function rowsOf(x: JaxArray, start: number, end: number): JaxArray {
  return start === 0 && end === x.shape[0] ? x.ref : x.ref.slice([start, end]);
}

interface Resolved {
  method: "jvp" | "fd";
  dtype: FloatDType;
  chunk: number;
  eps: number | undefined;
}

function resolve(
  model: Model,
  params: Params,
  direction: Params,
  x: JaxArray,
  opts: DirectionalOptions,
): Resolved {
  const method = opts.method ?? "jvp";
  if (method !== "jvp" && method !== "fd") {
    throw new ProbeError(`unknown method "${String(method)}" (expected "jvp" or "fd")`);
  }
  const chunk = opts.chunk ?? 2048;
  checkInputs(model, x, chunk);
  const dtype = opts.dtype ?? (method === "fd" ? "float64" : paramsDtype(params));
  if (dtype !== "float32" && dtype !== "float64") {
    throw new ProbeError(`dtype must be "float32" or "float64", got ${String(dtype)}`);
  }
  if (method === "jvp") return { method, dtype, chunk, eps: undefined };
  const eps = opts.eps ?? defaultFdEps(params, direction, dtype);
  if (!(eps > 0) || !Number.isFinite(eps)) {
    throw new ProbeError(`eps must be a positive finite number, got ${eps}`);
  }
  return { method, dtype, chunk, eps };
}

/**
 * Directional logit derivatives a = J_z(x)·v and logits z(x) for every row of x
 * [n, inputDim], in eval mode. `direction` is a Params-shaped tree (any norm; `a` is linear in
 * it, so pass a unit direction to get the SPEC's a). Borrows everything.
 */
export function directionalLogitDerivatives(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  opts: DirectionalOptions = {},
): DirectionalResult {
  const r = resolve(model, params, direction, x, opts);
  const k = model.config.numClasses;
  const n = x.shape[0]!;
  const fn = logitProbeFn(model, r.method, r.dtype, opts.temperature);
  const a = new Float64Array(n * k);
  const logits = new Float64Array(n * k);
  for (let start = 0; start < n; start += r.chunk) {
    const end = Math.min(n, start + r.chunk);
    const e = r.eps === undefined ? [] : [toDevice([r.eps], [], r.dtype)];
    const [z, t] = fn(
      refTree(params),
      refTree(direction),
      refTree(state),
      rowsOf(x, start, end),
      ...e,
    );
    logits.set(z.dataSync() as ArrayLike<number>, start * k);
    a.set(t.dataSync() as ArrayLike<number>, start * k);
  }
  const result: DirectionalResult = { a, logits, n, k, method: r.method, dtype: r.dtype };
  if (r.eps !== undefined) result.eps = r.eps;
  return result;
}

/** Output of `transformerInternalDerivatives`: the logit probe plus the internals' spreads. */
export interface InternalDerivatives extends DirectionalResult {
  /**
   * Per sample: Δ_attn = max over blocks, heads and queries of (max_key ṡ − min_key ṡ), ṡ the
   * derivative of the pre-softmax attention scores along v. ρ_attn = π / max over samples.
   */
  attentionSpread: Float64Array;
  /** Per sample: min over blocks, tokens and hidden units of |h|/|ḣ| (FFN pre-activations). */
  ffnRatioMin: Float64Array;
  /** The `ffnQuantile`-quantile of |h|/|ḣ| over every FFN entry of every sample (ρ_ffn). */
  ffnRatioQuantile: number;
  /** The quantile level used (default 0.01). */
  ffnQuantileLevel: number;
  /** How many |h|/|ḣ| values were pooled for the quantile. */
  ffnCount: number;
}

/**
 * The quantile (type 1: the ⌈q·m⌉-th smallest) of a sample, NaN treated as +∞. O(m) average
 * (quickselect on a copy).
 */
export function quantileOf(values: Float64Array, q: number): number {
  const m = values.length;
  if (m === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new ProbeError(`quantile level must be in [0, 1], got ${q}`);
  const a = Float64Array.from(values, (v) => (Number.isNaN(v) ? Infinity : v));
  const target = Math.min(m - 1, Math.max(0, Math.ceil(q * m) - 1));
  let lo = 0;
  let hi = m - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

/**
 * One probe of a transformer along v: the logit derivatives (as `directionalLogitDerivatives`)
 * plus the derivatives of its internals, reduced to what the all-radii controller needs
 * (SPEC §3): per-sample attention-score spreads and the |h|/|ḣ| ratios of the FFN
 * pre-activations. Values are per unit of t along `direction` (divide spreads by ‖v‖ and
 * multiply ratios by ‖v‖ for a unit direction). Borrows everything. Throws `ProbeError` for
 * models without internals.
 */
export function transformerInternalDerivatives(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  opts: DirectionalOptions & { ffnQuantile?: number } = {},
): InternalDerivatives {
  const r = resolve(model, params, direction, x, opts);
  const level = opts.ffnQuantile ?? 0.01;
  if (!(level >= 0 && level <= 1)) {
    throw new ProbeError(`ffnQuantile must be in [0, 1], got ${level}`);
  }
  const k = model.config.numClasses;
  const n = x.shape[0]!;
  const fn = internalProbeFn(model, r.method, r.dtype, opts.temperature);
  const a = new Float64Array(n * k);
  const logits = new Float64Array(n * k);
  const attentionSpread = new Float64Array(n);
  const ffnRatioMin = new Float64Array(n);
  const chunks: Float64Array[] = [];
  for (let start = 0; start < n; start += r.chunk) {
    const end = Math.min(n, start + r.chunk);
    const e = r.eps === undefined ? [] : [toDevice([r.eps], [], r.dtype)];
    const [z, t, attn, ffn] = fn(
      refTree(params),
      refTree(direction),
      refTree(state),
      rowsOf(x, start, end),
      ...e,
    );
    logits.set(z.dataSync() as ArrayLike<number>, start * k);
    a.set(t.dataSync() as ArrayLike<number>, start * k);
    attentionSpread.set(attn.dataSync() as ArrayLike<number>, start);
    const width = ffn.shape[1]!;
    const ratios = Float64Array.from(ffn.dataSync() as ArrayLike<number>, (v) =>
      Number.isNaN(v) ? Infinity : v,
    );
    for (let i = 0; i < end - start; i++) {
      let m = Infinity;
      for (let j = 0; j < width; j++) m = Math.min(m, ratios[i * width + j]!);
      ffnRatioMin[start + i] = m;
    }
    chunks.push(ratios);
  }
  let total = 0;
  for (const c of chunks) total += c.length;
  const pooled = new Float64Array(total);
  let off = 0;
  for (const c of chunks) {
    pooled.set(c, off);
    off += c.length;
  }
  const result: InternalDerivatives = {
    a,
    logits,
    n,
    k,
    method: r.method,
    dtype: r.dtype,
    attentionSpread,
    ffnRatioMin,
    ffnRatioQuantile: quantileOf(pooled, level),
    ffnQuantileLevel: level,
    ffnCount: total,
  };
  if (r.eps !== undefined) result.eps = r.eps;
  return result;
}
