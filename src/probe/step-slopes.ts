/**
 * The full-set gradient, the directions a first training step would take from it, and one
 * sample's logit slopes along them: the measurements behind the explorer's ghost plane and
 * the one-step experiments' gradient and random directions, in one place.
 *
 * Ownership follows `src/engine`: every function borrows its arguments; the trees returned
 * by {@link fullGradient} and {@link seededUnitDirection} are the caller's, and
 * {@link sampleStepSlopes} returns host arrays only, having released every intermediate.
 */
import {
  type DeviceArray,
  type FloatDType,
  floatDtypeOf,
  labelsToDevice,
  toDevice,
} from "../engine/arrays.js";
import { lossAndGrad, sliceRows } from "../engine/compute.js";
import { initLink, tidy, updateLink } from "../engine/ops.js";
import { Holder, scoped } from "../engine/scope.js";
import {
  axpyTree,
  normTree,
  scaleTree,
  treeLeaves,
  treeSize,
  unflattenFromHost,
} from "../engine/tree.js";
import type { Model, ModelState, Params } from "../models/types.js";
import { adamDirection, sgdDirection } from "../optim/alias.js";
import { Rng } from "../util/random.js";
import { directionalLogitDerivatives, ProbeError } from "./directional.js";

/** Options of {@link fullGradient}. */
export interface FullGradientOptions {
  /**
   * Forward mode of the gradient (default `"eval"`: BatchNorm uses its running statistics, so
   * the gradient is that of the function the probes evaluate; `"train"` uses per-chunk batch
   * statistics).
   */
  mode?: "eval" | "train";
  /** Samples per device call (default 2048); the gradient is the size-weighted mean over chunks. */
  chunk?: number;
  /** Overrides the model's configured temperature. */
  temperature?: number;
}

/** What {@link fullGradient} returns. */
export interface FullGradient {
  /** ∇L at the parameters, params-shaped (the caller's). */
  grads: Params;
  /** Mean cross-entropy over the sample set at the parameters. */
  loss: number;
}

/**
 * The gradient of the mean cross-entropy over a whole sample set (`x` [n, inputDim] on the
 * device, host labels `y`), computed in chunks and combined as the size-weighted mean (one
 * chunk: that chunk's gradient, no copy). Borrows everything.
 *
 * @throws {ProbeError} for an empty sample set.
 */
export function fullGradient(
  model: Model,
  params: Params,
  state: ModelState,
  x: DeviceArray,
  y: Int32Array,
  opts: FullGradientOptions = {},
): FullGradient {
  const n = x.shape[0]!;
  if (n === 0) throw new ProbeError("fullGradient: empty sample set");
  const chunk = Math.max(1, opts.chunk ?? 2048);
  const sum = new Holder<Params>();
  let loss = 0;
  try {
    for (let start = 0; start < n; start += chunk) {
      const end = Math.min(n, start + chunk);
      scoped((scope) => {
        const xb = scope.own(sliceRows(x, start, end));
        const yb = scope.own(labelsToDevice(y.subarray(start, end)));
        const lg = lossAndGrad(model, params, state, xb, yb, {
          mode: opts.mode ?? "eval",
          temperature: opts.temperature,
        });
        scope.own(lg.state);
        const w = (end - start) / n;
        loss += w * lg.loss;
        if (!sum.held && n === end - start) {
          sum.set(lg.grads);
          return;
        }
        scope.own(lg.grads);
        sum.set(sum.held ? axpyTree(w, lg.grads, sum.get()) : scaleTree(lg.grads, w));
      });
    }
  } catch (err) {
    sum.release();
    throw err;
  }
  return { grads: sum.take(), loss };
}

/**
 * A seeded unit Gaussian direction shaped like `params`: i.i.d. standard normals over every
 * parameter (drawn on the host in float64, in sorted key-path order), divided by their joint
 * norm. Same seed → same direction, whatever the dtype. Borrows `params`; the tree is the
 * caller's.
 *
 * @throws {ProbeError} for an empty params tree.
 */
export function seededUnitDirection(params: Params, seed: number): Params {
  const m = treeSize(params);
  if (m === 0) throw new ProbeError("seededUnitDirection: params tree is empty");
  const rng = new Rng(seed).fork("one-step/random-direction");
  const values = new Float64Array(m);
  let ss = 0;
  for (let i = 0; i < m; i++) {
    const z = rng.normal();
    values[i] = z;
    ss += z * z;
  }
  const inv = 1 / Math.sqrt(ss);
  for (let i = 0; i < m; i++) values[i] *= inv;
  return unflattenFromHost(params, values);
}

/**
 * A direction of a first training step: `"sgd"` is plain SGD's (−∇L), `"adam"` Adam's first
 * step from a fresh state (−m̂/(√v̂+ε) = −∇L/(|∇L|+ε) elementwise, after bias correction),
 * both with ∇L over the full gradient set; `"random"` is {@link seededUnitDirection}.
 */
export type StepDirectionKind = "sgd" | "adam" | "random";

/** Options of {@link sampleStepSlopes}. */
export interface SampleStepSlopesOptions {
  /** Which direction to probe along. */
  direction: StepDirectionKind;
  /**
   * The samples whose mean-loss gradient defines the `"sgd"` and `"adam"` directions
   * (typically the training split; features row-major [n, d]). Unused for `"random"`.
   */
  gradientSet?: { x: Float64Array; n: number; d: number; y: Int32Array };
  /** Seed of the `"random"` direction (default 0). */
  seed?: number;
  /** How the gradient is computed (default: eval mode, the model's temperature). */
  gradient?: FullGradientOptions;
}

/** What {@link sampleStepSlopes} returns (host values only). */
export interface SampleStepSlopes {
  /** The sample's logits z(x; θ), length k. */
  logits: Float64Array;
  /**
   * `dz_c/dτ` along the unit descending direction: a step of length τ moves the logits by
   * about τ·slopes. For `"random"` the direction is the seeded unit direction itself.
   */
  slopes: Float64Array;
  /** ‖v‖ of the direction probed, before it was made a unit one (≈1 for `"random"`). */
  directionNorm: number;
}

/** The update a first step of `kind` proposes (not yet negated), the caller's. */
function firstUpdate(kind: "sgd" | "adam", grads: Params, params: Params): Params {
  const link = kind === "adam" ? adamDirection() : sgdDirection();
  return tidy(() => {
    const state = initLink(link, params);
    const [update] = updateLink<Params>(link, grads, state, params);
    return update;
  });
}

/**
 * One sample's logits and their slopes along the unit direction of a first training step
 * (SGD's or Adam's, from the gradient over `gradientSet`) or along a seeded random unit
 * direction: the ghost plane's measurement. Each call uploads `gradientSet`, computes the
 * gradient and the direction, runs one JVP for the sample, and releases all of it before it
 * returns. Borrows `params` and `state`.
 *
 * @throws {ProbeError} for a sample of the wrong length, a missing gradient set, or a zero or
 *   non-finite direction.
 */
export function sampleStepSlopes(
  model: Model,
  params: Params,
  state: ModelState,
  sample: ArrayLike<number>,
  opts: SampleStepSlopesOptions,
): SampleStepSlopes {
  const d = model.config.inputDim;
  if (sample.length !== d) {
    throw new ProbeError(`sampleStepSlopes: expected ${d} features, got ${sample.length}`);
  }
  const first = treeLeaves(params)[0];
  if (first === undefined) throw new ProbeError("sampleStepSlopes: params tree is empty");
  const dtype: FloatDType = floatDtypeOf(first);
  const kind = opts.direction;
  return scoped((scope) => {
    let direction: Params;
    if (kind === "random") {
      direction = scope.own(seededUnitDirection(params, opts.seed ?? 0));
    } else {
      const g = opts.gradientSet;
      if (g === undefined) {
        throw new ProbeError(`sampleStepSlopes: the "${kind}" direction needs a gradientSet`);
      }
      const xs = scope.own(toDevice(g.x, [g.n, g.d], dtype));
      const grads = scope.own(fullGradient(model, params, state, xs, g.y, opts.gradient).grads);
      direction = scope.own(firstUpdate(kind, grads, params));
    }
    const norm = normTree(direction);
    if (!(norm > 0) || !Number.isFinite(norm)) {
      throw new ProbeError(`sampleStepSlopes: the ${kind} direction has norm ${norm}`);
    }
    const x = scope.own(toDevice(sample, [1, d], dtype));
    const probe = directionalLogitDerivatives(model, params, state, direction, x, {
      temperature: opts.gradient?.temperature,
    });
    // The update is applied with a minus sign: descending along it is the step's direction.
    const scale = (kind === "random" ? 1 : -1) / norm;
    const slopes = Float64Array.from(probe.a, (v) => v * scale);
    return { logits: probe.logits, slopes, directionNorm: norm };
  });
}
