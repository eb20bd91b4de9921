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

/**
 * A number ≥ 0, +Infinity or NaN: a step length, a norm or a ratio of them, which overflows
 * to +Infinity when the model diverges and is NaN where it was not measured.
 */
export const magnitude = z.custom<number>(
  (v) => typeof v === "number" && (Number.isNaN(v) || v >= 0),
  { message: "must be ≥ 0, Infinity, or NaN when not measured" },
);

/** A fraction, or null where it was not measured (a step without evaluation). */
export const optionalFraction = fraction.nullable();

/** `true` when `A` and `B` are assignable to each other. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/**
 * Pins a result schema to the experiment's `Result` type in both directions:
 * `resultSchemaOf<MyResult>()(z.object({…}))` fails to compile when the schema lacks a key
 * of the type, adds one, or accepts a wider or narrower value (say `null` where the type
 * has none), so the schema cannot drift from what `execute` returns.
 */
export function resultSchemaOf<Result>() {
  return <S extends z.ZodType<Result>>(
    schema: S &
      (Same<z.output<S>, Result> extends true
        ? unknown
        : { "the schema's output differs from the Result type": never }),
  ): S => schema;
}
