/**
 * The run cache cannot lie: every run file is validated on read (envelope schema, ranges,
 * finiteness, the experiment's result schema); an invalid one is reported and recomputed,
 * and the committed full-scale results all pass the validation.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  decodeJson,
  encodeJson,
  type JsonObject,
  type RunnerEvent,
  runExperiment,
  SUMMARY_TIMING_KEYS,
} from "../../packages/cli/src/experiments/framework/index.js";
import {
  checkRunFile,
  runRecordSchema,
} from "../../packages/cli/src/experiments/framework/run-file.js";
import { checkSummaryFile } from "../../packages/cli/src/experiments/framework/summary.js";
import { EXPERIMENTS } from "../../packages/cli/src/experiments/registry.js";
import { type FakeRun, fakeSum } from "../experiments/framework.fixture.js";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const roots: string[] = [];
function tempOut(): string {
  const dir = mkdtempSync(join(tmpdir(), "ghosts-runfiles-"));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function counting(): { def: typeof fakeSum; calls: () => number } {
  let n = 0;
  return {
    def: {
      ...fakeSum,
      async execute(run: FakeRun, ctx: Parameters<typeof fakeSum.execute>[1]) {
        n++;
        return fakeSum.execute(run, ctx);
      },
    },
    calls: () => n,
  };
}

function summaryWithoutTiming(out: string): JsonObject {
  const s = decodeJson(readFileSync(join(out, "fake-sum", "summary.json"), "utf8")) as JsonObject;
  for (const k of SUMMARY_TIMING_KEYS) delete s[k];
  return s;
}

describe("the committed full-scale run files", () => {
  const results = join(repo, "docs", "results");
  const ids = readdirSync(results).filter((id) => existsSync(join(results, id, "runs")));

  it("cover every registered experiment that has committed runs", () => {
    expect(ids.length).toBeGreaterThan(5);
  });

  it.each(ids)("%s: every run file passes the envelope and the result schema", (id) => {
    const def = EXPERIMENTS[id];
    expect(def?.resultSchema, `${id} has a resultSchema`).toBeDefined();
    const dir = join(results, id, "runs");
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      const rec = runRecordSchema.parse(decodeJson(text));
      expect(rec.experiment).toBe(id);
      expect(`${rec.key}.json`).toBe(f);
      const checked = checkRunFile(
        text,
        { experiment: id, key: rec.key, run: rec.run as JsonObject, data: rec.data as JsonObject },
        def?.resultSchema,
      );
      expect(checked, `${id}/${f}`).not.toHaveProperty("invalid");
    }
  });

  it.each(ids)("%s: summary.json passes the summary schema", (id) => {
    const value = decodeJson(readFileSync(join(results, id, "summary.json"), "utf8"));
    expect(checkSummaryFile(value).invalid).toBeUndefined();
  });
});

describe("hand-edited, torn or misplaced run files are reported and recomputed", () => {
  const edits: [string, (rec: JsonObject) => void, RegExp][] = [
    ["an out-of-range value", (r) => ((r.result as JsonObject).trainN = -7.5), /result.*trainN/],
    ["a string for a number", (r) => ((r.result as JsonObject).value = "7.5"), /value/],
    ["an empty result", (r) => (r.result = {}), /invalid result/],
    ["a deleted key", (r) => delete (r.result as JsonObject).testN, /testN/],
    ["a deleted envelope key", (r) => delete r.seconds, /seconds/],
    ["a non-finite duration", (r) => (r.seconds = Number.NaN), /seconds/],
    ["a bad date", (r) => (r.finishedAt = "yesterday"), /finishedAt/],
    ["another run's file", (r) => (r.key = "scale2-s0"), /another run/],
  ];

  it.each(edits)("%s", async (_name, edit, reason) => {
    const out = tempOut();
    await runExperiment(fakeSum, { out, quick: true });
    const reference = summaryWithoutTiming(out);
    const path = join(out, "fake-sum", "runs", "scale1-s0.json");
    const rec = decodeJson(readFileSync(path, "utf8")) as JsonObject;
    edit(rec);
    writeFileSync(path, encodeJson(rec));

    const { def, calls } = counting();
    const events: RunnerEvent[] = [];
    await runExperiment(def, { out, quick: true, onEvent: (e) => events.push(e) });
    const stale = events.filter((e) => e.type === "stale");
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ key: "scale1-s0" });
    expect((stale[0] as { reason: string }).reason).toMatch(reason);
    expect(calls()).toBe(1); // only the bad file is recomputed
    expect(summaryWithoutTiming(out)).toEqual(reference);
    // healed: a third invocation finds nothing to recompute
    const again = counting();
    await runExperiment(again.def, { out, quick: true });
    expect(again.calls()).toBe(0);
  });

  it("an empty directory where a run file belongs is removed and the run recomputed", async () => {
    const out = tempOut();
    await runExperiment(fakeSum, { out, quick: true });
    const path = join(out, "fake-sum", "runs", "scale1-s0.json");
    rmSync(path);
    mkdirSync(path);
    const { def, calls } = counting();
    const events: RunnerEvent[] = [];
    await runExperiment(def, { out, quick: true, onEvent: (e) => events.push(e) });
    expect(calls()).toBe(1);
    expect(events.find((e) => e.type === "stale")).toMatchObject({
      reason: expect.stringMatching(/directory/),
    });
    expect(readFileSync(path, "utf8")).toContain('"key": "scale1-s0"');
  });

  it("a non-empty directory there is a clear error before anything is computed", async () => {
    const out = tempOut();
    await runExperiment(fakeSum, { out, quick: true });
    const path = join(out, "fake-sum", "runs", "scale1-s0.json");
    rmSync(path);
    mkdirSync(path);
    writeFileSync(join(path, "keep.txt"), "mine");
    const { def, calls } = counting();
    const err = await runExperiment(def, { out, quick: true }).catch((e: unknown) => e);
    expect((err as Error).name).toBe("OutputError");
    expect((err as Error).message).toMatch(/is a directory where a run file belongs/);
    expect(calls()).toBe(0);
  });

  it("a fresh result that breaks the experiment's own schema fails its run (a bug)", async () => {
    const out = tempOut();
    const def = {
      ...fakeSum,
      async execute(run: FakeRun, ctx: Parameters<typeof fakeSum.execute>[1]) {
        return { ...(await fakeSum.execute(run, ctx)), trainN: -1 };
      },
    };
    const err = await runExperiment(def, { out, quick: true }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/does not match the experiment's resultSchema/);
    expect((err as { userError: boolean }).userError).toBe(false);
  });
});

describe("each experiment's own result schema rejects a hand-edited committed run file", () => {
  // [experiment, committed run file, a required key with a range, a value out of its range]
  const cases: [string, string, string, number][] = [
    ["aggregation", "", "finalTestAcc", 7.5],
    ["arch-grid", "", "finalTestAcc", 7.5],
    ["baselines", "", "finalTestAccuracy", 7.5],
    ["ghost-envelope", "", "finalTestAccuracy", 7.5],
    ["calibration", "control-rhoA-s0", "violations", -1],
    ["calibration", "track-cnn-bn-s0", "samples", 2.5],
    ["lr-spike", "", "finalTestAcc", 7.5],
    ["natural-instability", "", "stepsOverR1", -1],
    ["phase-transition", "", "preStepAcc", 1.5],
    ["random-directions", "s0", "bestTestAccuracy", -0.5],
    ["temperature", "", "testAccuracy", 7.5],
    ["theory", "hessian", "allCertified", 1],
    ["theory", "kl-s0", "cases", -3],
    ["theory", "ghost-map-s0", "phases", 0],
    ["transformer-radii", "", "finalTestAcc", 7.5],
  ];
  const edits: [string, (result: JsonObject, key: string, bad: number) => void][] = [
    ["an out-of-range value", (r, key, bad) => (r[key] = bad)],
    ["a string for a number", (r, key) => (r[key] = "0.5")],
    ["a deleted key", (r, key) => delete r[key]],
  ];
  const table = cases.flatMap(([id, file, key, bad]) =>
    edits.map(([what, edit]) => [`${id} ${file}`.trim(), what, key, id, file, bad, edit] as const),
  );

  /** The committed run file `file` of `id` (the first one when `file` is empty). */
  function committed(id: string, file: string): { key: string; text: string } {
    const dir = join(repo, "docs", "results", id, "runs");
    const name =
      file === ""
        ? readdirSync(dir)
            .filter((f) => f.endsWith(".json"))
            .sort()[0]
        : `${file}.json`;
    return { key: name.replace(/\.json$/, ""), text: readFileSync(join(dir, name), "utf8") };
  }

  it.each(table)("%s: %s (%s)", async (_label, _what, key, id, file, bad, edit) => {
    const real = EXPERIMENTS[id];
    const { key: runKey, text } = committed(id, file);
    const rec = decodeJson(text) as JsonObject;
    const result = rec.result as JsonObject;
    expect(result).toHaveProperty(key);
    // The real definition (runKey, resultSchema) planning only this run, with `execute`
    // standing in for training: it returns the committed result, so a recomputed file
    // must equal the committed one.
    let calls = 0;
    const def = {
      ...real,
      plan: () => ({ config: {}, runs: [rec.run as JsonObject] }),
      execute: async () => {
        calls++;
        return result;
      },
      summarize: () => ({}),
      figures: () => [],
      report: () => ({ tables: [], verdict: { reproduced: "n/a" as const, sentence: "test" } }),
    };
    const out = tempOut();
    const path = join(out, id, "runs", `${runKey}.json`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    await runExperiment(def, { out, quick: true });
    expect(calls, "the committed file is reused as it is").toBe(0);

    const edited = structuredClone(rec);
    edit(edited.result as JsonObject, key, bad);
    writeFileSync(path, encodeJson(edited));
    const events: RunnerEvent[] = [];
    await runExperiment(def, { out, quick: true, onEvent: (e) => events.push(e) });
    const stale = events.filter((e) => e.type === "stale");
    expect(stale).toHaveLength(1);
    expect((stale[0] as { reason: string }).reason).toMatch(
      new RegExp(`invalid result \\(.*${key}`),
    );
    expect(calls, "the edited run is recomputed").toBe(1);
    const healed = decodeJson(readFileSync(path, "utf8")) as JsonObject;
    expect(healed.result).toEqual(result);
  });
});
