/**
 * Closed-form theory of softmax ghosts (docs/science.md §2): pure float64 functions on plain arrays.
 * No jax-js here; everything works on `number[]` / `Float64Array` (`ArrayLike<number>`).
 */
export {
  binaryGhost,
  type ComplexPoint,
  rhoStarBinary,
  rhoTop2,
  type Top2,
  top2,
  top2Ghost,
} from "./binary.js";
export {
  countZerosInDisk,
  type Ghost,
  type GhostOptions,
  type GhostResult,
  nearestGhost,
} from "./ghost.js";
export {
  binaryRadiusScale,
  type CurvatureRule,
  curvatureRadiusRatio,
  hessianStepScale,
} from "./hessian.js";
export {
  forwardKl,
  forwardKlRemainderLeading,
  klDivergence,
  klQuadratic,
  reverseKl,
  reverseKlRemainderBound,
  softmax,
  variance,
} from "./kl.js";
export {
  type Aggregate,
  aggregateSpreads,
  isMatrix,
  type Matrix,
  quantile,
  type RhoASetOptions,
  type Rows,
  rhoA,
  rhoAFromSpread,
  rhoASet,
  rhoATemperature,
  spread,
  spreads,
} from "./spread.js";
export { BOUNDARY_BAND, normalisedStep, type Regime, regime } from "./step.js";
export { lossAlongLine, taylorCoefficients, taylorPolynomial } from "./taylor.js";
