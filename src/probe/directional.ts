/**
 * Directional logit derivatives `a = J_z(x)·v` (docs/science.md §2) for a batch of samples, by exact
 * forward-mode AD (one JVP) or by central finite differences, plus the logits themselves.
 *
 * Ownership: BORROWS every argument (params, state, direction, x); returns host arrays only.
 * BatchNorm models are probed in eval mode (running statistics) by default. `mode: "train"`
 * normalises with the statistics of the probed rows themselves — the function a training step
 * differentiates, and what PyTorch computes when a probe runs with the model left in training
 * mode — so the rows are evaluated in one device call whatever `chunk` says (batch
 * statistics of a chunk would be another function). Either way the running statistics the
 * forward pass would update are dropped: the given state is never modified.
 *
 * Finite-difference step. With h = ε‖v‖ the length moved in parameter space, the central
 * difference has truncation error ~h²|z'''|/6 and rounding error ~u·|z|/h (u the unit roundoff
 * of the computing dtype), optimal near h ≈ u^{1/3} in natural units. We use
 *
 *     ε = u^{1/3} · max(1, ‖θ‖_∞) / ‖v‖₂
 *
 * (‖θ‖_∞ scales the step when weights are large, since the perturbation must stay well above
 * the rounding of θ itself). FD runs in the parameters' dtype by default, like the JVP: two
 * forward passes of the model as it trains (the paper's FD, and the cheap probe it is meant
 * to be). `dtype: "float64"` casts params, state and inputs up, so `a` is the derivative of
 * the float64 evaluation of the same function at the same point — ~1e-9 relative to the
 * exact JVP on all six architectures, at 6–12× the cost of float32 on the Wasm backend (which
 * has no float64 SIMD matmul; the WebGPU backend has no float64 at all). In float32, with
 * ε = u₃₂^{1/3}·… (≈ 5e-3·max(1, ‖θ‖_∞)/‖v‖), the largest per-sample spread Δ_a — what ρ_a
 * is made of — agrees with the float64 JVP to 1e-6 … 2e-4 relative at initialisation on the
 * six architectures (batch 256 of digits along the gradient), single slopes to 2e-5 … 3e-3
 * of the largest slope.
 */
import { type FloatDType, type DeviceArray as JaxArray, machineEps } from "../engine/arrays.js";
import {
  DirectionalError,
  internalTangentsHost,
  logitTangentsHost,
  type TangentOptions,
  treeFloatDtype,
} from "../engine/directional.js";
import { normAndMaxAbs, normTree } from "../engine/tree.js";
import type { Model, ModelState, Params } from "../models/types.js";
import { quantile } from "../theory/spread.js";

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
   * FD only: the length h moved in parameter space instead of ε, i.e. ε = h/‖v‖₂ (the
   * published protocols state h for a unit direction, e.g. 1e-4). Exclusive with `eps`.
   */
  fdStep?: number;
  /**
   * BatchNorm statistics of the probed function (default `"eval"`: running statistics;
   * `"train"`: the probed rows' own batch statistics, all rows in one call; see the module
   * notes). No effect on models without BatchNorm.
   */
  mode?: "eval" | "train";
  /**
   * Dtype to compute in. Default: the parameters' dtype (for "jvp" exact up to that dtype's
   * rounding; for "fd" see the module comment: float64 is ~1e-9 accurate and 6–12× slower).
   */
  dtype?: FloatDType;
  /** Overrides the model's configured temperature. */
  temperature?: number;
  /**
   * FD only: `false` skips the evaluation at θ, one forward pass of the three (central
   * differences need only θ ± εv), and returns empty `logits`. For callers that use the
   * slopes alone, such as ρ_a. Default true; ignored by the JVP (its logits are free).
   */
  logits?: boolean;
}

/** `a` and logits of n samples, row-major n × k (the shape `ProbeResult` in radius.ts expects). */
export interface DirectionalResult {
  /** a[i·k + c] = d z_c(x_i; θ + t v)/dt at t = 0. */
  a: Float64Array;
  /** logits[i·k + c] = z_c(x_i; θ); empty for FD with `logits: false`. */
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

/** The default FD step: ε = u^{1/3}·max(1, ‖θ‖_∞)/‖v‖₂ (see the module comment). */
export function defaultFdEps(params: Params, direction: Params, dtype: FloatDType): number {
  // One device call and one read for both reductions: the eager normTree/maxAbsTree cost a
  // few ops and a read per leaf, which dominated a batch-sized FD probe (same bits).
  const { norm: vNorm, maxAbs } = normAndMaxAbs(direction, params);
  if (!(vNorm > 0) || !Number.isFinite(vNorm)) {
    throw new ProbeError(`direction must have a positive finite norm, got ${vNorm}`);
  }
  const scale = Math.max(1, maxAbs);
  return (Math.cbrt(machineEps(dtype) / 2) * scale) / vNorm;
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

/** The engine's options for a resolved probe request. */
function tangentOptions(r: Resolved, opts: DirectionalOptions): TangentOptions {
  const out: TangentOptions = { method: r.method, dtype: r.dtype, chunk: r.chunk, mode: r.mode };
  if (r.eps !== undefined) out.eps = r.eps;
  if (opts.temperature !== undefined) out.temperature = opts.temperature;
  if (opts.logits === false) out.logits = false;
  return out;
}

/** The engine's probe errors as {@link ProbeError}s (same message). */
function rethrow<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DirectionalError) throw new ProbeError(e.message);
    throw e;
  }
}

interface Resolved {
  method: "jvp" | "fd";
  dtype: FloatDType;
  chunk: number;
  eps: number | undefined;
  mode: "eval" | "train";
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
  const mode = opts.mode ?? "eval";
  if (mode !== "eval" && mode !== "train") {
    throw new ProbeError(`mode must be "eval" or "train", got ${String(mode)}`);
  }
  const asked = opts.chunk ?? 2048;
  checkInputs(model, x, asked);
  // batch statistics are those of every probed row: one call (see the module notes)
  const chunk = mode === "train" ? Math.max(asked, x.shape[0]!) : asked;
  const dtype = opts.dtype ?? treeFloatDtype(params);
  if (dtype !== "float32" && dtype !== "float64") {
    throw new ProbeError(`dtype must be "float32" or "float64", got ${String(dtype)}`);
  }
  if (method === "jvp") return { method, dtype, chunk, eps: undefined, mode };
  if (opts.eps !== undefined && opts.fdStep !== undefined) {
    throw new ProbeError("give eps or fdStep, not both");
  }
  const eps =
    opts.fdStep !== undefined
      ? opts.fdStep / normTree(direction)
      : (opts.eps ?? defaultFdEps(params, direction, dtype));
  if (!(eps > 0) || !Number.isFinite(eps)) {
    throw new ProbeError(`eps must be a positive finite number, got ${eps}`);
  }
  return { method, dtype, chunk, eps, mode };
}

/**
 * Directional logit derivatives a = J_z(x)·v and logits z(x) for every row of x
 * [n, inputDim], in eval mode unless `opts.mode` says `"train"`. `direction` is a Params-shaped tree (any norm; `a` is linear in
 * it, so pass a unit direction to get docs/science.md's a). Borrows everything.
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
  const { a, logits } = rethrow(() =>
    logitTangentsHost(model, params, state, direction, x, tangentOptions(r, opts)),
  );
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
  /**
   * The `ffnQuantile`-quantile of |h|/|ḣ| over every FFN entry of every sample (ρ_ffn), read
   * by `ffnQuantileMethod`.
   */
  ffnRatioQuantile: number;
  /** The quantile level used (default 0.01). */
  ffnQuantileLevel: number;
  /** How many |h|/|ḣ| values were pooled for the quantile. */
  ffnCount: number;
}

/**
 * How {@link quantileOf} reads a level between order statistics: `"inverted-cdf"` (type 1,
 * the ⌈q·m⌉-th smallest: always a sample value; our default) or `"linear"` (type 7, numpy's
 * and `torch.quantile`'s default: interpolated between neighbours, as `theory`'s `quantile`).
 */
export type QuantileMethod = "inverted-cdf" | "linear";

/** How the FFN ratios |h|/|ḣ| reduce to ρ_ffn. */
export interface FfnQuantileOptions {
  /** Quantile level of ρ_ffn (default 0.01). */
  ffnQuantile?: number;
  /** How the level is read between order statistics (default `"inverted-cdf"`). */
  ffnQuantileMethod?: QuantileMethod;
}

/**
 * The quantile of a sample at level q, NaN treated as +∞: type 1 (the ⌈q·m⌉-th smallest) or,
 * with `method: "linear"`, type 7 (equal to `theory`'s `quantile` of the same values). O(m)
 * average (quickselect on a copy).
 */
export function quantileOf(
  values: Float64Array,
  q: number,
  method: QuantileMethod = "inverted-cdf",
): number {
  const m = values.length;
  if (m === 0) return Number.NaN;
  if (!(q >= 0 && q <= 1)) throw new ProbeError(`quantile level must be in [0, 1], got ${q}`);
  const a = Float64Array.from(values, (v) => (Number.isNaN(v) ? Infinity : v));
  if (method === "linear") {
    const h = (m - 1) * q;
    const j = Math.floor(h);
    const lo = selectInPlace(a, j);
    if (j >= m - 1 || h === j) return lo;
    // selection leaves every later entry ≥ a[j]: the next order statistic is their minimum
    let hi = Infinity;
    for (let i = j + 1; i < m; i++) if (a[i]! < hi) hi = a[i]!;
    // the same interpolation (and its infinity rules) as theory's quantile
    return quantile([lo, hi], h - j);
  }
  return selectInPlace(a, Math.min(m - 1, Math.max(0, Math.ceil(q * m) - 1)));
}

/**
 * The `target`-th smallest entry of `a` (0-based, no NaN), rearranging `a` so that no later
 * entry is smaller (quickselect).
 */
function selectInPlace(a: Float64Array, target: number): number {
  const m = a.length;
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
 * (docs/science.md §3): per-sample attention-score spreads and the |h|/|ḣ| ratios of the FFN
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
  opts: DirectionalOptions & FfnQuantileOptions = {},
): InternalDerivatives {
  const r = resolve(model, params, direction, x, opts);
  const level = opts.ffnQuantile ?? 0.01;
  if (!(level >= 0 && level <= 1)) {
    throw new ProbeError(`ffnQuantile must be in [0, 1], got ${level}`);
  }
  const quantileMethod = opts.ffnQuantileMethod ?? "inverted-cdf";
  if (quantileMethod !== "inverted-cdf" && quantileMethod !== "linear") {
    throw new ProbeError(
      `ffnQuantileMethod must be "inverted-cdf" or "linear", got ${JSON.stringify(quantileMethod)}`,
    );
  }
  const k = model.config.numClasses;
  const n = x.shape[0]!;
  const a = new Float64Array(n * k);
  const logits = new Float64Array(n * k);
  const attentionSpread = new Float64Array(n);
  const ffnRatioMin = new Float64Array(n);
  const chunks: Float64Array[] = [];
  rethrow(() =>
    internalTangentsHost(model, params, state, direction, x, tangentOptions(r, opts), (c) => {
      const rows = c.attentionSpread.length;
      logits.set(c.z, c.start * k);
      a.set(c.a, c.start * k);
      attentionSpread.set(c.attentionSpread, c.start);
      const ratios = Float64Array.from(c.ffnRatios, (v) => (Number.isNaN(v) ? Infinity : v));
      for (let i = 0; i < rows; i++) {
        let m = Infinity;
        for (let j = 0; j < c.width; j++) m = Math.min(m, ratios[i * c.width + j]!);
        ffnRatioMin[c.start + i] = m;
      }
      chunks.push(ratios);
    }),
  );
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
    ffnRatioQuantile: quantileOf(pooled, level, quantileMethod),
    ffnQuantileLevel: level,
    ffnCount: total,
  };
  if (r.eps !== undefined) result.eps = r.eps;
  return result;
}
