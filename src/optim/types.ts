/**
 * Core types of the composable optimizers (optax style, on `@jax-js/jax`).
 *
 * ## Ownership (see the convention in `src/engine/index.ts`)
 *
 * Links follow the `@jax-js/optax` contract, the one place above the engine that consumes:
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
import type { Array as JaxArray, JsTree } from "@jax-js/jax";
import type { ArrayTree } from "../engine/tree.js";

/** The pytree of arrays parameters, gradients and updates share (the engine's one type). */
export type { ArrayTree };

/** The internal state of a transformation; an opaque pytree of arrays (no JS numbers, so it can cross a `jit` boundary). */
export type OptState = JsTree<JaxArray>;

/**
 * Extra, per-step, borrowed information a link may read (optax's "extra args").
 *
 * {@link chain} forwards the *same* object to every link, so controller links placed last in a chain
 * (e.g. the ρ-clip / ρ-set links) can receive callbacks or scalars from the training loop, such as a
 * radius callback `extra.radius(direction)`, or a device scalar step size read by
 * {@link scaleByExtra}. Links ignore keys they do not know. Arrays inside are borrowed: take `.ref`
 * to use one.
 */
export type UpdateExtra = { readonly [key: string]: unknown };

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
export interface GradientTransformation {
  /** Build the initial state from the parameters (consumed). */
  init<P extends ArrayTree>(params: P): OptState;
  /**
   * Transform `updates` (consumed) given the previous `state` (consumed) and optionally the current
   * `params` (consumed) and borrowed `extra` information; returns `[newUpdates, newState]`.
   */
  update<U extends ArrayTree>(
    updates: U,
    state: OptState,
    params?: U,
    extra?: UpdateExtra,
  ): [U, OptState];
}
