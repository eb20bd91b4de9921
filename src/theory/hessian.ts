/**
 * Curvature step scale versus convergence radius for binary logistic loss at margin δ
 * (docs/science.md §2): the curvature-based scale grows like `e^{|δ|}`, the radius only like `|δ|`.
 */

import { requireFinite } from "./finite.js";

/** Step-size rule applied to the curvature `L = σ(δ)(1 − σ(δ))`: `1/L` or `2/L`. */
export type CurvatureRule = "1/L" | "2/L";

/**
 * Curvature step scale `1/(σ(δ)(1 − σ(δ)))` (rule `"1/L"`, default) or twice that (`"2/L"`).
 *
 * Computed as `e^{|δ|}(1 + e^{−|δ|})² = 2 + 2cosh δ`, which is exact in floating point for
 * large |δ| (no `1 − σ` cancellation); ≈ `e^{|δ|}` for large |δ|, Infinity past |δ| ≈ 709.
 * At δ = 10: ≈ 22,028.5 (1/L). Throws `RangeError` on a non-finite δ (as does every
 * function here).
 */
export function hessianStepScale(delta: number, options: { rule?: CurvatureRule } = {}): number {
  requireFinite(delta, "hessianStepScale", "delta");
  const d = Math.abs(delta);
  const e = Math.exp(-d);
  const scale = Math.exp(d) * (1 + e) * (1 + e);
  return options.rule === "2/L" ? 2 * scale : scale;
}

/**
 * Radius per unit slope gap for the binary case: `√(δ² + π²)` (the binary `ρ*` times `|Δ|`).
 * At δ = 10: ≈ 10.48.
 */
export function binaryRadiusScale(delta: number): number {
  requireFinite(delta, "binaryRadiusScale", "delta");
  return Math.hypot(delta, Math.PI);
}

/**
 * Mismatch between the curvature step scale and the radius:
 * `hessianStepScale(δ, rule) / binaryRadiusScale(δ)`. At δ = 10 with `"2/L"`: ≈ 4,203.
 */
export function curvatureRadiusRatio(
  delta: number,
  options: { rule?: CurvatureRule } = {},
): number {
  return hessianStepScale(delta, options) / binaryRadiusScale(delta);
}
