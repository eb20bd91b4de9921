/**
 * In-process fuzzing of every `ghosts` command, flag and value (10,000 generated command
 * lines): each ends with exit 0, or exit 2 and exactly one `ghosts:` line — never an
 * internal error or a stack trace. The argument layer is what is fuzzed here, so a `run`
 * that passes every check reaches a stand-in for the runner (it still calls the
 * experiment's real `plan`, which validates the grid); the real runner is fuzzed through
 * the process in `fuzz-process.test.ts` and killed in `kill.test.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ghosts } from "../cli/helpers.js";
import { FLAGS, FUZZ_SEED, flagTokens, flagValue } from "./fuzz.arbitraries.js";

vi.mock("../../packages/cli/src/experiments/framework/runner.js", async (importOriginal) => {
  const real =
    await importOriginal<typeof import("../../packages/cli/src/experiments/framework/runner.js")>();
  return {
    ...real,
    runExperiment: async (
      def: { id: string; plan(o: unknown): unknown },
      opts: { out: string; quick?: boolean; seeds?: number[]; data?: unknown },
    ) => {
      def.plan({
        quick: opts.quick ?? false,
        seeds: opts.seeds,
        data: opts.data ?? { kind: "digits" },
      });
      return {
        dir: join(opts.out, def.id),
        report: { tables: [], verdict: { reproduced: "n/a", sentence: "stand-in" } },
        file: { durationSeconds: 0 },
      };
    },
  };
});
vi.mock("../../packages/cli/src/report/html.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../packages/cli/src/report/html.js")>();
  return {
    ...real,
    writeReportFromDisk: async (out: string) => ({
      path: join(out, "index.html"),
      experiments: [],
    }),
  };
});

const RUNS = 10_000;
const CASE_LIMIT_MS = 5_000;

const root = mkdtempSync(join(tmpdir(), "ghosts-fuzz-cli-"));
// relative paths the fuzzer makes up ("--out --nope") land in a temporary folder
const cwd = process.cwd();
beforeAll(() => process.chdir(root));
afterAll(() => {
  process.chdir(cwd);
  rmSync(root, { recursive: true, force: true });
});
const csv = join(root, "small.csv");
writeFileSync(
  csv,
  Array.from({ length: 30 }, (_, i) => `${i % 7},${i / 3},${["a", "b", "c"][i % 3]}`).join("\n"),
);
const aFile = join(root, "a-file");
writeFileSync(aFile, "x");
const radiusFile = join(root, "r.json");
writeFileSync(radiusFile, JSON.stringify({ logits: [1, 2], slopes: [0.5, -0.5] }));

/** Values that name real things here, beside the generic ones. */
const value = fc.oneof(
  flagValue,
  fc.constantFrom(csv, aFile, join(aFile, "sub"), radiusFile, join(root, "out"), root),
);
const tokens = fc
  .array(fc.tuple(fc.constantFrom(...FLAGS), fc.oneof(fc.constant(null), value)), { maxLength: 5 })
  .map((pairs) => pairs.flatMap(([f, v]) => (v === null ? [f] : [f, v])));

/** A command line: a command (or none, or junk), its arguments, flags and values. */
const argv = fc.oneof(
  fc
    .tuple(fc.constant("radius"), fc.option(value), tokens)
    .map(([c, f, t]) => [c, ...(f === null ? [] : [f]), ...t]),
  fc.tuple(fc.constant("explain"), tokens).map(([c, t]) => [c, ...t]),
  fc
    .tuple(
      fc.constantFrom("fake-nope", "theory", "arch-grid", "lr-spike", "all", "calibration", ""),
      tokens,
      fc.boolean(),
    )
    // a default --out first (a later one overrides it): nothing is written to the working copy
    .map(([e, t]) => ["run", e, "--out", join(root, "out"), ...t]),
  fc.tuple(fc.constant("report"), tokens).map(([c, t]) => [c, ...t]),
  // demo trains when its flags are valid, so it always ends with a bad one here
  fc
    .tuple(
      fc.constantFrom(
        ["--jobs", "0"],
        ["--jobs", "x"],
        ["--out", ""],
        ["--out", join(aFile, "sub")],
        ["--nope"],
      ),
      // no other --out/--jobs, which could override the bad one or swallow it as a value
      flagTokens.map((t) => t.filter((x) => !["-o", "--out", "-j", "--jobs"].includes(x))),
    )
    .map(([bad, t]) => ["demo", ...t, ...bad]),
  fc
    .tuple(
      fc.constant("help"),
      fc.option(fc.oneof(fc.constantFrom("radius", "run", "nosuch"), fc.string({ maxLength: 6 }))),
    )
    .map(([c, x]) => (x === null ? [c] : [c, x])),
  fc.array(fc.oneof(value, fc.constantFrom(...FLAGS)), { maxLength: 3 }),
);

describe("fuzz: every command, flag and value", () => {
  it(`${RUNS} command lines: exit 0, or exit 2 with one clear line`, async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(argv, fc.string({ maxLength: 20 }), async (args, stdin) => {
        const t0 = performance.now();
        const r = await ghosts(args, stdin);
        expect(performance.now() - t0).toBeLessThan(CASE_LIMIT_MS);
        expect(r.err).not.toMatch(/internal error|\n\s+at /);
        expect([0, 2]).toContain(r.code);
        const errors = r.err.split("\n").filter((l) => l.startsWith("ghosts: "));
        expect(errors).toHaveLength(r.code === 0 ? 0 : 1);
        // besides the error, stderr holds only the data summary, warnings and progress
        for (const line of r.err.split("\n").filter(Boolean)) {
          expect(line).toMatch(
            /^(ghosts: |data: |warning: |\S+: \d+ runs|\S+: \[|\S+: \S+: (\d+% after|still running))/,
          );
        }
        seen.set(r.code, (seen.get(r.code) ?? 0) + 1);
      }),
      { numRuns: RUNS, seed: FUZZ_SEED },
    );
    console.log(`fuzz cli: exit 0 ${seen.get(0) ?? 0}, exit 2 ${seen.get(2) ?? 0}`);
  });
});
