/**
 * `lr-spike` in quick mode through the runner (summary shape, the controller's guarantee,
 * the headline direction), and its pure helpers and verdict on hand-made summaries.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lrLabel } from "../../packages/cli/src/experiments/framework/format.js";
import {
  decodeJson,
  type ExperimentOutcome,
  type JsonObject,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import { quantilesPerStep, roundSig } from "../../packages/cli/src/experiments/framework/stats.js";
import {
  type LrSpikeResult,
  type LrSpikeRow,
  type LrSpikeSummary,
  lrSpike,
} from "../../packages/cli/src/experiments/lr-spike.js";
import { getExperiment } from "../../packages/cli/src/experiments/registry.js";

const VERSION = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

/** The quick protocol, as the plan resolves it. */
const QUICK = lrSpike.plan({ quick: true, data: { kind: "digits" } }).runs[0];

describe("lr-spike --quick through the runner", () => {
  let out: string;
  let outcome: ExperimentOutcome<LrSpikeSummary>;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "ghosts-lr-spike-"));
    outcome = await runExperiment(lrSpike, { out, quick: true });
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  const row = (lr: number, method: string): LrSpikeRow => {
    const r = outcome.summary.table.find((t) => t.lr === lr && t.method === method);
    if (r === undefined) throw new Error(`no row for ${lr} ${method}`);
    return r;
  };
  const runResult = (key: string): LrSpikeResult =>
    (decodeJson(readFileSync(join(outcome.dir, "runs", `${key}.json`), "utf8")) as JsonObject)
      .result as unknown as LrSpikeResult;

  it("is registered under its id", () => {
    expect(getExperiment("lr-spike")).toBe(lrSpike);
  });

  it("writes summary.json with the framework's fields and one row per LR × method", () => {
    const file = decodeJson(readFileSync(outcome.summaryPath, "utf8")) as JsonObject;
    expect(file.experiment).toBe("lr-spike");
    expect(file.version).toBe(VERSION);
    expect(file.quick).toBe(true);
    expect(file.seeds).toEqual([0]);
    expect(typeof file.durationSeconds).toBe("number");
    const config = file.config as JsonObject;
    expect((config.grid as JsonObject).baseLr).toEqual([1e-4, 1e-3, 1e-2]);
    expect((config.protocol as JsonObject).steps).toBe(QUICK.steps);
    expect((config.protocol as JsonObject).spikeAt).toBe(QUICK.spikeAt);
    const table = file.table as JsonObject[];
    expect(table.map((r) => `${r.lr}/${r.method}`)).toEqual([
      "0.0001/plain",
      "0.0001/rho-clip",
      "0.001/plain",
      "0.001/rho-clip",
      "0.01/plain",
      "0.01/rho-clip",
    ]);
    for (const r of table) {
      for (const k of ["medianFinalTestAcc", "q25", "q75", "maxR"]) {
        expect(typeof r[k], k).toBe("number");
      }
      expect(r.q25 as number).toBeLessThanOrEqual(r.medianFinalTestAcc as number);
      expect(r.medianFinalTestAcc as number).toBeLessThanOrEqual(r.q75 as number);
    }
    expect(outcome.summary.curves).toHaveLength(6 * QUICK.steps);
    for (const f of ["accuracy.svg", "tau-vs-rho.svg"]) {
      expect(existsSync(join(outcome.dir, f)), f).toBe(true);
    }
  });

  it("logs τ and ρ_a at every step and evaluates every evalEvery steps", () => {
    const res = runResult("lr1e-2-plain-s0");
    const n = QUICK.steps;
    expect(res.tau).toHaveLength(n);
    expect(res.rhoA).toHaveLength(n);
    expect(res.rhoA.every((x) => x > 0)).toBe(true);
    const evaluated = res.testAcc.flatMap((a, i) => (a === null ? [] : [i]));
    const every = QUICK.evalEvery;
    expect(evaluated).toEqual(Array.from({ length: n / every }, (_, k) => (k + 1) * every - 1));
    expect(res.testAcc[n - 1]).toBeCloseTo(res.finalTestAcc, 4);
  });

  it("ρ-clip never applies a step longer than r_max·ρ_a; plain Adam's spike overshoots", () => {
    for (const lr of [1e-4, 1e-3, 1e-2]) {
      const res = runResult(`lr${lrLabel(lr)}-rho-clip-s0`);
      res.tau.forEach((t, i) => {
        expect(t).toBeLessThanOrEqual(res.rhoA[i] * (1 + 1e-4));
      });
      expect(row(lr, "rho-clip").maxR).toBeLessThanOrEqual(1 + 1e-4);
    }
    // Adam's step length scales with the learning rate: the 1e-2 spike overshoots further.
    expect(row(1e-2, "plain").rAtSpike).toBeGreaterThan(row(1e-3, "plain").rAtSpike);
    expect(row(1e-2, "plain").rAtSpike).toBeGreaterThan(10);
  });

  it("headline: ρ-clip ends far above plain Adam at base LR 1e-2", () => {
    const plain = row(1e-2, "plain").medianFinalTestAcc;
    const clip = row(1e-2, "rho-clip").medianFinalTestAcc;
    expect(clip).toBeGreaterThan(plain + 0.3);
    expect(plain).toBeLessThan(0.3);
  });

  it("the report puts every row beside the paper and computes the verdict", () => {
    const rows = outcome.report.tables[0].rows;
    expect(rows).toHaveLength(6);
    expect(rows.every((r) => typeof r[r.length - 1] === "string")).toBe(true);
    // the verdict quotes this run's own accuracies (not a summary from elsewhere)
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const sentence = outcome.report.verdict.sentence;
    expect(sentence).toMatch(/^Plain Adam at 1e-4 ends at /);
    expect(sentence).toContain(`at 1e-4 ends at ${pct(row(1e-4, "plain").medianFinalTestAcc)}`);
    expect(sentence).toContain(`at 1e-2 ends at ${pct(row(1e-2, "plain").medianFinalTestAcc)}`);
    expect(sentence).toContain(`${pct(row(1e-2, "rho-clip").medianFinalTestAcc)} (1e-2)`);
  });
});

describe("lr-spike helpers", () => {
  it("roundSig keeps 5 significant digits and non-finite values", () => {
    expect(roundSig(1.234567)).toBe(1.2346);
    expect(roundSig(123456789)).toBe(123460000);
    expect(roundSig(-0.000123456789, 3)).toBe(-0.000123);
    expect(roundSig(Number.NaN)).toBeNaN();
    expect(roundSig(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(roundSig(0)).toBe(0);
  });

  it("quantilesPerStep skips missing values and matches hand-computed quartiles", () => {
    const q = quantilesPerStep([
      [1, null, 3],
      [2, null, Number.NaN],
      [4, null],
    ]);
    expect(q).toHaveLength(3);
    // numpy linear quantiles of [1, 2, 4]: q25 = 1.5, median 2, q75 = 3
    expect(q[0]).toEqual({ median: 2, q25: 1.5, q75: 3 });
    expect(q[1]).toBeNull();
    expect(q[2]).toEqual({ median: 3, q25: 3, q75: 3 });
  });

  it("lrLabel writes learning rates compactly", () => {
    expect(lrLabel(1e-4)).toBe("1e-4");
    expect(lrLabel(0.015)).toBe("1.5e-2");
  });
});

describe("lr-spike verdict", () => {
  const lrSpikeVerdict = (s: LrSpikeSummary) => lrSpike.report(s).verdict;
  const make = (acc: Record<string, number>): LrSpikeSummary => ({
    table: Object.entries(acc).map(([key, a]) => {
      const [lr, method] = key.split("/");
      return {
        lr: Number(lr),
        method: method as "plain" | "rho-clip",
        medianFinalTestAcc: a,
        q25: a,
        q75: a,
        maxR: 1,
        maxRWorst: 1,
        rAtSpike: 1,
        minAccAfterSpike: a,
        seeds: 1,
      };
    }),
    curves: [],
    spikeAt: 50,
    steps: 200,
    multiplier: 1000,
    chance: 0.1,
  });
  const claimed = {
    "0.0001/plain": 0.95,
    "0.0001/rho-clip": 0.96,
    "0.001/plain": 0.45,
    "0.001/rho-clip": 0.97,
    "0.01/plain": 0.1,
    "0.01/rho-clip": 0.96,
  };

  it("is yes when every part of the claim holds", () => {
    const v = lrSpikeVerdict(make(claimed));
    expect(v.reproduced).toBe("yes");
    expect(v.sentence).toContain("10.0%");
  });

  it("is partly when plain Adam survives one spike it should not", () => {
    const v = lrSpikeVerdict(make({ ...claimed, "0.001/plain": 0.93 }));
    expect(v.reproduced).toBe("partly");
    expect(v.sentence).toContain("93.0%");
  });

  it("is no when plain Adam survives both spikes, even with ρ-clip fine", () => {
    const v = lrSpikeVerdict(make({ ...claimed, "0.001/plain": 0.93, "0.01/plain": 0.92 }));
    expect(v.reproduced).toBe("no");
    expect(v.sentence).toContain("plain Adam at 1e-3 ends at 93.0%");
    expect(v.sentence).toContain("not as claimed: plain Adam at 1e-3 drops");
  });

  it("is no when ρ-clip fails", () => {
    expect(lrSpikeVerdict(make({ ...claimed, "0.01/rho-clip": 0.2 })).reproduced).toBe("no");
  });
});
