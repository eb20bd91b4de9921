/**
 * The gradient transformations (optax-style links). See `types.ts` for the ownership convention:
 * each link is written as a borrowing body (engine ops, `src/engine/ops.ts`) and given the
 * optax contract — `init` consumes `params`; `update` consumes `updates`, `state` and `params`
 * and borrows `extra` — by {@link link}.
 *
 * Every transform here is jittable as long as its schedules (if any) carry a device twin (see
 * `schedules.ts`): counts live on the device as int32 0-d arrays and nothing is read back.
 */
import type { DeviceArray as JaxArray } from "../engine/arrays.js";
import { type JsTree, tree } from "../engine/jax.js";
import * as op from "../engine/ops.js";
import { treeLeaves } from "../engine/tree.js";
import {
  incrementCount,
  initCount,
  type ScalarOrSchedule,
  type Schedule,
  scheduleValue,
} from "./schedules.js";
import {
  type ArrayTree,
  type EmptyState,
  type GradientTransformation,
  link,
  type OptState,
  type UpdateExtra,
} from "./types.js";

/** State of transforms that count their steps: the number of updates already made, int32 0-d. */
export interface CountState {
  [key: string]: JaxArray;
  /** Updates made so far (int32 0-d); the next update uses the schedule at this step. */
  count: JaxArray;
}

/** State of {@link trace}: the momentum buffer, shaped like the parameters. */
export interface TraceState {
  [key: string]: ArrayTree;
  /** The momentum buffer `buf`. */
  trace: ArrayTree;
}

/**
 * State of {@link scaleByAdam}: step count, first (`mu`) and second (`nu`) moments, and the
 * bias-correction denominators `debias1 = 1 − b1^t`, `debias2 = 1 − b2^t` (float32 0-d).
 */
export interface ScaleByAdamState {
  [key: string]: ArrayTree;
  /** Updates made so far, `t` (int32 0-d). */
  count: JaxArray;
  /** First moment `m` (not bias-corrected). */
  mu: ArrayTree;
  /** Second moment `v` (not bias-corrected). */
  nu: ArrayTree;
  /** `1 − b1^t`. */
  debias1: JaxArray;
  /** `1 − b2^t`. */
  debias2: JaxArray;
}

/** A fresh empty state (for stateless links). */
function emptyState(): EmptyState {
  return {};
}

/** The no-op transformation: returns the updates unchanged and keeps no state. */
export function identity(): GradientTransformation {
  return link({
    init: () => emptyState(),
    update: (updates) => [updates, emptyState()],
  });
}

/** Replace the updates by zeros (freezes parameters). Keeps no state. */
export function setToZero(): GradientTransformation {
  return link({
    init: () => emptyState(),
    update: (updates) => [op.zerosLikeTree(updates), emptyState()],
  });
}

/** Multiply the updates by a constant factor `s`. Keeps no state. */
export function scale(s: number): GradientTransformation {
  return link({
    init: () => emptyState(),
    update: (updates) => [op.scaleTree(updates, s), emptyState()],
  });
}

/**
 * Multiply the updates by `schedule(step)`, step counted from 0 (the first update uses
 * `schedule(0)`). State: {@link CountState}. Jittable when the schedule has a device twin.
 */
export function scaleBySchedule(schedule: Schedule): GradientTransformation {
  return link({
    init: () => ({ count: initCount() }) satisfies CountState,
    update(updates, state) {
      const { count } = state as CountState;
      const out = op.scaleTree(updates, scheduleValue(schedule, count));
      return [out, { count: incrementCount(count) } satisfies CountState];
    },
  });
}

/** Negate a schedule's values on host and device. */
function negateSchedule(schedule: Schedule): Schedule {
  const device = schedule.device;
  const host = (step: number) => -schedule(step);
  if (!device) return host;
  const negated = op.consumingFn((count: JaxArray) => op.mul(op.call(device, count), -1));
  return Object.assign(host, { device: negated });
}

/**
 * Scale by the learning rate (a constant or a schedule) with the sign flipped by default, so that
 * {@link applyUpdates} descends: `updates ← −lr · updates`.
 */
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule,
  flipSign = true,
): GradientTransformation {
  if (typeof learningRate === "number") return scale(flipSign ? -learningRate : learningRate);
  return scaleBySchedule(flipSign ? negateSchedule(learningRate) : learningRate);
}

/** What {@link scaleByExtra} reads: `extra[key]`, a number or a borrowed 0-d array. */
export type ScaleByExtraArgs<K extends string> = UpdateExtra & {
  readonly [k in K]: number | JaxArray;
};

/** Options of {@link scaleByExtra}. */
export interface ScaleByExtraOptions {
  /** Multiply by `−value` instead (a learning rate passed in). Default false. */
  flipSign?: boolean;
}

/**
 * Multiply the updates by `extra[key]`, a JS number or a 0-d array (borrowed), supplied by the
 * caller at each `update`. This is how a per-step value computed outside the chain (a host-side
 * schedule, a controller's step size) enters a jitted update as a traced scalar argument.
 * The key is part of the link's type, so a missing value is a compile error (and a run-time
 * throw for plain JavaScript). Keeps no state.
 */
export function scaleByExtra<K extends string>(
  key: K,
  opts: ScaleByExtraOptions = {},
): GradientTransformation<ScaleByExtraArgs<K>> {
  const sign = opts.flipSign ? -1 : 1;
  return link({
    init: () => emptyState(),
    update(updates, _state, _params, ...rest) {
      const value: unknown = rest[0]?.[key];
      if (typeof value === "number" || op.isArrayValue(value)) {
        const factor =
          typeof value === "number" ? sign * value : sign === 1 ? value : op.mul(value, sign);
        return [op.scaleTree(updates, factor), emptyState()];
      }
      throw new Error(`scaleByExtra: extra.${key} must be a number or a 0-d array`);
    },
  });
}

/** Options of {@link trace}. */
export interface TraceOptions {
  /** Momentum coefficient μ. Default 0.9. */
  decay?: number;
  /** Nesterov momentum. Default false. */
  nesterov?: boolean;
}

/**
 * Momentum, with PyTorch `SGD(momentum=μ, dampening=0)` semantics (identical to optax `trace`):
 * `buf ← μ·buf + g`; the output is `g + μ·buf` with `nesterov`, else `buf` (heavy ball).
 * State: {@link TraceState}; its `trace` is the momentum buffer (the ρ-set "unscaled direction"
 * for momentum SGD is exactly this link's output).
 */
export function trace({
  decay = 0.9,
  nesterov = false,
}: TraceOptions = {}): GradientTransformation {
  return link({
    init: (params) => ({ trace: op.zerosLikeTree(params) }) satisfies TraceState,
    update(updates, state) {
      const { trace: prev } = state as TraceState;
      const buf = op.map((g, t) => op.add(op.mul(t, decay), g), updates, prev);
      // Heavy ball hands out the buffer itself (as the update and as the state).
      const out = nesterov ? op.map((g, b) => op.add(op.mul(b, decay), g), updates, buf) : buf;
      return [out, { trace: buf } satisfies TraceState];
    },
  });
}

/** Options of {@link scaleByAdam}. */
export interface ScaleByAdamOptions {
  /** Decay of the first moment. Default 0.9. */
  b1?: number;
  /** Decay of the second moment. Default 0.999. */
  b2?: number;
  /** Added to `√v̂` in the denominator. Default 1e-8. */
  eps?: number;
  /** Added to `v̂` inside the square root (optax `eps_root`). Default 0. */
  epsRoot?: number;
  /** Nesterov (NAdam-style, as optax) first moment. Default false. */
  nesterov?: boolean;
}

/** `1 − b^0 = 0`: the initial bias-correction denominator, float32 0-d. */
function initDebias(): JaxArray {
  return op.scalar(0, op.dtypes.float32);
}

/**
 * Advance a bias-correction denominator `d = 1 − b^t` to `1 − b^(t+1) = b·d + (1 − b)` (consumes
 * `d`, borrowed). The recurrence is a contraction, so float32 keeps full relative accuracy, whereas forming
 * `1 − b^t` directly loses four digits at `b = 0.999` in the first steps. Two scalar ops, jittable.
 */
function advanceDebias(b: number, d: JaxArray): JaxArray {
  return op.add(op.mul(d, b), 1 - b);
}

/**
 * Adam's direction `m̂ / (√(v̂ + epsRoot) + eps)` with bias correction `m̂ = m/(1−b1^t)`,
 * `v̂ = v/(1−b2^t)`, t the 1-based step — the same quantity PyTorch's `Adam` and optax's
 * `scale_by_adam` divide the learning rate into. No learning rate, no sign: this *is* the
 * unscaled direction `u` the ρ-set controller needs (chain it without a learning-rate link).
 * State: {@link ScaleByAdamState}.
 */
export function scaleByAdam({
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
  epsRoot = 0,
  nesterov = false,
}: ScaleByAdamOptions = {}): GradientTransformation {
  for (const [name, b] of [
    ["b1", b1],
    ["b2", b2],
  ] as const) {
    if (!(b >= 0 && b < 1)) throw new Error(`scaleByAdam: ${name} must be in [0, 1), got ${b}`);
  }
  return link({
    init(params) {
      const mu = op.zerosLikeTree(params);
      const nu = op.zerosLikeTree(params);
      return {
        count: initCount(),
        mu,
        nu,
        debias1: initDebias(),
        debias2: initDebias(),
      } satisfies ScaleByAdamState;
    },
    update(updates, state) {
      const old = state as ScaleByAdamState;
      const mu = op.map((g, m) => op.add(op.mul(m, b1), op.mul(g, 1 - b1)), updates, old.mu);
      const nu = op.map(
        (g, v) => op.add(op.mul(v, b2), op.mul(op.square(g), 1 - b2)),
        updates,
        old.nu,
      );
      const count = incrementCount(old.count);
      const debias1 = advanceDebias(b1, old.debias1);
      const debias2 = advanceDebias(b2, old.debias2);
      const c2 = op.reciprocal(debias2);
      const denom = (v: JaxArray) => {
        const vHat = op.mul(v, c2);
        return op.add(op.sqrt(epsRoot === 0 ? vHat : op.add(vHat, epsRoot)), eps);
      };
      let out: typeof updates;
      if (nesterov) {
        // m̂ = b1·m/(1−b1^(t+1)) + (1−b1)·g/(1−b1^t)
        const cm = op.mul(op.reciprocal(advanceDebias(b1, debias1)), b1);
        const cg = op.mul(op.reciprocal(debias1), 1 - b1);
        out = op.map(
          (g, m, v) => op.div(op.add(op.mul(m, cm), op.mul(g, cg)), denom(v)),
          updates,
          mu,
          nu,
        );
      } else {
        const c1 = op.reciprocal(debias1);
        out = op.map((m, v) => op.div(op.mul(m, c1), denom(v)), mu as typeof updates, nu);
      }
      return [out, { count, mu, nu, debias1, debias2 } satisfies ScaleByAdamState];
    },
  });
}

/** Leaves to decay: a tree of booleans shaped like the parameters, or a function building one. */
export type DecayMask = JsTree<boolean> | ((params: ArrayTree) => JsTree<boolean>);

/** Options of {@link addDecayedWeights}. */
export interface AddDecayedWeightsOptions {
  /** Decoupled weight-decay coefficient (constant or schedule). Default 0. */
  weightDecay?: ScalarOrSchedule;
  /**
   * Which leaves decay: a tree of JS booleans with the parameters' structure, or a function of the
   * (borrowed) parameters returning one. Leaves marked `false` (biases, norms…) are left alone.
   * Default: every leaf.
   */
  mask?: DecayMask | null;
}

/** Flatten a mask (tree of booleans, or a function of the borrowed params building one). */
function maskLeaves(mask: DecayMask, params: ArrayTree, count: number): boolean[] {
  const built = typeof mask === "function" ? mask(params) : mask;
  const leaves: unknown[] = tree.leaves(built);
  if (leaves.length !== count || leaves.some((x) => typeof x !== "boolean")) {
    throw new Error(
      `addDecayedWeights: mask must be a tree of ${count} booleans shaped like the parameters`,
    );
  }
  return leaves as boolean[];
}

/**
 * Decoupled weight decay (AdamW): `updates ← updates + wd·params`, placed *before* the
 * learning-rate link as in optax's `adamw`, so the applied step is `−lr·(u + wd·θ)` — identical to
 * PyTorch's `AdamW`. Requires `params`. Accepts the options object (upstream signature) or just the
 * coefficient. State: {@link CountState} for a scheduled decay, empty otherwise.
 */
export function addDecayedWeights(
  opts: AddDecayedWeightsOptions | number = {},
): GradientTransformation {
  const { weightDecay = 0, mask = null } = typeof opts === "number" ? { weightDecay: opts } : opts;
  const scheduled = typeof weightDecay === "function";
  return link({
    init: () => (scheduled ? ({ count: initCount() } satisfies CountState) : emptyState()),
    update(updates, state, params) {
      if (params === undefined) throw new Error("addDecayedWeights requires params to be provided");
      let newState: OptState;
      let wd: number | JaxArray;
      if (scheduled) {
        const { count } = state as CountState;
        wd = scheduleValue(weightDecay, count);
        newState = { count: incrementCount(count) } satisfies CountState;
      } else {
        wd = weightDecay as number;
        newState = emptyState();
      }
      if (wd === 0) return [updates, newState];
      const pLeaves = treeLeaves(params);
      if (pLeaves.length !== treeLeaves(updates).length) {
        throw new Error("addDecayedWeights: params and updates differ in structure");
      }
      const decay = mask === null ? null : maskLeaves(mask, params, pLeaves.length);
      const out = op.mapLeaves(
        (u, i) => (decay !== null && !decay[i] ? u : op.add(u, op.mul(pLeaves[i]!, wd))),
        updates,
      );
      return [out, newState];
    },
  });
}

/**
 * Clip the updates to global L2 norm at most `maxNorm` (optax `clip_by_global_norm`): unchanged
 * when `‖u‖ < maxNorm`, else scaled by `maxNorm/‖u‖`. The gradient-norm-clipping baseline.
 * Keeps no state.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation {
  if (!(maxNorm > 0)) throw new Error(`clipByGlobalNorm: maxNorm must be > 0, got ${maxNorm}`);
  return link({
    init: () => emptyState(),
    update(updates) {
      const norm = op.globalNorm(updates);
      const factor = op.where(
        op.less(norm, maxNorm),
        1,
        op.div(op.scalar(maxNorm, op.dtypes.float32), norm),
      );
      return [op.scaleTree(updates, factor), emptyState()];
    },
  });
}
