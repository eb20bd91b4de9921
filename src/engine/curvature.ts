/**
 * The device half of the directional-curvature probe (`src/probe/curvature.ts`): the mean
 * cross-entropy of a sample set, its slope gᵀv and its curvature vᵀHv along a direction v,
 * by one Hessian-vector product (forward-over-reverse: the JVP of `valueAndGrad`) or by
 * central differences of the gradient, chunk by chunk. Host-level entry points BORROW
 * everything and return host numbers.
 *
 * Why the HVP is float32 only: the float64 transcendentals of `numerics.ts` carry a correct
 * first derivative but a wrong second one (their slope is attached through `stopGradient`), so
 * forward-over-reverse through them in float64 silently drops terms. jax-js's own float32
 * exp/log/erf differentiate twice correctly. The gradient differences only need first
 * derivatives, so they run in float64.
 */
import { type Array as JaxArray, type JsTree, jvp, numpy as np, valueAndGrad } from "@jax-js/jax";
import type { Model, ModelState, Params } from "../models/types.js";
import { type FloatDType, jaxDtype, labelsToDevice, takeToHost, toDevice } from "./arrays.js";
import { cachedJit, crossEntropy, sliceRows } from "./compute.js";
import { type ArrayTree, castTree, disposeTree, refTree, sortedLeaves } from "./tree.js";

/** A curvature request the engine cannot answer. */
export class CurvatureError extends Error {
  override name = "CurvatureError";
}

/** How the curvature is computed. */
export interface CurvatureEngineOptions {
  /** "hvp": exact forward-over-reverse (float32 only); "fd": central differences of ∇L. */
  method: "hvp" | "fd";
  dtype: FloatDType;
  /** Rows per device call. */
  chunk: number;
  /** FD only: the step ε along v (θ ± εv). */
  eps?: number;
  temperature?: number;
}

/** Σ over leaves of sum(a·b), as a device scalar of `dtype`. Traceable; consumes both trees. */
function dotLeaves(a: ArrayTree, b: ArrayTree, dtype: FloatDType): JaxArray {
  const la = sortedLeaves(a);
  const lb = sortedLeaves(b);
  if (la.length !== lb.length) {
    throw new CurvatureError(`direction has ${lb.length} leaves, parameters ${la.length}`);
  }
  let s: JaxArray | null = null;
  for (let i = 0; i < la.length; i++) {
    const term = la[i]!.mul(lb[i]!).sum().astype(jaxDtype(dtype));
    s = s === null ? term : s.add(term);
  }
  return s ?? np.zeros([], { dtype: jaxDtype(dtype) });
}

/** Leafwise p + e·v (borrows p and v, borrows e). Traceable. */
function moved(p: Params, v: Params, e: JaxArray, sign: 1 | -1): Params {
  const out: Params = {};
  for (const key of Object.keys(p)) {
    const pv = p[key]!;
    const vv = v[key];
    if (vv === undefined) throw new CurvatureError(`direction lacks parameter "${key}"`);
    if (typeof pv === "object" && (pv as object).constructor === Object) {
      out[key] = moved(pv as Params, vv as Params, e, sign);
    } else {
      const step = (vv as JaxArray).ref.mul(e.ref);
      out[key] = sign > 0 ? (pv as JaxArray).ref.add(step) : (pv as JaxArray).ref.sub(step);
    }
  }
  return out;
}

/** Jitted [loss, gᵀv, vᵀHv] of one chunk (eval mode; mean over the chunk's rows). */
function curvatureFn(model: Model, opts: CurvatureEngineOptions) {
  const { method, dtype, temperature } = opts;
  const key = `curvature:${method}:${dtype}:${temperature ?? "cfg"}`;
  return cachedJit(model, key, () => {
    return (
      p: Params,
      v: Params,
      s: ModelState,
      xb: JaxArray,
      yb: JaxArray,
      ...eps: JaxArray[]
    ) => {
      const cast = <T extends ArrayTree>(t: T): T => {
        const out = castTree(t, dtype);
        disposeTree(t);
        return out;
      };
      const pc = cast(p);
      const vc = cast(v);
      const sc = cast(s);
      const xc = xb.dtype === jaxDtype(dtype) ? xb : xb.astype(jaxDtype(dtype));
      // Each loss evaluation takes its own references to the shared inputs.
      const loss = (q: Params) =>
        crossEntropy(
          model.apply(q, xc.ref, { mode: "eval", state: refTree(sc), temperature }),
          yb.ref,
        );
      const vg = valueAndGrad(loss);
      let out: JaxArray;
      if (method === "hvp") {
        const f = (q: Params) => vg(q) as unknown as JsTree<JaxArray>;
        const [primal, tangent] = jvp(f, [pc], [refTree(vc)]) as unknown as [
          [JaxArray, Params],
          [JaxArray, Params],
        ];
        disposeTree(primal[1]);
        const curvature = dotLeaves(tangent[1], vc, dtype);
        out = np.stack([
          primal[0].astype(jaxDtype(dtype)),
          tangent[0].astype(jaxDtype(dtype)),
          curvature,
        ]);
      } else {
        const e = eps[0]!.astype(jaxDtype(dtype));
        const [l0, g0] = vg(refTree(pc)) as [JaxArray, Params];
        const [lp, gp] = vg(moved(pc, vc, e, 1)) as [JaxArray, Params];
        const [lm, gm] = vg(moved(pc, vc, e, -1)) as [JaxArray, Params];
        lp.dispose();
        lm.dispose();
        disposeTree(pc);
        const slope = dotLeaves(g0, refTree(vc), dtype);
        const diff = dotLeaves(gp, refTree(vc), dtype).sub(dotLeaves(gm, vc, dtype));
        const curvature = diff.div(e.mul(2));
        out = np.stack([l0.astype(jaxDtype(dtype)), slope, curvature]);
      }
      xc.dispose();
      yb.dispose();
      disposeTree(sc);
      return out;
    };
  });
}

/** What {@link curvatureHost} measures over a whole sample set (per unit t along v). */
export interface CurvatureMeasurement {
  /** Mean cross-entropy L(θ) over the set. */
  loss: number;
  /** d/dt L(θ + t v) at t = 0 = gᵀv. */
  slope: number;
  /** d²/dt² L(θ + t v) at t = 0 = vᵀHv. */
  curvature: number;
}

/**
 * The mean eval-mode cross-entropy of `x` against `labels`, its slope and its curvature along
 * `direction`, summed over chunks with weights rows/n (so the result is that of the mean
 * over the whole set). Borrows everything.
 */
export function curvatureHost(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  labels: Int32Array,
  opts: CurvatureEngineOptions,
): CurvatureMeasurement {
  const n = x.shape[0]!;
  if (labels.length !== n) throw new CurvatureError(`${labels.length} labels for ${n} samples`);
  if (opts.method === "hvp" && opts.dtype !== "float32") {
    throw new CurvatureError(
      'the Hessian-vector product runs in float32 only (float64 second derivatives of the engine numerics are not exact); use method "fd" for float64',
    );
  }
  const fn = curvatureFn(model, opts);
  let loss = 0;
  let slope = 0;
  let curvature = 0;
  for (let start = 0; start < n; start += opts.chunk) {
    const end = Math.min(n, start + opts.chunk);
    const e = opts.method === "fd" ? [toDevice([opts.eps!], [], opts.dtype)] : [];
    const out = fn(
      refTree(params),
      refTree(direction),
      refTree(state),
      sliceRows(x, start, end),
      labelsToDevice(labels.subarray(start, end)),
      ...e,
    ) as JaxArray;
    const [l, s, c] = takeToHost(out);
    const w = (end - start) / n;
    loss += w * l!;
    slope += w * s!;
    curvature += w * c!;
  }
  return { loss, slope, curvature };
}
