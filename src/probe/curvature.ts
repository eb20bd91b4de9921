/**
 * Directional curvature of the loss, `κ(v̂) = v̂ᵀ H v̂` with H the Hessian of the mean
 * cross-entropy over a sample set and `v̂ = v/‖v‖`, and the step a quadratic model of the loss
 * along v̂ allows, `2/κ` (docs/science.md §2, "The curvature step"): the quantity the paper's
 * reference code compares with ρ_a.
 *
 * Ownership: BORROWS every argument (params, state, direction, x); returns host numbers only.
 * The model is evaluated in eval mode (BatchNorm running statistics, never updated).
 *
 * Two methods. `"hvp"` (default) is one Hessian-vector product per chunk, forward-over-reverse
 * (the JVP of the gradient), computed in float32 whatever the parameters' dtype: the engine's
 * float64 exp/log/erf carry only correct first derivatives (`src/engine/numerics.ts`), so a
 * float64 HVP would be silently wrong, and asking for one is an error. `"fd"` is the central
 * difference of the gradient, `vᵀ(∇L(θ + εv) − ∇L(θ − εv)) / 2ε`, which needs first
 * derivatives only and so runs in float64 by default; its step follows the rule of the
 * directional probe (`defaultFdEps`: truncation ~ε², rounding ~u/ε, so ε ≈ u^{1/3} in natural
 * units). The two agree to float32 rounding (test/probe/curvature.test.ts).
 */
import type { FloatDType, DeviceArray as JaxArray } from "../engine/arrays.js";
import { CurvatureError, curvatureHost } from "../engine/curvature.js";
import { normTree } from "../engine/tree.js";
import type { Model, ModelState, Params } from "../models/types.js";
import { defaultFdEps, ProbeError } from "./directional.js";

/** Options of {@link directionalCurvature}. */
export interface CurvatureOptions {
  /** "hvp" (default): exact Hessian-vector product in float32. "fd": differences of ∇L. */
  method?: "hvp" | "fd";
  /** Samples per device call (default 2048); the result is that of the mean over all of them. */
  chunk?: number;
  /** FD only: the step ε along the direction (θ ± εv); default `defaultFdEps`. */
  eps?: number;
  /** Dtype to compute in: "hvp" only "float32" (the default); "fd" default "float64". */
  dtype?: FloatDType;
  /** Overrides the model's configured temperature. */
  temperature?: number;
}

/** What {@link directionalCurvature} returns; slopes and curvatures are per unit length along v̂. */
export interface DirectionalCurvature {
  /** Mean cross-entropy L(θ) over the samples. */
  loss: number;
  /** `d/dt L(θ + t v̂)` at 0 = ∇Lᵀv̂ (negative along a descent direction). */
  slope: number;
  /** `κ = d²/dt² L(θ + t v̂)` at 0 = v̂ᵀHv̂ (may be ≤ 0 away from a minimum). */
  curvature: number;
  /**
   * The curvature step `2/κ`: the longest step along v̂ the quadratic model's stability rule
   * allows; +∞ when κ ≤ 0 (no finite quadratic bound).
   */
  curvatureStep: number;
  /** ‖v‖ of the direction given. */
  directionNorm: number;
  /** Number of samples. */
  n: number;
  method: "hvp" | "fd";
  dtype: FloatDType;
  /** FD only: the step ε used (along the unnormalised v). */
  eps?: number;
}

/** The curvature step 2/κ, +∞ for κ ≤ 0 (the quadratic model then bounds no step). */
export function curvatureStep(kappa: number): number {
  return kappa > 0 ? 2 / kappa : Number.POSITIVE_INFINITY;
}

/**
 * The loss, slope and curvature of the mean cross-entropy of `x` [n, inputDim] against `y`
 * along `direction` (a Params-shaped tree of any positive norm; results are per unit length
 * along `v/‖v‖`), and the curvature step 2/κ. Borrows everything.
 *
 * @throws {ProbeError} for shape mismatches, bad options, a zero direction, a float64 HVP.
 */
export function directionalCurvature(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  y: ArrayLike<number>,
  opts: CurvatureOptions = {},
): DirectionalCurvature {
  const method = opts.method ?? "hvp";
  if (method !== "hvp" && method !== "fd") {
    throw new ProbeError(`unknown method "${String(method)}" (expected "hvp" or "fd")`);
  }
  if (x.ndim !== 2 || x.shape[1] !== model.config.inputDim) {
    throw new ProbeError(
      `${model.name}: expected x of shape [n, ${model.config.inputDim}], got [${x.shape.join(", ")}]`,
    );
  }
  const n = x.shape[0]!;
  if (y.length !== n) throw new ProbeError(`${y.length} labels for ${n} samples`);
  if (n === 0) throw new ProbeError("no samples to measure the curvature over");
  const chunk = opts.chunk ?? 2048;
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new ProbeError(`chunk must be a positive integer, got ${chunk}`);
  }
  const dtype = opts.dtype ?? (method === "fd" ? "float64" : "float32");
  if (dtype !== "float32" && dtype !== "float64") {
    throw new ProbeError(`dtype must be "float32" or "float64", got ${String(dtype)}`);
  }
  if (method === "hvp" && dtype !== "float32") {
    throw new ProbeError(
      'the Hessian-vector product runs in float32 only (the engine\'s float64 second derivatives are not exact); use method "fd" for float64',
    );
  }
  const directionNorm = normTree(direction);
  if (!(directionNorm > 0) || !Number.isFinite(directionNorm)) {
    throw new ProbeError(`direction must have a positive finite norm, got ${directionNorm}`);
  }
  let eps: number | undefined;
  if (method === "fd") {
    eps = opts.eps ?? defaultFdEps(params, direction, dtype);
    if (!(eps > 0) || !Number.isFinite(eps)) {
      throw new ProbeError(`eps must be a positive finite number, got ${eps}`);
    }
  }
  const labels = y instanceof Int32Array ? y : Int32Array.from(y);
  let m: ReturnType<typeof curvatureHost>;
  try {
    m = curvatureHost(model, params, state, direction, x, labels, {
      method,
      dtype,
      chunk,
      ...(eps === undefined ? {} : { eps }),
      ...(opts.temperature === undefined ? {} : { temperature: opts.temperature }),
    });
  } catch (e) {
    if (e instanceof CurvatureError) throw new ProbeError(e.message);
    throw e;
  }
  const curvature = m.curvature / (directionNorm * directionNorm);
  const result: DirectionalCurvature = {
    loss: m.loss,
    slope: m.slope / directionNorm,
    curvature,
    curvatureStep: curvatureStep(curvature),
    directionNorm,
    n,
    method,
    dtype,
  };
  if (eps !== undefined) result.eps = eps;
  return result;
}
