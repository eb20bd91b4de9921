/**
 * In-process fuzzing of the input surfaces, seeded and reproducible: 10,000 generated inputs
 * each for `ghosts radius` JSON/JSONL, the CSV loader (bytes → text → data set → split),
 * run files in the cache, and `summary.json` as `ghosts report` reads it. Every input ends
 * in a correct result or one clear line with exit status 2 (a `DataError`, an "invalid"
 * verdict), never a crash; each case must finish within {@link CASE_LIMIT_MS}.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { archGrid } from "../../packages/cli/src/experiments/arch-grid.js";
import {
  decodeJson,
  encodeJson,
  type JsonObject,
} from "../../packages/cli/src/experiments/framework/index.js";
import {
  checkRunFile,
  runRecordSchema,
} from "../../packages/cli/src/experiments/framework/run-file.js";
import { checkSummaryFile } from "../../packages/cli/src/experiments/framework/summary.js";
import { EXPERIMENTS } from "../../packages/cli/src/experiments/registry.js";
import { renderReportHtml } from "../../packages/cli/src/report/html.js";
import { DataError, decodeTextBytes, parseCsv, stratifiedSplit } from "../../src/data/index.js";
import { ghosts } from "../cli/helpers.js";
import { csvCase, FUZZ_SEED, radiusInput } from "./fuzz.arbitraries.js";

/** Inputs per surface per run. */
const RUNS = 10_000;
/** Wall-clock limit of one case (generous: the machine is shared). */
const CASE_LIMIT_MS = 5_000;

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Times one case; a case over the limit fails the property. */
async function timed<T>(fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const ms = performance.now() - t0;
  if (ms > CASE_LIMIT_MS) throw new Error(`case took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS})`);
  return out;
}

/** Tallies outcomes of a surface, printed for the README's Reliability figures. */
function tally(): { count(kind: string): void; report(surface: string): void } {
  const seen = new Map<string, number>();
  return {
    count: (kind) => seen.set(kind, (seen.get(kind) ?? 0) + 1),
    report: (surface) =>
      console.log(`fuzz ${surface}: ${[...seen].map(([k, v]) => `${k} ${v}`).join(", ")}`),
  };
}

const numberOrInfinity = (v: unknown) =>
  (typeof v === "number" && Number.isFinite(v)) || v === "Infinity";

describe("fuzz: ghosts radius (JSON and JSON Lines)", () => {
  it(`${RUNS} inputs: exit 0 with valid radii, or one line and exit 2`, async () => {
    const t = tally();
    await fc.assert(
      fc.asyncProperty(
        radiusInput,
        fc.option(fc.constantFrom("0.5", "1", "0", "2", "x")),
        async (text, q) => {
          const argv = q === null ? ["radius"] : ["radius", "--quantile", q];
          const r = await timed(() => ghosts(argv, text));
          expect(r.err).not.toMatch(/internal error|\n\s+at /);
          expect([0, 2]).toContain(r.code);
          for (const line of r.lines) {
            const rec = line as {
              samples: Record<string, unknown>[];
              rhoA: unknown;
              rhoStar: unknown;
            };
            expect(numberOrInfinity(rec.rhoA) && numberOrInfinity(rec.rhoStar)).toBe(true);
            for (const s of rec.samples) {
              for (const key of ["rhoA", "rhoStar", "rhoTop2"])
                expect(numberOrInfinity(s[key])).toBe(true);
              expect(typeof s.certified).toBe("boolean");
              // the bound: ρ_a ≤ ρ* wherever the exact value is certified and finite
              if (
                s.certified === true &&
                typeof s.rhoStar === "number" &&
                typeof s.rhoA === "number"
              ) {
                expect(s.rhoA).toBeLessThanOrEqual(s.rhoStar * (1 + 1e-9));
              }
            }
          }
          if (r.code === 0) {
            expect(r.err).toBe("");
            t.count("valid");
          } else {
            expect(r.err.split("\n").filter(Boolean)).toHaveLength(1);
            expect(r.err).toMatch(/^ghosts: \S/);
            t.count("rejected");
          }
        },
      ),
      { numRuns: RUNS, seed: FUZZ_SEED },
    );
    t.report("radius");
  });
});

describe("fuzz: the CSV loader", () => {
  it(`${RUNS} files: a consistent data set and split, or a DataError`, async () => {
    const t = tally();
    await fc.assert(
      fc.asyncProperty(csvCase, async (c) => {
        await timed(() => {
          let ds: ReturnType<typeof parseCsv>;
          try {
            const text = decodeTextBytes(c.bytes, "fuzz.csv");
            ds = parseCsv(text, {
              name: "fuzz.csv",
              delimiter: c.delimiter,
              labelColumn: c.labelColumn,
              header: c.header,
            });
          } catch (err) {
            if (!(err instanceof DataError)) throw err;
            expect(err.message).toMatch(/^fuzz\.csv: \S/);
            t.count("rejected");
            return;
          }
          expect(ds.n).toBeGreaterThan(0);
          expect(ds.x).toHaveLength(ds.n * ds.d);
          expect(ds.numClasses).toBeGreaterThanOrEqual(2);
          expect(ds.classNames).toHaveLength(ds.numClasses);
          for (const v of ds.x) expect(Number.isFinite(v)).toBe(true);
          for (const y of ds.y) expect(y >= 0 && y < ds.numClasses).toBe(true);
          try {
            const s = stratifiedSplit(ds, { seed: 0 });
            expect(s.train.n + s.test.n).toBe(ds.n);
            expect(s.test.n).toBeGreaterThan(0);
            t.count("loaded and split");
          } catch (err) {
            if (!(err instanceof DataError)) throw err;
            expect(err.message).toMatch(/test split .* is empty/);
            t.count("loaded, too small to split");
          }
        });
      }),
      { numRuns: RUNS, seed: FUZZ_SEED },
    );
    t.report("csv");
  });
});

/** A committed full-scale run file to mutate. */
function committedRun(): { text: string; rec: JsonObject } {
  const dir = join(repo, "docs", "results", "arch-grid", "runs");
  const text = readFileSync(join(dir, readdirSync(dir).sort()[0]), "utf8");
  return { text, rec: decodeJson(text) as JsonObject };
}

/** Sets `value` at a path of keys/indices into a copy of a JSON tree (or deletes it). */
function edit(tree: unknown, path: (string | number)[], value: unknown, del: boolean): unknown {
  if (path.length === 0) return value;
  if (tree === null || typeof tree !== "object") return tree;
  const copy = (Array.isArray(tree) ? [...tree] : { ...tree }) as Record<string, unknown>;
  const keys = Object.keys(copy);
  if (keys.length === 0) return copy;
  const k = keys[Number(path[0]) % keys.length];
  if (path.length === 1 && del) delete copy[k];
  else copy[k] = edit(copy[k], path.slice(1), value, del);
  return copy;
}

describe("fuzz: run files in the cache", () => {
  it(`${RUNS} edited, torn or foreign files: reused only when fully valid`, async () => {
    const { text, rec } = committedRun();
    const expected = {
      experiment: "arch-grid",
      key: rec.key as string,
      run: rec.run as JsonObject,
      data: rec.data as JsonObject,
    };
    const t = tally();
    const mutation = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .record({
            path: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
            value: fc.oneof(
              fc.jsonValue({ maxDepth: 1 }),
              fc.constantFrom(7.5, -1, "NaN", "Infinity", 1e308, null, 0.5, 0),
            ),
            del: fc.boolean(),
          })
          .map(({ path, value, del }) => encodeJson(edit(rec, path, value, del))),
      },
      { weight: 2, arbitrary: fc.nat({ max: text.length }).map((i) => text.slice(0, i)) },
      { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? "") },
      { weight: 1, arbitrary: fc.constant(text) },
    );
    await fc.assert(
      fc.asyncProperty(mutation, async (candidate) => {
        const checked = await timed(() => checkRunFile(candidate, expected, archGrid.resultSchema));
        if ("invalid" in checked) {
          expect(checked.invalid).toMatch(/\S/);
          t.count("rejected");
          return;
        }
        // reused: then it is a valid run file for this run, with a valid result
        const value = decodeJson(candidate);
        expect(runRecordSchema.safeParse(value).success).toBe(true);
        expect(archGrid.resultSchema?.safeParse(checked.result).success).toBe(true);
        t.count("reused");
      }),
      { numRuns: RUNS, seed: FUZZ_SEED },
    );
    t.report("run files");
  });
});

describe("fuzz: summary.json as ghosts report reads it", () => {
  it(`${RUNS} damaged summaries: left out with a reason, or rendered without a crash`, async () => {
    const results = join(repo, "docs", "results");
    const ids = readdirSync(results).filter((id) => Object.hasOwn(EXPERIMENTS, id));
    const bases = ids.map((id) =>
      decodeJson(readFileSync(join(results, id, "summary.json"), "utf8")),
    );
    const t = tally();
    const candidate = fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .record({
            base: fc.nat({ max: bases.length - 1 }),
            path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
            value: fc.oneof(
              fc.jsonValue({ maxDepth: 2 }),
              fc.constantFrom(null, "x", -1, [], {}, 1e308),
            ),
            del: fc.boolean(),
          })
          .map(({ base, path, value, del }) => edit(bases[base], path, value, del)),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.nat({ max: bases.length - 1 }).map((i) => bases[i]) },
    );
    await fc.assert(
      fc.asyncProperty(candidate, async (value) => {
        await timed(() => {
          const checked = checkSummaryFile(value as never);
          if (checked.invalid !== undefined) {
            expect(checked.invalid).toMatch(/\S/);
            t.count("left out");
            return;
          }
          const id = checked.file.experiment;
          const def = Object.hasOwn(EXPERIMENTS, id) ? EXPERIMENTS[id] : null;
          const html = renderReportHtml([{ def, summary: checked.file, figures: [] }], {
            date: new Date(0),
            version: "fuzz",
          });
          expect(html).toMatch(/^<!doctype html>/i);
          t.count("rendered");
        });
      }),
      { numRuns: RUNS, seed: FUZZ_SEED },
    );
    t.report("summary.json");
  });
});
