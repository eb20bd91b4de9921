import { defaultDevice, init, jit, numpy as np, tree } from "@jax-js/jax";
import { beforeAll, describe, expect, test } from "vitest";
import {
  constantSchedule,
  makeSchedule,
  type OptState,
  scaleBySchedule,
  scheduleValue,
  spikeSchedule,
} from "../../src/optim/index.js";

beforeAll(async () => {
  await init("wasm");
  defaultDevice("wasm");
});

/** Evaluate a schedule's device twin at `step`. */
function onDevice(s: ReturnType<typeof spikeSchedule>, step: number): number {
  return scheduleValue(s, np.array(step, { dtype: np.int32 })).item();
}

describe("schedules", () => {
  test("constantSchedule", () => {
    const s = constantSchedule(0.25);
    for (const t of [0, 1, 100]) {
      expect(s(t)).toBe(0.25);
      expect(onDevice(s, t)).toBe(0.25);
    }
  });

  test("spikeSchedule from `at` on, steps counted from 0, host and device agree", () => {
    const s = spikeSchedule({ base: 0.1, multiplier: 8, at: 3 });
    const expected = [0.1, 0.1, 0.1, 0.8, 0.8, 0.8];
    expected.forEach((v, t) => {
      expect(s(t)).toBeCloseTo(v, 12);
      expect(onDevice(s, t)).toBeCloseTo(v, 6);
    });
  });

  test("spikeSchedule once: only at step `at`", () => {
    const s = spikeSchedule({ base: 2, multiplier: 0.5, at: 0, once: true });
    [1, 2, 2, 2].forEach((v, t) => {
      expect(s(t)).toBe(v);
      expect(onDevice(s, t)).toBe(v);
    });
    expect(() => spikeSchedule({ base: 1, multiplier: 2, at: -1 })).toThrow();
  });

  test("a plain function falls back to a host read; a number is a constant", () => {
    expect(scheduleValue((t) => t * 10, np.array(4, { dtype: np.int32 })).item()).toBe(40);
    expect(scheduleValue(3, np.array(4, { dtype: np.int32 })).item()).toBe(3);
  });

  test("device schedules make scaleBySchedule jittable; host-only ones cannot be traced", () => {
    const link = scaleBySchedule(spikeSchedule({ base: 1, multiplier: 10, at: 2 }));
    const step = jit((g: np.Array, s: OptState) => link.update(g, s));
    let state = link.init(np.zeros([2]));
    const got: number[] = [];
    for (let t = 0; t < 4; t++) {
      const [u, s] = step(np.array([1, 2]), state);
      got.push(u.js()[1]);
      state = s;
    }
    expect(got).toEqual([2, 2, 20, 20]);
    tree.dispose(state);
    step.dispose();

    const hostOnly = scaleBySchedule((t) => t);
    const bad = jit((g: np.Array, s: OptState) => hostOnly.update(g, s));
    expect(() => bad(np.array([1]), hostOnly.init(np.zeros([1])))).toThrow(/device twin/);
    bad.dispose();

    const wrapped = makeSchedule(
      (t) => t,
      (c) => c.astype(np.float32),
    );
    const ok = scaleBySchedule(wrapped);
    const good = jit((g: np.Array, s: OptState) => ok.update(g, s));
    let st = ok.init(np.zeros([1]));
    const seen: number[] = [];
    for (let t = 0; t < 3; t++) {
      const [u, s] = good(np.array([1]), st);
      seen.push(u.js()[0]);
      st = s;
    }
    expect(seen).toEqual([0, 1, 2]);
    tree.dispose(st);
    good.dispose();
  });
});
