/**
 * Core types of the composable optimizers (optax style, on jax-js).
 *
 * ## Ownership (see the convention in `src/engine/index.ts`)
 *
 * Links follow the `@jax-js/optax` contract (consuming, so that a whole chain traces into one
 * `jit`), but no link counts references: each is written as a borrowing body with the engine's
 * ops (`src/engine/ops.ts`) and wrapped by {@link link}, which runs it in a tidy and consumes
 * its arguments. The contract the wrapped link has:
 *
 * - `init(params)` **consumes** `params`.
 * - `update(updates, state, params?, extra?)` **consumes** `updates`, `state` and `params`, and
 *   returns a freshly owned `[newUpdates, newState]` tuple. The old `state` must not be used again.
 * - `extra` is **borrowed**, and so is everything inside it; the same object is handed to every
 *   link of a {@link chain}.
 * - `applyUpdates(params, updates)` consumes both and returns the new parameters.
 *
 * The tree arithmetic links use (`treeScale`, `treeGlobalNorm`, … from `src/engine/tree.ts`)
 * borrows, like every helper of the engine.
 *
 * Consuming links are what lets `jit`/`grad` trace a chain (tracers are reference
 * counted the same way), so a whole "gradient → optimizer → controller → apply" step can later be
 * fused into one `jit`.
 */
import { withBody } from "../engine/ops.js";
import type { ArrayTree } from "../engine/tree.js";
import type { ControlReport, RadiusCallback } from "./controllers.js";
import type { LossExtra } from "./loss-extra.js";

/** The pytree of arrays parameters, gradients and updates share (the engine's one type). */
export type { ArrayTree };

/** The internal state of a transformation; an opaque pytree of arrays (no JS numbers, so it can cross a `jit` boundary). */
export type OptState = ArrayTree;

/**
 * Extra arguments of a link's `update`, named by what a link needs — optax's named extra
 * args (`value`, `grad`, `value_fn`). A link declares the ones it reads in its type,
 * `GradientTransformation<RadiusExtra & ControlExtra>`, so calling it without them is a
 * compile error; {@link chain} asks for the union of what its links need. Everything inside
 * an extra is borrowed. (Type aliases rather than interfaces, so that they intersect with
 * {@link UpdateExtra}.) {@link TrainingExtra} is what the training loop passes every step.
 */
export type RadiusExtra = {
  /** The radius along a direction (the ρ-controllers call it with their proposed update). */
  readonly radius: RadiusCallback;
};

/**
 * The step's raw gradient and learning rate, for links that judge the step by the gradient
 * rather than by the update they receive (the published ρ-controller, `rhoClipGrad`).
 */
export type GradientExtra = {
  /** ∇f(θ) of the batch, the chain's input (borrowed). */
  readonly grad: ArrayTree;
  /** ‖∇f(θ)‖. */
  readonly gradNorm: number;
  /**
   * The optimizer spec's learning rate at this step, spikes included (NaN when the chain was
   * not built from a spec, or has no learning rate, as ρ-set).
   */
  readonly learningRate: number;
};

/** Optional listener a controller-like link reports to. */
export type ControlExtra = {
  /** Receives what a controller (ρ-clip, ρ-set, Armijo, Polyak) did this step. */
  readonly onControl?: (report: ControlReport) => void;
};

/** The update's length, when a fused prefix already knows it. */
export type UpdateNormExtra = {
  /** ‖u‖ of the incoming updates, precomputed by a fused prefix (see `jitChain`). */
  readonly updateNorm?: number;
  /** Receives ‖u‖ of a fused chain's final updates, when it has no host links. */
  readonly onUpdateNorm?: (norm: number) => void;
};

/**
 * The extra every link may receive (the default of {@link GradientTransformation}): all keys
 * optional. It is closed: a link that reads anything else declares it in its type
 * ({@link RadiusExtra}, {@link GradientExtra}, `LossExtra`, `ScaleByExtraArgs`), and
 * {@link chain} asks for the intersection, so a misspelt or missing key is a compile error.
 * (At run time {@link chain} hands one object to every link; each reads only its own keys.)
 */
export type UpdateExtra = ControlExtra & UpdateNormExtra;

/** Everything the training loop passes to its chain on every step. */
export type TrainingExtra = UpdateExtra & RadiusExtra & LossExtra & GradientExtra;

/** The `extra` parameter: optional when `E` has no required key, required otherwise. */
// biome-ignore lint/complexity/noBannedTypes: `{}` is the "nothing required" test.
export type ExtraArg<E> = {} extends E ? [extra?: E] : [extra: E];

/** The state of a transformation that keeps none. */
export type EmptyState = Record<string, never>;

/**
 * A pair of pure functions implementing a gradient transformation (optax's `GradientTransformation`).
 *
 * The transformation holds no mutable state itself: `init` builds the state, each `update` consumes
 * the previous state and returns the next one. Updates have the same tree structure as the
 * parameters. The final updates of a chain are *added* to the parameters by {@link applyUpdates}
 * (so a learning-rate link carries the minus sign).
 */
export interface GradientTransformation<E = UpdateExtra> {
  /** Build the initial state from the parameters (consumed). */
  init<P extends ArrayTree>(params: P): OptState;
  /**
   * Transform `updates` (consumed) given the previous `state` (consumed) and optionally the current
   * `params` (consumed) and the borrowed `extra` the link declares in `E`; returns
   * `[newUpdates, newState]`.
   */
  update<U extends ArrayTree>(
    updates: U,
    state: OptState,
    params?: U,
    ...extra: ExtraArg<E>
  ): [U, OptState];
}

/**
 * A link from a borrowing body: `body.init`/`body.update` borrow everything and compute with
 * the engine's ops (`src/engine/ops.ts`); the result has the consuming contract above. The
 * body's returned trees may share leaves with its arguments (a pass-through) — the tidy hands
 * out new references for those.
 */
export function link<E = UpdateExtra>(body: GradientTransformation<E>): GradientTransformation<E> {
  return withBody(body);
}
