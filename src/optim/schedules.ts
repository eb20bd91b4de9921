/**
 * Step-size schedules.
 *
 * A {@link Schedule} maps the 0-based step count (the number of `update` calls already made by the
 * transformation that owns it) to a value. It is a plain host function `(step) => value` — which is
 * exactly the upstream `@jax-js/optax` `Schedule` type, so any JS function works — optionally
 * carrying a `device` twin that computes the same value from the step counter *on the device*.
 *
 * ## Count and jit: the design
 *
 * Transforms that need the step count ({@link scaleBySchedule}, a scheduled learning rate or weight
 * decay, Adam's bias correction) keep it in their state as a 0-d **int32 device array**, never as a
 * JS number. Schedules with a `device` twin (every schedule built here) are then evaluated in-graph,
 * so the whole update is jittable: the count is a traced input and the schedule a few scalar ops.
 * A bare JS function without `device` still works eagerly, but evaluating it reads the count back
 * to the host (`count.item()`, one device sync per step) and therefore throws inside `jit`. Wrap it
 * with {@link makeSchedule} to supply a device twin, or pass the per-step value in through `extra`
 * with `scaleByExtra` when it is computed outside the graph.
 */
import type { DeviceArray as JaxArray } from "../engine/arrays.js";
import * as op from "../engine/ops.js";
import { readScalar } from "../engine/tree.js";

/**
 * A schedule: host function of the 0-based step, optionally with an in-graph twin.
 *
 * `device(count)` must return the same values as a float32 0-d array, given the int32 0-d step
 * counter (consumed, as by any jax-js op, so that a twin can be written with jax-js directly).
 */
export interface Schedule {
  (step: number): number;
  /** In-graph evaluation from the int32 0-d step counter (consumed); makes updates jittable. */
  readonly device?: (count: JaxArray) => JaxArray;
}

/** A constant or a schedule (the upstream `ScalarOrSchedule`). */
export type ScalarOrSchedule = number | Schedule;

/** Attach a device twin to a host schedule function. */
export function makeSchedule(
  host: (step: number) => number,
  device: (count: JaxArray) => JaxArray,
): Schedule {
  return Object.assign((step: number) => host(step), { device });
}

/** The step counter's initial value: a 0-d int32 array holding 0. */
export function initCount(): JaxArray {
  return op.scalar(0, op.dtypes.int32);
}

/** The step counter after one more update (`count` borrowed). */
export function incrementCount(count: JaxArray): JaxArray {
  return op.add(count, 1);
}

/**
 * Value of `schedule` at the step held by `count` (borrowed), as a float32 0-d array. Inside a
 * tidy, like the links that call it.
 *
 * In-graph (jittable) when the schedule has a `device` twin; otherwise reads the count to the host
 * with a synchronous `item()` call, which fails inside `jit`.
 */
export function scheduleValue(schedule: ScalarOrSchedule, count: JaxArray): JaxArray {
  if (typeof schedule === "number") return op.scalar(schedule, op.dtypes.float32);
  if (schedule.device) return op.astype(op.call(schedule.device, count), op.dtypes.float32);
  if (typeof (count as { item?: unknown }).item !== "function") {
    throw new Error(
      "schedule has no device twin, so it cannot be evaluated inside jit: build it with " +
        "makeSchedule(host, device), or pass the value through extra and scaleByExtra",
    );
  }
  return op.scalar(schedule(readScalar(count)), op.dtypes.float32);
}

/** A schedule that always returns `value`. */
export function constantSchedule(value: number): Schedule {
  return makeSchedule(
    () => value,
    op.consumingFn(() => op.scalar(value, op.dtypes.float32)),
  );
}

/** Options of {@link spikeSchedule}. */
export interface SpikeScheduleOptions {
  /** The value before the spike (and, with `once`, after it). */
  base: number;
  /** The factor applied at the spike. */
  multiplier: number;
  /** The 0-based step at which the spike starts. */
  at: number;
  /** Only at step `at` (a one-step spike) instead of from `at` on. Default false. */
  once?: boolean;
}

/**
 * `base`, multiplied by `multiplier` from step `at` on (steps counted from 0), or only at step `at`
 * with `once: true`. Used by the learning-rate spike experiments.
 */
export function spikeSchedule({
  base,
  multiplier,
  at,
  once = false,
}: SpikeScheduleOptions): Schedule {
  if (!Number.isInteger(at) || at < 0)
    throw new Error(`spikeSchedule: at must be a step ≥ 0, got ${at}`);
  const spiked = base * multiplier;
  return makeSchedule(
    (step) => ((once ? step === at : step >= at) ? spiked : base),
    op.consumingFn((count: JaxArray) => {
      const hit = once ? op.equal(count, at) : op.greaterEqual(count, at);
      return op.astype(op.where(hit, spiked, base), op.dtypes.float32);
    }),
  );
}
