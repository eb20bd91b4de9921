/**
 * The ρ-controllers (docs/science.md §3) as ordinary chain links: placed last in a chain, they see the
 * update `p` the optimizer is about to apply and rescale it against the convergence radius
 * along `p`. They never read or write the optimizer's moments — those belong to earlier links.
 *
 * The radius itself comes from the training loop through `extra.radius` (see
 * {@link RadiusCallback}), so these links stay independent of the model, the data and the
 * probe method; a user can drive them with any radius estimate they trust.
 */

import * as op from "../engine/ops.js";
import { treeGlobalNormHost } from "../engine/tree.js";
import {
  type ArrayTree,
  type ControlExtra,
  type GradientExtra,
  type GradientTransformation,
  link,
  type RadiusExtra,
  type UpdateExtra,
  type UpdateNormExtra,
} from "./types.js";

/** What a ρ-controller link reads from `extra`: the radius callback (required). */
export type ControllerExtra = UpdateExtra & RadiusExtra;

/**
 * Which radii a controller asks for: the output softmax only, all of them (transformers:
 * output, attention and FFN), or the two softmax radii, output and attention, without the FFN
 * kink (`"output-attention"`: the published reference's "attn-out" controller).
 */
export type RadiusKind = "output" | "all" | "output-attention";

/** A radius a controller can be bound by. */
export type RadiusName = "output" | "attention" | "ffn";

/** The radii whose minimum drives a controller of each {@link RadiusKind}. */
export const RADII_OF_KIND: Readonly<Record<RadiusKind, readonly RadiusName[]>> = {
  output: ["output"],
  all: ["output", "attention", "ffn"],
  "output-attention": ["output", "attention"],
};

/**
 * The smallest of the radii `kind` asks for and its name (the first one on a tie, output
 * before attention before FFN). `radii` holds the measured ones; a radius the kind asks for
 * but that was not measured counts as +∞.
 */
export function bindingRadius(
  kind: RadiusKind,
  radii: Partial<Record<RadiusName, number>>,
): [binding: RadiusName, rho: number] {
  let best: [RadiusName, number] = ["output", radii.output ?? Number.POSITIVE_INFINITY];
  for (const name of RADII_OF_KIND[kind]) {
    const rho = radii[name] ?? Number.POSITIVE_INFINITY;
    if (rho < best[1]) best = [name, rho];
  }
  return best;
}

/** A radius estimate along a direction, and which bound produced it. */
export interface ControllerRadius {
  /** The radius `ρ` along the direction, in parameter-space length units (may be Infinity). */
  rho: number;
  /** Which radius was smallest (`"output"`, `"attention"`, `"ffn"`), for telemetry. */
  binding?: string;
}

/**
 * Radius along the (unnormalised) update `p`, supplied by the training loop in
 * `extra.radius`. `p` is **borrowed** (copy what you keep); `norm = ‖p‖ > 0` is
 * passed so the callback can normalise without recomputing it. Because the directional
 * derivative is linear in the direction, `a(p/‖p‖) = a(p)/‖p‖`.
 */
export type RadiusCallback = (p: ArrayTree, norm: number, kind: RadiusKind) => ControllerRadius;

/** What a controller did this step, reported through `extra.onControl`. */
export interface ControlReport {
  /** Controller name (`"rhoClip"`, `"rhoSet"`). */
  controller: string;
  /** Length of the proposed update `‖p‖` (for ρ-set: of the unscaled direction `‖u‖`). */
  proposedNorm: number;
  /** Radius along the update. */
  rho: number;
  /** Factor the update was multiplied by (ρ-set: the learning rate η, with sign folded in). */
  scale: number;
  /** Length of the update actually returned, `τ`. */
  tau: number;
  /** Which radius bound, when reported by the callback. */
  binding?: string;
  /**
   * `rhoClipGrad` only: the step length it compares with the radius, `lr·‖g‖` (the gradient
   * step's length, not the update's); `rho` is then the radius along the gradient.
   */
  gradientStep?: number;
}

/** ‖p‖: precomputed by a fused prefix (`extra.updateNorm`) or read from the device. */
export function updateNorm(updates: ArrayTree, extra: UpdateNormExtra | undefined): number {
  const given = extra?.updateNorm;
  return typeof given === "number" ? given : treeGlobalNormHost(updates);
}

function radiusFrom(extra: Partial<RadiusExtra> | undefined, who: string): RadiusCallback {
  // Typed callers cannot omit it; the check is for plain JavaScript.
  const cb = extra?.radius;
  if (typeof cb !== "function") {
    throw new Error(`${who}: the training loop must pass extra.radius (a RadiusCallback)`);
  }
  return cb as RadiusCallback;
}

/** Hands a controller link's {@link ControlReport} to the loop (`extra.onControl`), if it listens. */
export function reportControl(extra: ControlExtra | undefined, r: ControlReport): void {
  const cb = extra?.onControl;
  if (typeof cb === "function") cb(r);
}

/**
 * A host-side link that keeps no state and ignores the parameters: `step` BORROWS the updates
 * and the extra and returns either the same tree (passed through) or a new one made with the
 * engine's borrowing ops (`op.scaleTreeByHost`, …); it runs in the link's tidy, so it does no
 * bookkeeping.
 */
export function statelessLink<E extends UpdateExtra = UpdateExtra>(
  step: <U extends ArrayTree>(updates: U, extra: E | undefined) => U,
): GradientTransformation<E> {
  return link<E>({
    init: () => ({}),
    update: (updates, _state, _params, ...rest) => [step(updates, rest[0] as E | undefined), {}],
  });
}

/** Options of {@link rhoClip}. */
export interface RhoClipOptions {
  /** Largest allowed normalised step `r = τ/ρ` (default 1, the theory's boundary; 0.5 is a conservative start). */
  rMax?: number;
  /** `"output"` (default), `"all"` (the all-radii controller) or `"output-attention"`. */
  radius?: RadiusKind;
}

/**
 * ρ-clip, the safety clip: `s = min(1, rMax·ρ(p/‖p‖)/‖p‖)`, returns `s·p`. The replacement
 * for gradient-norm clipping, for any optimizer chain (it must be the last link). A zero
 * update or an infinite radius (all slopes equal) is passed through unchanged.
 */
export function rhoClip(options: RhoClipOptions = {}): GradientTransformation<ControllerExtra> {
  const rMax = options.rMax ?? 1;
  if (!(rMax > 0) || !Number.isFinite(rMax)) {
    throw new RangeError(`rhoClip: rMax must be a positive finite number, got ${rMax}`);
  }
  const kind = options.radius ?? "output";
  return statelessLink<ControllerExtra>((updates, extra) => {
    const norm = updateNorm(updates, extra);
    if (!(norm > 0)) {
      reportControl(extra, {
        controller: "rhoClip",
        proposedNorm: norm,
        rho: Number.POSITIVE_INFINITY,
        scale: 1,
        tau: norm,
      });
      return updates;
    }
    const { rho, binding } = radiusFrom(extra, "rhoClip")(updates, norm, kind);
    const s = Math.min(1, (rMax * rho) / norm);
    reportControl(extra, {
      controller: "rhoClip",
      proposedNorm: norm,
      rho,
      scale: s,
      tau: s * norm,
      binding,
    });
    return s < 1 ? op.scaleTreeByHost(updates, s) : updates;
  });
}

/** What {@link rhoClipGrad} reads from `extra`: the radius callback and the raw gradient. */
export type GradientControllerExtra = ControllerExtra & GradientExtra;

function gradientFrom(extra: Partial<GradientExtra> | undefined, who: string): GradientExtra {
  const e = extra ?? {};
  if (typeof e.grad !== "object" || e.grad === null || typeof e.gradNorm !== "number") {
    throw new Error(`${who}: the training loop must pass extra.grad and extra.gradNorm`);
  }
  if (
    !(typeof e.learningRate === "number" && e.learningRate > 0 && Number.isFinite(e.learningRate))
  ) {
    throw new Error(
      `${who}: needs extra.learningRate, a positive learning rate (build the optimizer from a spec ` +
        `with a learning rate), got ${String(e.learningRate)}`,
    );
  }
  return e as GradientExtra;
}

/**
 * ρ-clip as the published reference controls Adam: the radius is measured along the
 * normalised gradient direction −g/‖g‖ (not along the update), compared with the gradient
 * step's length `τ_g = lr·‖g‖`, and the update the optimizer proposes — Adam's — is
 * multiplied by `s = min(1, rMax·ρ(g/‖g‖)/τ_g)`, i.e. Adam's learning rate is rescaled by
 * `s`. The step actually taken, `s·‖p‖`, is therefore NOT bounded by ρ along itself: Adam's
 * step differs from the gradient step in direction and length (early in training ‖p‖ ≈
 * lr·√dim ≫ lr·‖g‖ is common). {@link rhoClip} is the variant that bounds the real step.
 *
 * Any convergence radius is symmetric under flipping the direction (F(θ − t·v) is F(θ + t·v)
 * at −t), so the callback is given `g` itself with norm ‖g‖; the radius is that along −g.
 * A zero gradient (or step) is passed through unchanged, as is an infinite radius.
 * Reported `tau` is the length of the update returned; `gradientStep` is `τ_g`.
 */
export function rhoClipGrad(
  options: RhoClipOptions = {},
): GradientTransformation<GradientControllerExtra> {
  const rMax = options.rMax ?? 1;
  if (!(rMax > 0) || !Number.isFinite(rMax)) {
    throw new RangeError(`rhoClipGrad: rMax must be a positive finite number, got ${rMax}`);
  }
  const kind = options.radius ?? "output";
  return statelessLink<GradientControllerExtra>((updates, extra) => {
    const { grad, gradNorm, learningRate } = gradientFrom(extra, "rhoClipGrad");
    const norm = updateNorm(updates, extra);
    const gradientStep = learningRate * gradNorm;
    if (!(gradNorm > 0) || !(norm > 0)) {
      reportControl(extra, {
        controller: "rhoClipGrad",
        proposedNorm: norm,
        rho: Number.POSITIVE_INFINITY,
        scale: 1,
        tau: norm,
        gradientStep,
      });
      return updates;
    }
    const { rho, binding } = radiusFrom(extra, "rhoClipGrad")(grad, gradNorm, kind);
    const s = Math.min(1, (rMax * rho) / gradientStep);
    reportControl(extra, {
      controller: "rhoClipGrad",
      proposedNorm: norm,
      rho,
      scale: s,
      tau: s * norm,
      binding,
      gradientStep,
    });
    return s < 1 ? op.scaleTreeByHost(updates, s) : updates;
  });
}

/** Options of {@link rhoSet}. */
export interface RhoSetOptions {
  /** Target normalised step `r = τ/ρ` (e.g. 0.5–2). */
  rTarget: number;
  /** `"output"` (default), `"all"` (the all-radii controller) or `"output-attention"`. */
  radius?: RadiusKind;
  /**
   * Learning-rate cap, used also when the radius is infinite (all slopes equal); default
   * Infinity, in which case such a step is left at zero length rather than made infinite.
   */
  maxLearningRate?: number;
  /**
   * Decoupled weight decay `wd` applied with the chosen rate (default 0): the step is
   * `−η·(u + wd·θ)` with η set from the radius along `u` alone — PyTorch's `AdamW` whose
   * learning rate the controller sets each step. (AdamW's own direction link would put
   * `wd·θ` inside `u`, so inside the probed direction.)
   */
  weightDecay?: number;
}

/**
 * ρ-set, schedule-free: from the optimizer's unscaled ascent direction `u` (gradient,
 * momentum buffer or Adam's `m̂/(√v̂+ε)`), sets `η = rTarget·ρ(u/‖u‖)/‖u‖` and returns `−η·u`,
 * so the applied step has length exactly `τ = rTarget·ρ`. Use it in place of the
 * learning-rate link: `chain(scaleByAdam(), rhoSet({rTarget: 1}))`.
 */
export function rhoSet(options: RhoSetOptions): GradientTransformation<ControllerExtra> {
  const { rTarget } = options;
  if (!(rTarget > 0) || !Number.isFinite(rTarget)) {
    throw new RangeError(`rhoSet: rTarget must be a positive finite number, got ${rTarget}`);
  }
  const cap = options.maxLearningRate ?? Number.POSITIVE_INFINITY;
  if (!(cap > 0)) throw new RangeError(`rhoSet: maxLearningRate must be positive, got ${cap}`);
  const kind = options.radius ?? "output";
  const wd = options.weightDecay ?? 0;
  if (!(wd >= 0) || !Number.isFinite(wd)) {
    throw new RangeError(`rhoSet: weightDecay must be a finite number >= 0, got ${wd}`);
  }
  const setStep = <U extends ArrayTree>(
    updates: U,
    params: ArrayTree | undefined,
    extra: ControllerExtra | undefined,
  ): U => {
    const norm = updateNorm(updates, extra);
    if (!(norm > 0)) {
      reportControl(extra, {
        controller: "rhoSet",
        proposedNorm: norm,
        rho: Number.POSITIVE_INFINITY,
        scale: 0,
        tau: 0,
      });
      return op.scaleTreeByHost(updates, 0);
    }
    const { rho, binding } = radiusFrom(extra, "rhoSet")(updates, norm, kind);
    let eta = Math.min((rTarget * rho) / norm, cap);
    if (!Number.isFinite(eta)) eta = 0;
    reportControl(extra, {
      controller: "rhoSet",
      proposedNorm: norm,
      rho,
      scale: eta,
      tau: eta * norm,
      binding,
    });
    if (wd === 0) return op.scaleTreeByHost(updates, -eta);
    if (params === undefined) throw new Error("rhoSet: weightDecay needs the parameters");
    const decayed = op.map((u, p) => op.add(u, op.mul(p, wd)), updates, params);
    return op.scaleTreeByHost(decayed, -eta);
  };
  if (wd === 0) return statelessLink<ControllerExtra>((u, extra) => setStep(u, undefined, extra));
  return link<ControllerExtra>({
    init: () => ({}),
    update: (updates, _state, params, ...rest) => [
      setStep(updates, params, rest[0] as ControllerExtra | undefined),
      {},
    ],
  });
}

/** Options of {@link allRadii}. */
export interface AllRadiiOptions {
  /** `"set"`: schedule-free (needs `rTarget`); `"clip"`: safety clip (uses `rMax`). */
  mode: "set" | "clip";
  /**
   * Which radii: `"all"` (default: ρ_out, ρ_attn, ρ_ffn) or `"output-attention"` (ρ_out and
   * ρ_attn only: the published reference's "attn-out" controller).
   */
  radii?: "all" | "output-attention";
  /** `"set"` mode: decoupled weight decay applied with the chosen rate (see {@link RhoSetOptions}). */
  weightDecay?: number;
  /** Target r for `"set"` mode. */
  rTarget?: number;
  /** Cap on r for `"clip"` mode (default 1). */
  rMax?: number;
  /** Learning-rate cap for `"set"` mode. */
  maxLearningRate?: number;
}

/**
 * The all-radii controller for transformers: ρ-set or ρ-clip driven by
 * `ρ_net = min(ρ_out, ρ_attn, ρ_ffn)` (docs/science.md §3), or by `min(ρ_out, ρ_attn)` with
 * `radii: "output-attention"`. The callback reports which one binds.
 */
export function allRadii(options: AllRadiiOptions): GradientTransformation<ControllerExtra> {
  const radius = options.radii ?? "all";
  if (radius !== "all" && radius !== "output-attention") {
    throw new RangeError(
      `allRadii: radii must be "all" or "output-attention", got ${JSON.stringify(radius)}`,
    );
  }
  if (options.mode === "clip") {
    if (options.weightDecay !== undefined) {
      throw new RangeError("allRadii: weightDecay belongs to the optimizer in mode 'clip'");
    }
    return rhoClip({ rMax: options.rMax, radius });
  }
  if (options.rTarget === undefined) throw new RangeError("allRadii: mode 'set' needs rTarget");
  return rhoSet({
    rTarget: options.rTarget,
    maxLearningRate: options.maxLearningRate,
    radius,
    ...(options.weightDecay === undefined ? {} : { weightDecay: options.weightDecay }),
  });
}
