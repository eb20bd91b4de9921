/**
 * Building blocks for {@link ExperimentDefinition.resultSchema}: the ranges that run results
 * have. zod's `z.number()` already refuses NaN and ±Infinity; the ones here say where a
 * non-finite value is legitimate (a diverged loss is NaN, a radius may be infinite).
 *
 * @module
 */
import { z } from "zod";

/** Any number, NaN and ±Infinity included (a loss that diverged, a step never measured). */
export const anyNumber = z.custom<number>((v) => typeof v === "number", {
  message: "must be a number",
});

/** A finite number in [0, 1] (an accuracy, a fraction). */
export const fraction = z.number().min(0).max(1);

/** A finite count: an integer ≥ 0. */
export const count = z.number().int().nonnegative();

/** A finite number ≥ 0 (a duration, a norm). */
export const nonNegative = z.number().nonnegative();

/** A number ≥ 0 or +Infinity (a radius: no ghost means an infinite one), or NaN when not measured. */
export const radius = z.custom<number>(
  (v) => typeof v === "number" && (Number.isNaN(v) || v >= 0),
  { message: "must be a radius (≥ 0, Infinity, or NaN when not measured)" },
);
