/**
 * Composable optimizers in the style of optax, on jax-js, API-compatible with the upstream
 * `@jax-js/optax` package (same names, `[updates, state]` tuples, move-semantics ownership).
 *
 * ```ts
 * const opt = chain(clipByGlobalNorm(1), adamw(1e-3, { weightDecay: 1e-2 }));
 * const state = initBorrowed(opt, params);
 * const [p, next] = updateBorrowed(opt, grads, state, params); // p: the step about to be applied
 * const moved = applyBorrowed(params, p);
 * // every argument is still yours; `opt.init`/`opt.update` themselves consume, as optax's do
 * ```
 *
 * See `types.ts` for the ownership rules and `schedules.ts` for how step counts stay jittable.
 */

export {
  readScalar,
  readScalarAsync,
  type Scalar,
  treeAdd,
  treeAddScaled,
  treeGlobalNorm,
  treeGlobalNormHost,
  treeLeaves,
  treeMapArrays,
  treeMul,
  treeNumel,
  treeScale,
  treeScaleByHost,
  treeSub,
  treeSumOfSquares,
  treeVdot,
  treeZerosLike,
} from "../engine/tree.js";
export {
  type AdamWOptions,
  adam,
  adamDirection,
  adamw,
  adamwDirection,
  type SgdOptions,
  sgd,
  sgdDirection,
} from "./alias.js";
export { type ArmijoOptions, armijo } from "./armijo.js";
export {
  applyBorrowed,
  applyUpdates,
  applyUpdatesCompiled,
  type ChainExtra,
  chain,
  type ExtraOf,
  findState,
  initBorrowed,
  updateBorrowed,
} from "./combine.js";
export {
  type AllRadiiOptions,
  allRadii,
  bindingRadius,
  type ControllerExtra,
  type ControllerRadius,
  type ControlReport,
  type GradientControllerExtra,
  RADII_OF_KIND,
  type RadiusCallback,
  type RadiusKind,
  type RadiusName,
  type RhoClipOptions,
  type RhoSetOptions,
  rhoClip,
  rhoClipGrad,
  rhoSet,
} from "./controllers.js";
export type { LossAwareExtra, LossExtra } from "./loss-extra.js";
export { type PolyakOptions, polyak } from "./polyak.js";
export {
  constantSchedule,
  incrementCount,
  initCount,
  makeSchedule,
  type ScalarOrSchedule,
  type Schedule,
  type SpikeScheduleOptions,
  scheduleValue,
  spikeSchedule,
} from "./schedules.js";
export {
  type BuiltOptimizer,
  buildOptimizer,
  type ControllerSpec,
  type OptimizerSpec,
  type SpikeSpec,
} from "./spec.js";
export {
  type AddDecayedWeightsOptions,
  addDecayedWeights,
  type CountState,
  clipByGlobalNorm,
  type DecayMask,
  identity,
  type ScaleByAdamOptions,
  type ScaleByAdamState,
  type ScaleByExtraArgs,
  type ScaleByExtraOptions,
  scale,
  scaleByAdam,
  scaleByExtra,
  scaleByLearningRate,
  scaleBySchedule,
  setToZero,
  type TraceOptions,
  type TraceState,
  trace,
} from "./transforms.js";
export type {
  ArrayTree,
  ControlExtra,
  EmptyState,
  ExtraArg,
  GradientExtra,
  GradientTransformation,
  OptState,
  RadiusExtra,
  TrainingExtra,
  UpdateExtra,
  UpdateNormExtra,
} from "./types.js";
