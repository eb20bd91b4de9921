/**
 * Progress of long runs on a non-terminal stderr: the expected time of a run, measured from
 * its own progress (set-up left out), lines spaced out, "still running" for silent runs —
 * with a fake clock; and the real `ghosts run` on a large CSV printing the expected time
 * of its first run while it trains.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LARGE_DATA_ROWS } from "../../packages/cli/src/cli/commands/run.js";
import {
  createSlowRunNotes,
  type SlowRunNotesOptions,
} from "../../packages/cli/src/cli/slow-runs.js";
import type { RunnerEvent } from "../../packages/cli/src/experiments/framework/index.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** Seconds from `formatDuration` text ("4.0 s", "12 s", "3 min 16 s", "1 h 02 min"). */
function seconds(text: string): number {
  let m = /^(\d+) h (\d+) min$/.exec(text);
  if (m) return Number(m[1]) * 3600 + Number(m[2]) * 60;
  m = /^(\d+) min (\d+) s$/.exec(text);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  m = /^([\d.]+) s$/.exec(text);
  if (m) return Number(m[1]);
  throw new Error(`not a duration: ${text}`);
}

const PACE =
  /^(\S+): (\S+): (\d+)% after (.+?); at the measured (.+?) per 1% this run needs about (.+?) more(?:, the (\d+) runs? waiting about (.+?) more if they cost the same)?$/;

/** A fake-clock harness: events at given seconds, the lines written. */
function harness(opts: SlowRunNotesOptions = {}) {
  let t = 0;
  const lines: string[] = [];
  const notes = createSlowRunNotes(
    { write: (s: string) => lines.push(...s.split("\n").filter(Boolean)) },
    { timer: false, now: () => t * 1000, ...opts },
  );
  const at = (sec: number, e: RunnerEvent) => {
    t = sec;
    notes.onEvent(e);
  };
  const plan = (toRun: number, jobs = 1) =>
    at(0, { type: "plan", experiment: "exp", total: toRun, cached: 0, toRun, jobs } as RunnerEvent);
  const start = (sec: number, index = 0, key = "run-a") =>
    at(sec, { type: "run-start", experiment: "exp", key, index });
  const progress = (sec: number, fraction: number, index = 0, key = "run-a") =>
    at(sec, { type: "run-progress", experiment: "exp", key, index, fraction });
  const done = (sec: number, index = 0, key = "run-a") =>
    at(sec, {
      type: "run-done",
      experiment: "exp",
      key,
      index,
      seconds: sec,
      done: 1,
      toRun: 1,
    });
  const tick = (sec: number) => {
    t = sec;
    notes.tick();
  };
  return { lines, plan, start, progress, done, tick };
}

/** A run of 100 steps, `setUp` s before the first step, then `perStep` s per step. */
function steadyRun(perStep: number, setUp: number, steps: number, opts?: SlowRunNotesOptions) {
  const h = harness({ always: true, ...opts });
  h.plan(3);
  h.start(0);
  for (let s = 1; s <= steps; s++) h.progress(setUp + s * perStep, s / 100);
  return h;
}

describe("slow-run notes", () => {
  it("states the run's expected time from its measured pace, set-up time left out", () => {
    const h = steadyRun(2, 100, 3);
    expect(h.lines).toHaveLength(1);
    const m = PACE.exec(h.lines[0]);
    expect(m, h.lines[0]).not.toBeNull();
    const [, exp, key, pct, after, per, left, waiting, rest] = m!;
    // measured over steps 2 and 3 (two intervals), then said at once
    expect([exp, key, pct]).toEqual(["exp", "run-a", "3"]);
    expect(seconds(after)).toBe(106);
    expect(seconds(per)).toBe(2); // 2 s per step of 1%, not (100 + 6) / 3
    expect(seconds(left)).toBe(194); // 97 steps to go
    expect(Number(waiting)).toBe(2);
    expect(seconds(rest)).toBe(400); // two more runs of 200 s
  });

  it("scales with the measured pace and divides the waiting runs by the threads", () => {
    const slow = PACE.exec(steadyRun(6, 5, 3).lines[0])!;
    const fast = PACE.exec(steadyRun(1.5, 5, 3).lines[0])!;
    expect(seconds(slow[6]) / seconds(fast[6])).toBeCloseTo(4, 1);
    const h = harness({ always: true });
    h.plan(5, 2);
    h.start(0, 0, "a");
    h.start(0, 1, "b");
    h.progress(1, 0.01, 0, "a");
    h.progress(3, 0.02, 0, "a");
    h.progress(5, 0.03, 0, "a");
    const m = PACE.exec(h.lines[0])!;
    // 200 s per run; 3 runs wait for 2 threads
    expect([m[7], seconds(m[8])]).toEqual(["3", 300]);
  });

  it("follows the pace of the later steps once the first ones were slow", () => {
    const h = harness({ always: true, intervalSeconds: 30 });
    h.plan(1);
    h.start(0);
    let t = 0;
    for (let s = 1; s <= 60; s++) {
      t += s <= 5 ? 10 : 1; // five slow steps (compilation, warm-up), then 1 s per step
      h.progress(t, s / 100);
    }
    const paces = h.lines.map((l) => seconds(PACE.exec(l)![5]));
    expect(paces[0]).toBe(10);
    expect(paces.at(-1)).toBe(1);
  });

  it("without --data that is large, says nothing about runs expected to be quick", () => {
    expect(steadyRun(0.2, 1, 50, { always: false }).lines).toEqual([]);
    const slow = steadyRun(1, 1, 5, { always: false }); // 100 s per run ≥ 60 s
    expect(slow.lines).toHaveLength(1);
    expect(slow.lines[0]).toMatch(PACE);
  });

  it("writes at most one line per interval while a run progresses", () => {
    const h = steadyRun(1, 0, 100, { intervalSeconds: 30 });
    // a line at the first measurement (3 s), then every 30 s: 33, 63, 93
    expect(h.lines.map((l) => Number(PACE.exec(l)![3]))).toEqual([3, 33, 63, 93]);
  });

  it("says a silent run is still running, and stops with the run", () => {
    const h = harness({ intervalSeconds: 30 });
    h.plan(1);
    h.start(0);
    h.tick(20);
    expect(h.lines).toEqual([]);
    h.tick(31);
    expect(h.lines).toEqual(["exp: run-a: still running after 31 s (no step timed yet)"]);
    h.progress(40, 0.5);
    h.tick(75);
    expect(h.lines.at(-1)).toBe("exp: run-a: still running after 1 min 15 s (50% done)");
    const n = h.lines.length;
    h.done(80);
    h.tick(200);
    expect(h.lines).toHaveLength(n);
  });
});

describe("ghosts run on a large CSV", () => {
  const dir = mkdtempSync(join(tmpdir(), "ghosts-slow-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("prints the expected time of its first run while it trains", {
    timeout: 300_000,
  }, async () => {
    // LARGE_DATA_ROWS + 20% rows of 4 features, 3 well-separated classes (seeded)
    const rows = Math.round(LARGE_DATA_ROWS * 1.2);
    let s = 7;
    const rnd = () => {
      s = (s * 1103515245 + 12345) >>> 0;
      return s / 2 ** 32;
    };
    const lines = ["a,b,c,d,label"];
    for (let i = 0; i < rows; i++) {
      const c = i % 3;
      lines.push(
        `${[0, 1, 2, 3].map((j) => (c * (j % 2 ? 1 : -1) + rnd()).toFixed(3)).join(",")},${c}`,
      );
    }
    const csv = join(dir, "large.csv");
    writeFileSync(csv, `${lines.join("\n")}\n`);
    // one process (tsx's own CLI would start a child that SIGKILL leaves running)
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "packages/cli/src/cli/main.ts",
        "run",
        "lr-spike",
        "--quick",
        "--data",
        csv,
        "--out",
        join(dir, "out"),
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    const pace = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 240_000);
      child.stderr.on("data", (d) => {
        err += d;
        const line = err.split("\n").find((l) => PACE.test(l));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        }
      });
      child.on("close", () => {
        clearTimeout(timer);
        resolve(null);
      });
    });
    child.kill("SIGKILL");
    await new Promise((resolve) =>
      child.exitCode === null ? child.on("close", resolve) : resolve(null),
    );
    expect(err).toContain(
      `${rows.toLocaleString("en-US")} rows is large: a run may take minutes; each run's expected time is printed once its first steps are timed`,
    );
    expect(pace, err).not.toBeNull();
    const m = PACE.exec(pace!)!;
    expect(m[1]).toBe("lr-spike");
    expect(Number(m[3])).toBeLessThan(100); // printed while the run trains, not after
    expect(seconds(m[6])).toBeGreaterThan(0);
    expect(Number(m[7])).toBe(5); // lr-spike --quick: 6 runs
  });
});
