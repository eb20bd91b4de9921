/**
 * The compute engine: the only layer that knows `@jax-js/jax` arrays are reference-counted.
 *
 * ## Ownership convention (the one rule of the code base)
 *
 * **A function borrows its arguments and returns what the caller owns.** After a call every
 * array or tree you passed is still yours and still usable; every array or tree you got back
 * is new and yours to release. Three kinds of code differ, each recognisable at the call site:
 *
 * - Functions named `take…` (`takeToHost`, `takeScalar`) consume their argument: the name says
 *   the value is taken.
 * - Traceable building blocks — jax-js's own ops (`a.mul(b)` consumes `a` and `b`), the
 *   numerics in `numerics.ts`, a model's `forward`/`apply`, and the bodies of `jit`-compiled
 *   functions — follow jax-js's move semantics, because that is what traces require.
 * - Optimizer links (`GradientTransformation.init`/`update` in `src/optim`) consume `updates`,
 *   `state` and `params` and borrow `extra`, the `@jax-js/optax` contract, so a whole chain can
 *   be traced into one `jit`.
 *
 * Nobody writes that bookkeeping by hand above the engine: model bodies, layers and optimizer
 * links are written with the borrowing ops of `ops.ts` (`op.mul(a, b)` leaves `a` and `b`
 * alone) inside a {@link tidy} that releases every intermediate when the body returns, and the
 * adapters `consuming` (models) and `link` (optimizer links) give them the consuming contract
 * at the boundary. The bookkeeping is reference counts only, so the arithmetic is unchanged.
 *
 * Everything above the engine (probe, train, experiments, report, CLI) works with borrowing
 * entry points (`lossAndGrad`, `logits`, `evaluate`, the tree helpers in `tree.ts`) and never
 * counts references itself (no `.ref`, `.dispose()`, `refTree`, `disposeTree`): what it owns
 * it hands to the lifetime classes of `scope.ts` — a `Scope` (a span of work), a `Holder` (a
 * value replaced over time), a `Resident` (made on first use, kept until released), a
 * `CompiledFunction` (a `jit` function, until `close`) — and long-lived results carry their
 * own `release()` (`train()`'s result, a `RadiusProbe`; a fused chain's `close()`).
 *
 * Trees: {@link ArrayTree} is the one pytree type; {@link treeLeaves} lists leaves in flatten
 * (insertion) order and {@link treeEntries} by sorted key path — see `tree.ts`.
 */
export * from "./arrays.js";
export * from "./compute.js";
export * from "./jax.js";
export * from "./numerics.js";
/** Borrowing ops and `tidy` for model bodies and optimizer links (`op.add(a, b)`, …). */
export * as op from "./ops.js";
export * from "./runtime.js";
export * from "./safetensors.js";
export * from "./scope.js";
export * from "./tree.js";
export * from "./weights.js";
