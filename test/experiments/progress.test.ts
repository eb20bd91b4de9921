/** The progress line's pure parts: durations, the ETA, the runs in flight, the wall time. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  createProgressReporter,
  estimateEta,
  formatDuration,
  formatEta,
  formatRunning,
  ProgressState,
} from "../../packages/cli/src/experiments/framework/progress.js";
import type { RunnerEvent } from "../../packages/cli/src/experiments/framework/runner.js";
import { runsWallSeconds } from "../../packages/cli/src/experiments/framework/summary.js";

describe("formatDuration", () => {
  it("rounds once, to the unit it shows", () => {
    expect(formatDuration(0)).toBe("0.0 s");
    expect(formatDuration(4.24)).toBe("4.2 s");
    expect(formatDuration(9.96)).toBe("10 s");
    expect(formatDuration(59.4)).toBe("59 s");
    expect(formatDuration(59.6)).toBe("1 min 00 s");
    expect(formatDuration(239.6)).toBe("4 min 00 s");
    expect(formatDuration(245)).toBe("4 min 05 s");
    expect(formatDuration(3599.6)).toBe("1 h 00 min");
    expect(formatDuration(3725)).toBe("1 h 02 min");
    expect(formatDuration(7199)).toBe("2 h 00 min");
  });

  it("never writes NaN, Infinity or a 60 in a field that ends at 59", () => {
    expect(formatDuration(Number.NaN)).toBe("?");
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe("?");
    expect(formatDuration(-1)).toBe("?");
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), (s) => {
        const text = formatDuration(s);
        const m = /^(?:\d\.\d s|(\d+) s|\d+ min (\d\d) s|\d+ h (\d\d) min)$/.exec(text);
        expect(m, text).not.toBeNull();
        for (const field of m!.slice(1))
          if (field !== undefined) expect(Number(field)).toBeLessThan(60);
      }),
      { seed: 3, numRuns: 2000 },
    );
  });
});

describe("estimateEta", () => {
  const run = (cost = 1, fraction = 0, seconds = 0) => ({ cost, fraction, seconds });

  it("has no estimate until a run has finished or the runs in flight have done a tenth", () => {
    expect(estimateEta({ jobs: 1, done: [], running: [], waiting: [1, 1] })).toBeNull();
    expect(estimateEta({ jobs: 1, done: [], running: [run(1, 0, 0)], waiting: [1] })).toBeNull();
    expect(estimateEta({ jobs: 1, done: [], running: [run(1, 0.05, 3)], waiting: [1] })).toBeNull();
    // a fifth of the first run in 2 s: 8 s left of it, 10 s for the next
    expect(estimateEta({ jobs: 1, done: [], running: [run(1, 0.2, 2)], waiting: [1] })).toBeCloseTo(
      18,
    );
    expect(estimateEta({ jobs: 1, done: [], running: [], waiting: [] })).toBe(0);
  });

  it("weights the remaining runs by their relative cost", () => {
    // one cost-1 run took 10 s: a cost-4 run will take 40 s
    const eta = estimateEta({
      jobs: 1,
      done: [{ cost: 1, seconds: 10 }],
      running: [],
      waiting: [4],
    });
    expect(eta).toBeCloseTo(40);
    // and a run of cost 4 done in 40 s predicts 10 s for a cost-1 run
    expect(
      estimateEta({ jobs: 1, done: [{ cost: 4, seconds: 40 }], running: [], waiting: [1, 1] }),
    ).toBeCloseTo(20);
  });

  it("schedules the rest on the threads as the runner does, counting the last run in full", () => {
    const done = [{ cost: 1, seconds: 10 }];
    // 4 runs left on 2 threads: 2 rounds of 10 s
    expect(estimateEta({ jobs: 2, done, running: [], waiting: [1, 1, 1, 1] })).toBeCloseTo(20);
    // a long run last keeps one thread busy: 10 + 30 on one thread, 10 on the other
    expect(estimateEta({ jobs: 2, done, running: [], waiting: [1, 1, 3] })).toBeCloseTo(40);
    // two in flight, half done: 5 s each, then one more run of 10 s
    expect(
      estimateEta({ jobs: 2, done, running: [run(1, 0.5, 5), run(1, 0.5, 5)], waiting: [1] }),
    ).toBeCloseTo(15);
  });

  it("is finite and non-negative whatever it is told", () => {
    const num = fc.oneof(
      fc.double(),
      fc.constant(Number.NaN),
      fc.constant(Number.POSITIVE_INFINITY),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 8 }),
        fc.array(fc.record({ cost: num, seconds: fc.double({ min: 0, max: 1e5, noNaN: true }) }), {
          maxLength: 5,
        }),
        fc.array(
          fc.record({
            cost: num,
            fraction: num,
            seconds: fc.double({ min: 0, max: 1e5, noNaN: true }),
          }),
          { maxLength: 4 },
        ),
        fc.array(num, { maxLength: 6 }),
        (jobs, done, running, waiting) => {
          const eta = estimateEta({ jobs, done, running, waiting });
          if (eta !== null) {
            expect(Number.isFinite(eta)).toBe(true);
            expect(eta).toBeGreaterThanOrEqual(0);
          }
          expect(formatEta(eta)).not.toMatch(/NaN|Infinity|INF|NULL|\?/);
        },
      ),
      { seed: 5, numRuns: 500 },
    );
  });
});

describe("the runs in flight", () => {
  it("names one run, or counts them all and names as many as fit", () => {
    expect(formatRunning([])).toBe("");
    expect(formatRunning(["a"])).toBe("a");
    expect(formatRunning(["a", "b"])).toBe("2 running: a, b");
    const keys = Array.from({ length: 8 }, (_, i) => `arch=transformer.lr=0.001.seed=${i}`);
    const text = formatRunning(keys, 72);
    expect(text.length).toBeLessThanOrEqual(72);
    expect(text).toMatch(/^8 running: arch=transformer\.lr=0\.001\.seed=0, \+7 more$/);
  });

  it("tracks every run in flight with --jobs 2, and the cost-weighted work done", () => {
    let t = 0;
    const s = new ProgressState(() => t);
    const plan: RunnerEvent = {
      type: "plan",
      experiment: "x",
      total: 3,
      cached: 0,
      toRun: 3,
      jobs: 2,
      queue: [
        { index: 0, key: "big", cost: 3 },
        { index: 1, key: "a", cost: 1 },
        { index: 2, key: "b", cost: 1 },
      ],
    };
    s.onEvent(plan);
    s.onEvent({ type: "run-start", experiment: "x", key: "big", index: 0 });
    s.onEvent({ type: "run-start", experiment: "x", key: "a", index: 1 });
    expect(s.running()).toEqual(["big", "a"]);
    expect(s.eta()).toBeNull();
    t = 10;
    s.onEvent({
      type: "run-done",
      experiment: "x",
      key: "a",
      index: 1,
      seconds: 10,
      done: 1,
      toRun: 3,
    });
    s.onEvent({ type: "run-start", experiment: "x", key: "b", index: 2 });
    s.onEvent({ type: "run-progress", experiment: "x", key: "big", index: 0, fraction: 1 / 3 });
    expect(s.running()).toEqual(["big", "b"]);
    expect(s.work()).toEqual({ total: 5, completed: 2 });
    // 20 thread-seconds for 2 units: big has 2 units (20 s) left, b 1 unit (10 s)
    expect(s.eta()).toBeCloseTo(20);
  });

  it("the line display names the runs in flight and never prints an ETA it does not have", () => {
    let text = "";
    let t = 0;
    const p = createProgressReporter({ write: (x: string) => (text += x) }, { now: () => t });
    const queue = ["a", "b", "c"].map((key, index) => ({ index, key, cost: 1 }));
    p.onEvent({ type: "plan", experiment: "x", total: 3, cached: 0, toRun: 3, jobs: 2, queue });
    p.onEvent({ type: "run-start", experiment: "x", key: "a", index: 0 });
    p.onEvent({ type: "run-start", experiment: "x", key: "b", index: 1 });
    t = 4;
    p.onEvent({
      type: "run-done",
      experiment: "x",
      key: "a",
      index: 0,
      seconds: 4,
      done: 1,
      toRun: 3,
    });
    p.onEvent({ type: "run-start", experiment: "x", key: "c", index: 2 });
    t = 6;
    p.onEvent({
      type: "run-done",
      experiment: "x",
      key: "b",
      index: 1,
      seconds: 6,
      done: 2,
      toRun: 3,
    });
    const lines = text.trimEnd().split("\n");
    // 4 s a run: b, silent for 4 s, is due now, then c takes 4 s
    expect(lines[1]).toBe("x: [1/3] a in 4.0 s, ETA 4.0 s; b");
    // 5 s a run: c has run 2 s of them
    expect(lines[2]).toBe("x: [2/3] b in 6.0 s, ETA 3.0 s; c");
    expect(text).not.toMatch(/NaN|Infinity/);
  });
});

describe("the bar", () => {
  it("shows no ETA at the start, then the estimate and every run in flight", () => {
    let out = "";
    let t = 0;
    const tty = {
      write(x: string) {
        out += x;
        return true;
      },
      isTTY: true,
      columns: 160,
    };
    const p = createProgressReporter(tty, { now: () => t });
    const queue = ["transformer.s0", "mlp.s0", "mlp.s1"].map((key, index) => ({
      index,
      key,
      cost: index === 0 ? 4 : 1,
    }));
    const x = "arch-grid";
    p.onEvent({ type: "plan", experiment: x, total: 3, cached: 0, toRun: 3, jobs: 2, queue });
    p.onEvent({ type: "run-start", experiment: x, key: "transformer.s0", index: 0 });
    p.onEvent({ type: "run-start", experiment: x, key: "mlp.s0", index: 1 });
    const start = out;
    t = 5;
    p.onEvent({
      type: "run-done",
      experiment: x,
      key: "mlp.s0",
      index: 1,
      seconds: 5,
      done: 1,
      toRun: 3,
    });
    p.onEvent({ type: "run-start", experiment: x, key: "mlp.s1", index: 2 });
    t = 6;
    p.onEvent({
      type: "run-progress",
      experiment: x,
      key: "transformer.s0",
      index: 0,
      fraction: 0.3,
    });
    p.stop();
    expect(start).toContain("0/3 runs | ETA … |");
    // cost-weighted: (1 + 0.3·4) of 6 units; 5 s a unit: 14 s left of the transformer
    expect(out).toContain("36% | 1/3 runs | ETA 14 s | 2 running: transformer.s0, mlp.s1");
    expect(out).not.toMatch(/NaN|Infinity|INF|ETA 0\b/);
  });
});

describe("runsWallSeconds", () => {
  const at = (end: number, seconds: number) => ({
    seconds,
    finishedAt: new Date(Date.UTC(2025, 0, 1) + end * 1000).toISOString(),
  });

  it("counts parallel runs once and the idle time between invocations not at all", () => {
    expect(runsWallSeconds([])).toBe(0);
    expect(runsWallSeconds([at(10, 10), at(12, 10)])).toBeCloseTo(12); // two threads
    expect(runsWallSeconds([at(10, 10), at(20, 10)])).toBeCloseTo(20); // one after the other
    // resumed an hour later
    expect(runsWallSeconds([at(10, 10), at(3610, 5), at(3612, 6)])).toBeCloseTo(10 + 7);
    expect(runsWallSeconds([at(10, 10), { seconds: 3, finishedAt: "garbage" }])).toBeCloseTo(10);
  });
});
