/**
 * The experiment runner: files it writes, caching, resuming after a failure, invalidation
 * of changed runs, atomic writes, and worker threads giving the same results as one thread.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type AnyExperiment,
  createDataLoader,
  decodeJson,
  defineExperiment,
  ExperimentDefinitionError,
  encodeJson,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  RunFailedError,
  type RunnerEvent,
  runExperiment,
  SUMMARY_TIMING_KEYS,
  writeFileAtomic,
} from "../../packages/cli/src/experiments/framework/index.js";
import { getExperiment, registerExperiment } from "../../packages/cli/src/experiments/registry.js";
import { loadDigits, stratifiedSplit } from "../../src/data/index.js";
import { webgpuAdapterPresent } from "../cli/device.helpers.js";
import {
  FAKE_SCALES,
  type FakeRun,
  FIXTURE_URL,
  fakeFail,
  fakeSum,
  fakeValue,
} from "./framework.fixture.js";

const roots: string[] = [];
function tempOut(): string {
  const dir = mkdtempSync(join(tmpdir(), "ghosts-framework-"));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const DIGITS_TRAIN = 1438; // 80/20 stratified split of the 1797 digits (see stratifiedSplit)

function readJson(path: string): JsonObject {
  return decodeJson(readFileSync(path, "utf8")) as JsonObject;
}

/** A summary file without the fields that depend on timing or on what was cached. */
function withoutTiming(file: JsonObject): JsonObject {
  const copy = { ...file };
  for (const k of SUMMARY_TIMING_KEYS) delete copy[k];
  return copy;
}

/** All files below `dir` whose name starts like a temporary file. */
function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((p) =>
    p.split(/[\\/]/).some((part) => part.startsWith(".tmp-")),
  );
}

/** The fake experiment with execute wrapped by `wrap`, counting calls. */
function instrumented(
  wrap: (call: number, run: FakeRun) => void,
  base = fakeSum,
): { def: typeof fakeSum; calls: () => number } {
  let n = 0;
  const def = {
    ...base,
    async execute(run: FakeRun, ctx: Parameters<typeof fakeSum.execute>[1]) {
      wrap(n++, run);
      return base.execute(run, ctx);
    },
  };
  return { def, calls: () => n };
}

describe("runExperiment", () => {
  it("writes one file per run, summary.json with the required fields, and the SVG figures", async () => {
    const out = tempOut();
    const events: RunnerEvent[] = [];
    const outcome = await runExperiment(fakeSum, { out, onEvent: (e) => events.push(e) });
    const dir = join(out, "fake-sum");
    const seeds = [0, 1, 2];

    const runFiles = readdirSync(join(dir, "runs")).sort();
    const keys = FAKE_SCALES.flatMap((scale) => seeds.map((seed) => `scale${scale}-s${seed}`));
    expect(runFiles).toEqual(keys.map((k) => `${k}.json`).sort());
    const rec = readJson(join(dir, "runs", "scale2-s1.json"));
    expect(rec.run).toEqual({ seed: 1, scale: 2, steps: 10 });
    expect(rec.result).toMatchObject({
      value: fakeValue({ seed: 1, scale: 2, steps: 10 }, DIGITS_TRAIN),
      radius: Number.POSITIVE_INFINITY, // kept through the file, not turned into null
      trainN: DIGITS_TRAIN,
      testN: 1797 - DIGITS_TRAIN,
    });

    const file = readJson(join(dir, "summary.json"));
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    expect(file).toMatchObject({
      experiment: "fake-sum",
      version: pkg.version,
      config: { seeds, scales: FAKE_SCALES, steps: 10 },
      seeds,
      quick: false,
      data: { kind: "digits" },
      runs: 9,
      computedRuns: 9,
      trainN: DIGITS_TRAIN,
      anyInfinite: true,
    });
    expect(typeof file.durationSeconds).toBe("number");
    expect(typeof file.computeSeconds).toBe("number");
    expect(Number.isNaN(Date.parse(file.generatedAt as string))).toBe(false);
    // medians over seeds 0,1,2 of scale·(seed+1) + … are scale·2 + …
    const rows = file.rows as { scale: number; median: number }[];
    for (const r of rows) {
      expect(r.median).toBeCloseTo(
        fakeValue({ seed: 1, scale: r.scale, steps: 10 }, DIGITS_TRAIN),
        12,
      );
    }
    // results reach summarize in plan order
    expect(file.order).toEqual(keys);
    // the outcome's summary is the experiment's part of the file, as it reads back
    expect(outcome.summary).toEqual({
      rows: file.rows,
      order: file.order,
      trainN: DIGITS_TRAIN,
      anyInfinite: true,
    });

    for (const name of ["values", "bars"]) {
      const svg = readFileSync(join(dir, `${name}.svg`), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg).toContain("<path");
    }
    expect(outcome.figures.map((f) => f.name)).toEqual(["values", "bars"]);
    expect(outcome.report.verdict.reproduced).toBe("partly");
    expect(events[0]).toMatchObject({ type: "plan", total: 9, cached: 0, toRun: 9, jobs: 1 });
    expect(events.filter((e) => e.type === "run-done")).toHaveLength(9);
    expect(events.some((e) => e.type === "run-progress" && e.fraction === 1)).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: "summary", experiment: "fake-sum" });
    expect(tempFiles(out)).toEqual([]);
  });

  it("a plain rerun executes nothing and writes the same summary", async () => {
    const out = tempOut();
    await runExperiment(fakeSum, { out, quick: true });
    const first = readJson(join(out, "fake-sum", "summary.json"));
    const { def, calls } = instrumented(() => {});
    await runExperiment(def, { out, quick: true });
    expect(calls()).toBe(0);
    const second = readJson(join(out, "fake-sum", "summary.json"));
    expect(second.computedRuns).toBe(0);
    expect(withoutTiming(second)).toEqual(withoutTiming(first));
  });

  it("resumes after a failed run and ends with the summary of an uninterrupted run", async () => {
    const clean = tempOut();
    await runExperiment(fakeSum, { out: clean });

    const out = tempOut();
    let failed = false;
    const { def, calls } = instrumented((call) => {
      if (call === 2 && !failed) {
        failed = true;
        throw new Error("simulated crash");
      }
    });
    const err = await runExperiment(def, { out }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).message).toBe(
      "fake-sum: run scale0.5-s2 failed: simulated crash",
    );
    expect((err as RunFailedError).userError).toBe(false);
    // the two finished runs are on disk, the failed one and the rest are not, nor a summary
    expect(readdirSync(join(out, "fake-sum", "runs")).sort()).toEqual([
      "scale0.5-s0.json",
      "scale0.5-s1.json",
    ]);
    expect(existsSync(join(out, "fake-sum", "summary.json"))).toBe(false);

    await runExperiment(def, { out });
    expect(calls()).toBe(3 + 7); // 3 in the first attempt, the 7 missing in the second
    const resumed = readJson(join(out, "fake-sum", "summary.json"));
    const uninterrupted = readJson(join(clean, "fake-sum", "summary.json"));
    expect(resumed.computedRuns).toBe(7);
    expect(withoutTiming(resumed)).toEqual(withoutTiming(uninterrupted));
    for (const f of readdirSync(join(clean, "fake-sum", "runs"))) {
      const a = readJson(join(clean, "fake-sum", "runs", f));
      const b = readJson(join(out, "fake-sum", "runs", f));
      expect(jsonEqual(a.result, b.result)).toBe(true);
    }
    for (const svg of ["values.svg", "bars.svg"]) {
      expect(readFileSync(join(out, "fake-sum", svg), "utf8")).toBe(
        readFileSync(join(clean, "fake-sum", svg), "utf8"),
      );
    }
  });

  it("recomputes exactly the runs whose stored spec or data differ from the plan", async () => {
    const out = tempOut();
    await runExperiment(fakeSum, { out, quick: true });

    // same keys, one run's spec changed (steps is not part of the key)
    const changedOne = {
      ...fakeSum,
      plan(opts: Parameters<typeof fakeSum.plan>[0]) {
        const p = fakeSum.plan(opts);
        return {
          config: p.config,
          runs: p.runs.map((r) => (r.seed === 1 && r.scale === 2 ? { ...r, steps: 99 } : r)),
        };
      },
    };
    const { def, calls } = instrumented(() => {}, changedOne);
    const events: RunnerEvent[] = [];
    await runExperiment(def, { out, quick: true, onEvent: (e) => events.push(e) });
    expect(calls()).toBe(1);
    expect(events.filter((e) => e.type === "stale")).toEqual([
      { type: "stale", experiment: "fake-sum", key: "scale2-s1", reason: "run spec changed" },
    ]);
    const rec = readJson(join(out, "fake-sum", "runs", "scale2-s1.json"));
    expect(rec.run).toMatchObject({ steps: 99 });
    expect((rec.result as { value: number }).value).toBe(
      fakeValue({ seed: 1, scale: 2, steps: 99 }, DIGITS_TRAIN),
    );

    // another data set invalidates every run
    const csv = join(out, "tiny.csv");
    const lines = ["a,b,label"];
    for (let i = 0; i < 40; i++) lines.push(`${i % 7},${(i * 3) % 11},${i % 2}`);
    writeFileSync(csv, lines.join("\n"));
    const again = instrumented(() => {});
    await runExperiment(again.def, {
      out,
      quick: true,
      data: { kind: "csv", path: csv, standardize: true },
    });
    expect(again.calls()).toBe(6);
    const file = readJson(join(out, "fake-sum", "summary.json"));
    expect(file.trainN).toBe(32);
    expect(file.data).toEqual({ kind: "csv", path: csv, standardize: true });
  });

  it("recomputes unreadable run files and sweeps temporary files of a killed write", async () => {
    const out = tempOut();
    await runExperiment(fakeSum, { out, quick: true });
    const runs = join(out, "fake-sum", "runs");
    writeFileSync(join(runs, "scale1-s0.json"), '{"experiment": "fake-sum", "res'); // torn
    writeFileSync(join(runs, ".tmp-scale1-s1.json.123.0.abcd"), "partial");
    const { def, calls } = instrumented(() => {});
    const events: RunnerEvent[] = [];
    await runExperiment(def, { out, quick: true, onEvent: (e) => events.push(e) });
    expect(calls()).toBe(1);
    expect(events.find((e) => e.type === "stale")).toMatchObject({
      key: "scale1-s0",
      reason: "not valid JSON (a torn or edited file)",
    });
    expect(tempFiles(out)).toEqual([]);
  });

  it("runs in worker threads with results identical to one thread", async () => {
    const one = tempOut();
    const two = tempOut();
    await runExperiment(fakeSum, { out: one, jobs: 1 });
    const events: RunnerEvent[] = [];
    const outcome = await runExperiment(fakeSum, {
      out: two,
      jobs: 2,
      workerImports: [FIXTURE_URL],
      onEvent: (e) => events.push(e),
    });
    expect(events[0]).toMatchObject({ type: "plan", jobs: 2, toRun: 9 });
    expect(events.filter((e) => e.type === "run-done")).toHaveLength(9);
    const a = readJson(join(one, "fake-sum", "summary.json"));
    const b = readJson(join(two, "fake-sum", "summary.json"));
    expect(withoutTiming(b)).toEqual(withoutTiming(a));
    expect(outcome.summary.order).toEqual(a.order);
    for (const f of readdirSync(join(one, "fake-sum", "runs"))) {
      const x = readJson(join(one, "fake-sum", "runs", f));
      const y = readJson(join(two, "fake-sum", "runs", f));
      expect(jsonEqual(x.result, y.result)).toBe(true);
    }
    expect(tempFiles(two)).toEqual([]);
  });

  it("a failing run in a worker stops the experiment, names the run and keeps the others", async () => {
    const out = tempOut();
    const err = await runExperiment(fakeFail, { out, jobs: 2, workerImports: [FIXTURE_URL] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as RunFailedError).message).toBe("fake-fail: run s3 failed: seed 3 is cursed");
    expect((err as RunFailedError).userError).toBe(true); // a DataError: bad input, exit 2
    const stored = readdirSync(join(out, "fake-fail", "runs"));
    expect(stored).toContain("s0.json");
    expect(stored).not.toContain("s3.json");
    expect(existsSync(join(out, "fake-fail", "summary.json"))).toBe(false);
  });

  it.skipIf(webgpuAdapterPresent())(
    "workers start the engine on the requested device",
    async () => {
      const out = tempOut();
      const err = await runExperiment(fakeSum, {
        out,
        jobs: 2,
        device: "webgpu",
        workerImports: [FIXTURE_URL],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunFailedError);
      expect((err as Error).message).toMatch(/no WebGPU adapter found/);
      expect((err as Error).message).not.toContain("\n");
    },
  );

  it("a worker that cannot find the experiment fails with a one-line message", async () => {
    const out = tempOut();
    const err = await runExperiment(fakeFail, { out, jobs: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunFailedError);
    expect((err as Error).message).toMatch(
      /^fake-fail: run s\d failed: unknown experiment 'fake-fail'/,
    );
    expect((err as Error).message).not.toContain("\n");
  });

  it("rejects definitions that break the contract", async () => {
    const out = tempOut();
    const dupKeys = { ...fakeSum, runKey: (r: FakeRun) => `s${r.seed}` };
    await expect(runExperiment(dupKeys, { out })).rejects.toThrow(
      /fake-sum: runs 0 and 3 have the same key s0/,
    );
    const badKey = { ...fakeSum, runKey: (r: FakeRun) => `scale ${r.scale}/s${r.seed}` };
    await expect(runExperiment(badKey, { out })).rejects.toThrow(ExperimentDefinitionError);

    const typed = defineExperiment<{ seed: number }, JsonValue, JsonObject>({
      ...fakeFail,
      id: "typed-array",
      plan: () => ({ config: {}, runs: [{ seed: 0 }] }),
      runKey: (r) => `s${r.seed}`,
      execute: async () => ({ xs: new Float64Array(2) }) as unknown as JsonValue,
      summarize: () => ({}),
    });
    await expect(runExperiment(typed, { out })).rejects.toThrow(
      "typed-array: run s0 failed: result of run s0: $.xs is Float64Array, not JSON (use plain arrays and objects)",
    );

    const reserved = { ...fakeFail, summarize: () => ({ version: 3 }) } as unknown as AnyExperiment;
    await expect(runExperiment(reserved, { out, seeds: [0, 1] })).rejects.toThrow(
      /reserved key\(s\) version/,
    );
    await expect(runExperiment(fakeFail, { out, jobs: 0 })).rejects.toThrow(RangeError);
  });
});

describe("run data", () => {
  it("splits like stratifiedSplit, caches, and standardises CSV features on the training part only", () => {
    const load = createDataLoader();
    const a = load({ kind: "digits" }, 3);
    expect(load({ kind: "digits" }, 3)).toBe(a); // cached
    const ref = stratifiedSplit(loadDigits(), { seed: 3, testFraction: 0.2 });
    expect(a.train.y).toEqual(ref.train.y);
    expect(a.test.x).toEqual(ref.test.x);
    expect(load({ kind: "digits" }, 3, 0.5).test.n).toBeGreaterThan(800);

    const dir = tempOut();
    const csv = join(dir, "d.csv");
    const rows: string[] = [];
    for (let i = 0; i < 60; i++) rows.push(`${i},${(i * i) % 13},5,${i % 3}`);
    writeFileSync(csv, rows.join("\n"));
    const s = load({ kind: "csv", path: csv, standardize: true }, 0);
    const raw = load({ kind: "csv", path: csv, standardize: false }, 0);
    const { n, d } = s.train;
    for (let j = 0; j < d; j++) {
      let mean = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) mean += s.train.x[i * d + j] / n;
      for (let i = 0; i < n; i++) sq += (s.train.x[i * d + j] - mean) ** 2 / n;
      expect(mean).toBeCloseTo(0, 12);
      // the constant column stays 0 (std 1), the others get unit variance
      expect(sq).toBeCloseTo(j === 2 ? 0 : 1, 12);
    }
    // the test part uses the training statistics: x' = (x − mean_train) / std_train
    let m0 = 0;
    for (let i = 0; i < raw.train.n; i++) m0 += raw.train.x[i * d] / raw.train.n;
    let v0 = 0;
    for (let i = 0; i < raw.train.n; i++) v0 += (raw.train.x[i * d] - m0) ** 2 / raw.train.n;
    expect(s.test.x[0]).toBeCloseTo((raw.test.x[0] - m0) / Math.sqrt(v0), 12);

    expect(() => load({ kind: "cifar10", dir }, 0)).toThrow(
      /CIFAR-10 folder .* lacks data_batch_1.bin/,
    );
    expect(() => load({ kind: "csv", path: join(dir, "none.csv"), standardize: false }, 0)).toThrow(
      /file not found/,
    );
  });
});

describe("JSON codec and atomic writes", () => {
  it("round-trips non-finite numbers and compares structurally", () => {
    const v = {
      a: [1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN],
      b: { c: null },
    };
    const back = decodeJson(encodeJson(v));
    expect(jsonEqual(back, v)).toBe(true);
    expect(JSON.parse(encodeJson(v)).a).toEqual([1, "Infinity", "-Infinity", "NaN"]);
    expect(jsonEqual({ x: 1, y: 2 }, { y: 2, x: 1 })).toBe(true);
    expect(jsonEqual({ x: 1 }, { x: 1, y: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(encodeJson({ a: undefined, b: 1 }, "v", 0)).toBe('{"b":1}');
    expect(() => encodeJson({ m: new Map() }, "thing")).toThrow("thing: $.m is Map, not JSON");
  });

  it("writeFileAtomic replaces the file and leaves nothing else", async () => {
    const dir = tempOut();
    const path = join(dir, "f.json");
    await writeFileAtomic(path, "one");
    await Promise.all(["two", "three", "four"].map((t) => writeFileAtomic(path, t)));
    expect(["two", "three", "four"]).toContain(readFileSync(path, "utf8"));
    expect(readdirSync(dir)).toEqual(["f.json"]);
  });
});

describe("registry", () => {
  it("finds registered experiments and lists the valid ids for an unknown one", () => {
    expect(getExperiment("fake-sum")).toBe(fakeSum);
    expect(() => getExperiment("nope")).toThrow(
      /^unknown experiment 'nope'; valid: .*fake-sum, fake-fail.*, all$/,
    );
    registerExperiment(fakeSum); // the same definition again: a no-op
    expect(() => registerExperiment({ ...fakeSum } as AnyExperiment)).toThrow(/registered twice/);
    expect(() => registerExperiment({ ...fakeSum, id: "Bad Id" } as AnyExperiment)).toThrow(
      /must match/,
    );
  });
});
