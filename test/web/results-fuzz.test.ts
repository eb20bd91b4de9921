/**
 * Fuzzing of the explorer's results browser in-process: 10,000 seeded `summary.json` picks —
 * the bundled results intact, cut short, with characters overwritten, with fields edited
 * or deleted (framework metadata and the experiment's own summary), BOM / CRLF, garbage,
 * invalid UTF-8, several files at once, hostile file names — through `loadResults`, the
 * function the page calls on a picked file. Each ends in a rendered page or one error line
 * naming the file, never a throw, within {@link CASE_LIMIT_MS}.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeJson,
  encodeJson,
  type JsonValue,
} from "../../packages/cli/src/experiments/framework/index.js";
import { SUMMARY_META_KEYS } from "../../packages/cli/src/experiments/framework/summary.js";
import { escapeHtml, renderSvg } from "../../packages/cli/src/report/index.js";
import { type FigureRenderer, loadResults, type PickedFile } from "../../web/src/results.js";
import { FUZZ_SEED } from "../reliability/fuzz.arbitraries.js";

/** Picks per run. */
const RUNS = 10_000;
/** Wall-clock limit of one case (generous: the machine is shared, figures are drawn). */
const CASE_LIMIT_MS = 20_000;

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const results = join(repo, "docs", "results");
const bases = readdirSync(results)
  .filter((id) => !id.includes("."))
  .sort()
  .map((id) => {
    const text = readFileSync(join(results, id, "summary.json"), "utf8");
    return { id, text, value: decodeJson(text) };
  });

/**
 * The report's own `renderSvg`, remembering the last figures drawn: most picks leave the
 * figures' data alone, and an identical spec draws an identical SVG. A spec not seen
 * recently is drawn for real.
 */
function rememberingRenderer(): { render: FigureRenderer; drawn: () => number } {
  const seen = new Map<string, Promise<string>>();
  let drawn = 0;
  const key = (spec: unknown) =>
    JSON.stringify(spec, (_, v) =>
      typeof v === "number" && !Number.isFinite(v) ? `#${String(v)}` : v,
    );
  return {
    render: (spec) => {
      const k = key(spec);
      let svg = seen.get(k);
      if (svg === undefined) {
        if (seen.size >= 64) seen.clear();
        drawn++;
        svg = renderSvg(spec);
        seen.set(k, svg);
      }
      return svg;
    },
    drawn: () => drawn,
  };
}

/** Replaces the value at `path` (indices taken modulo the keys present), or deletes it. */
function edit(tree: unknown, path: number[], value: unknown, del: boolean): unknown {
  if (path.length === 0) return value;
  if (tree === null || typeof tree !== "object") return tree;
  const copy = (Array.isArray(tree) ? [...tree] : { ...tree }) as Record<string, unknown>;
  const keys = Object.keys(copy);
  if (keys.length === 0) return copy;
  const k = keys[path[0] % keys.length];
  if (path.length === 1 && del) delete copy[k];
  else copy[k] = edit(copy[k], path.slice(1), value, del);
  return copy;
}

const hostile = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom<JsonValue>(
    null,
    "x",
    -1,
    0,
    1e308,
    -1e308,
    5e-324,
    "NaN",
    "Infinity",
    "-Infinity",
    [],
    {},
    "",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "__proto__",
    "constructor",
    "not a date",
    "2026-13-45T99:99:99Z",
    [1, "a", null],
    { kind: "csv" },
    { kind: "digits", extra: 1 },
    Array.from({ length: 2000 }, (_, i) => i),
  ),
);

type Damage = { what: string; text: string };

/** Every bundled summary; the 2.6 MB one (calibration) less often, as it costs the most. */
const base = fc.oneof(
  ...bases.map((b) => ({ weight: b.text.length > 1_000_000 ? 1 : 3, arbitrary: fc.constant(b) })),
);

/** One picked file's text. */
const damaged: fc.Arbitrary<Damage> = fc.oneof(
  { weight: 2, arbitrary: base.map((b) => ({ what: `intact ${b.id}`, text: b.text })) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(base, fc.constantFrom("bom", "crlf", "spaces", "minified"))
      .map(([b, how]) => ({
        what: `reformatted ${b.id} (${how})`,
        text:
          how === "bom"
            ? `\uFEFF${b.text}`
            : how === "crlf"
              ? b.text.replace(/\n/g, "\r\n")
              : how === "spaces"
                ? `\n \t${b.text}\n\n`
                : encodeJson(b.value, "summary", 0),
      })),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(base, fc.nat()).map(([b, at]) => ({
      what: `${b.id} cut at ${at % b.text.length}`,
      text: b.text.slice(0, at % b.text.length),
    })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        base,
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...'{}[]",:0-9eE.n\\ \u0000\uFFFDx')), {
          minLength: 1,
          maxLength: 4,
        }),
      )
      .map(([b, flips]) => {
        const chars = [...b.text];
        for (const [at, c] of flips) chars[at % chars.length] = c;
        return { what: `${b.id} with characters overwritten`, text: chars.join("") };
      }),
  },
  {
    weight: 4,
    // the experiment's own summary (figures and tables come from it)
    arbitrary: fc
      .record({
        b: base,
        path: fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        value: hostile,
        del: fc.boolean(),
      })
      .map(({ b, path, value, del }) => ({
        what: `${b.id} edited at ${path.join(".")}${del ? " (deleted)" : ""}`,
        text: encodeJson(edit(b.value, path, value, del) as JsonValue, "summary", 0),
      })),
  },
  {
    weight: 2,
    // the framework's metadata, which the page validates
    arbitrary: fc
      .record({
        b: base,
        key: fc.constantFrom(...SUMMARY_META_KEYS),
        value: hostile,
        del: fc.boolean(),
      })
      .map(({ b, key, value, del }) => {
        const copy = { ...(b.value as Record<string, JsonValue>) };
        if (del) delete copy[key];
        else copy[key] = value as JsonValue;
        return {
          what: `${b.id} with ${key} ${del ? "deleted" : "edited"}`,
          text: encodeJson(copy),
        };
      }),
  },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 200 }).map((text) => ({ what: "a string", text })),
      fc.jsonValue({ maxDepth: 3 }).map((v) => ({ what: "other JSON", text: JSON.stringify(v) })),
      fc
        .uint8Array({ maxLength: 300 })
        .map((b) => ({ what: "random bytes", text: new TextDecoder().decode(b) })),
      fc.nat({ max: 200_000 }).map((n) => ({
        what: `${n} nested arrays`,
        text: "[".repeat(n) + "]".repeat(n),
      })),
      fc.constantFrom(
        { what: "empty", text: "" },
        { what: "null", text: "null" },
        { what: "an array", text: "[]" },
        { what: "an empty object", text: "{}" },
        { what: "a huge number", text: `{"experiment": 1${"0".repeat(400)}}` },
        { what: "duplicate keys", text: '{"experiment":"theory","experiment":"x"}' },
      ),
    ),
  },
);

const fileName = fc.oneof(
  { weight: 6, arbitrary: fc.constant("summary.json") },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom("<b>x</b>.json", "a\nb.json", "", " ", "x".repeat(500)),
    ),
  },
);

/** Mostly one file, as a user picks; sometimes two or three at once. */
const picks: fc.Arbitrary<{ files: PickedFile[]; what: string[] }> = fc
  .oneof(
    { weight: 8, arbitrary: fc.constant(1) },
    { weight: 2, arbitrary: fc.integer({ min: 2, max: 3 }) },
  )
  .chain((n) => fc.array(fc.tuple(fileName, damaged), { minLength: n, maxLength: n }))
  .map((list) => ({
    files: list.map(([name, d]) => ({ name, text: d.text })),
    what: list.map(([, d]) => d.what),
  }));

/** The name as an error line quotes it: one line, cut at 160 characters. */
const quoted = (name: string) => {
  const flat = name.replace(/\s*[\r\n]+\s*/g, " ").trim();
  return (flat.length > 160 ? `${flat.slice(0, 160)}…` : flat) || "(unnamed file)";
};

describe("fuzz: summary.json as the explorer's results browser reads it", () => {
  it(`${RUNS} picks: a rendered report, or one error line naming the file`, {
    timeout: 1_800_000,
  }, async () => {
    const { render, drawn } = rememberingRenderer();
    const seen = new Map<string, number>();
    const count = (k: string) => seen.set(k, (seen.get(k) ?? 0) + 1);
    let slowest = 0;
    await fc.assert(
      fc.asyncProperty(picks, async ({ files, what }) => {
        const t0 = performance.now();
        const outcome = await loadResults(files, render);
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        expect(ms, `${what.join(" + ")}: ${ms.toFixed(0)} ms`).toBeLessThan(CASE_LIMIT_MS);
        if (!outcome.ok) {
          expect(outcome.error).not.toMatch(/[\r\n]/);
          expect(outcome.error.length).toBeLessThan(400);
          // names one of the files, then says what is wrong with it
          const named = files.find((f) => outcome.error.startsWith(`${quoted(f.name)}: `));
          expect(named, outcome.error).toBeDefined();
          expect(outcome.error).toMatch(
            /: (not valid JSON \(.+\)|a summary\.json holds one JSON object|no "experiment" field.*|not a valid summary \(.+\))$/,
          );
          count("error line");
          return;
        }
        expect(outcome.html).toMatch(/^<!doctype html>/i);
        // markup from the file is escaped: no element of it reaches the page
        expect(outcome.html).not.toMatch(/<(script|img)\b/i);
        expect(outcome.experiments).toHaveLength(files.length);
        for (const id of outcome.experiments)
          expect(outcome.html).toContain(`id="exp-${escapeHtml(id)}"`);
        if (what.every((w) => w.startsWith("intact") || w.startsWith("reformatted"))) {
          // valid files: every section has its verdict, tables and figures
          expect(outcome.html).not.toContain('class="badge na">error');
          expect(outcome.html.match(/<figure>/g)?.length ?? 0).toBeGreaterThanOrEqual(files.length);
          count("valid, rendered");
        } else count("damaged, rendered");
      }),
      { numRuns: RUNS, seed: FUZZ_SEED },
    );
    console.log(
      `fuzz web summary.json: ${[...seen].map(([k, v]) => `${k} ${v}`).join(", ")}; ` +
        `${drawn()} figures drawn; slowest case ${slowest.toFixed(0)} ms`,
    );
  });
});
