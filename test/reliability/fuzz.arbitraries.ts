/**
 * Generators of hostile inputs for the fuzz tests (fast-check), shared by the in-process
 * fuzzers and the ones that drive the real `ghosts` process. Each surface mixes valid
 * inputs (so the correct path is exercised too) with every kind of damage a user's file
 * or command line can have.
 */
import { gzipSync } from "node:zlib";
import fc from "fast-check";

/** The seed of every fuzz run: failures reproduce with the same seed and path. */
export const FUZZ_SEED = 20_260_115;

/** Numbers at the edges of float64 beside ordinary ones. */
const EXTREMES = [
  0, -0, 1, -1, 1e308, -1e308, 1.5e308, -1.5e308, 5e-324, -5e-324, 1e-300, 1e4, -1e4,
];

export const finiteNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -50, max: 50, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(...EXTREMES) },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
);

/** A valid `ghosts radius` record: n samples of k classes, optional labels. */
export const radiusRecord: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    n: fc.integer({ min: 1, max: 4 }),
    k: fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 2, max: 6 }) },
      { weight: 1, arbitrary: fc.constant(40) },
    ),
    oneD: fc.boolean(),
    withLabels: fc.boolean(),
    seed: fc.integer(),
  })
  .chain(({ n, k, oneD, withLabels }) => {
    const rows = oneD ? 1 : n;
    const matrix = fc.array(fc.array(finiteNumber, { minLength: k, maxLength: k }), {
      minLength: rows,
      maxLength: rows,
    });
    return fc
      .record({
        logits: matrix,
        slopes: matrix,
        labels: fc.array(fc.integer({ min: 0, max: k - 1 }), { minLength: rows, maxLength: rows }),
      })
      .map(({ logits, slopes, labels }) => {
        const rec: Record<string, unknown> = oneD
          ? { logits: logits[0], slopes: slopes[0] }
          : { logits, slopes };
        if (withLabels) rec.labels = oneD ? labels[0] : labels;
        return rec;
      });
  });

/** Replaces a random part of a JSON value with something else. */
function damageValue(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  if (Array.isArray(value) && value.length > 0) {
    const i = path[0] % value.length;
    const copy = [...value];
    copy[i] = damageValue(copy[i], path.slice(1), replacement);
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 0) return replacement;
    const k = keys[path[0] % keys.length];
    return {
      ...(value as object),
      [k]: damageValue((value as Record<string, unknown>)[k], path.slice(1), replacement),
    };
  }
  return replacement;
}

/** A replacement for a damaged part: another type, a non-finite marker, a deep value. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom("NaN", "Infinity", "-Infinity", "", "1e999", null, true, [], {}, [[]], [1, [2]]),
  fc.double(),
);

/** Textual damage to a JSON text: truncation, garbage, NaN tokens, a BOM, CRLF. */
function damageText(text: string, how: number, at: number, extra: string): string {
  const i = text.length === 0 ? 0 : at % (text.length + 1);
  switch (how) {
    case 0:
      return text.slice(0, i);
    case 1:
      return text.slice(0, i) + extra + text.slice(i);
    case 2:
      return text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/i, "NaN");
    case 3:
      return text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/i, "1e400");
    case 4:
      return `\ufeff${text}`;
    default:
      return text;
  }
}

/** A text for `ghosts radius`: one record, JSON Lines of several, each possibly damaged. */
export const radiusInput: fc.Arbitrary<string> = fc
  .array(
    fc.record({
      rec: radiusRecord,
      damage: fc.oneof(
        { weight: 10, arbitrary: fc.constant(null) },
        { weight: 3, arbitrary: fc.tuple(fc.array(fc.nat(), { maxLength: 4 }), junk) },
      ),
      text: fc.oneof(
        { weight: 12, arbitrary: fc.constant(null) },
        {
          weight: 2,
          arbitrary: fc.tuple(
            fc.integer({ min: 0, max: 4 }),
            fc.nat(),
            fc.string({ maxLength: 4 }),
          ),
        },
      ),
    }),
    { minLength: 1, maxLength: 3 },
  )
  .chain((parts) =>
    fc
      .oneof(
        { weight: 9, arbitrary: fc.constantFrom("\n", "\r\n", "\n\n") },
        { weight: 1, arbitrary: fc.string({ maxLength: 3 }) },
      )
      .map((sep) =>
        parts
          .map(({ rec, damage, text }) => {
            const value = damage === null ? rec : damageValue(rec, damage[0], damage[1]);
            const json = JSON.stringify(value) ?? "undefined";
            return text === null ? json : damageText(json, text[0], text[1], text[2]);
          })
          .join(sep),
      ),
  );

/** One CSV cell, valid or not. */
const csvCell: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: finiteNumber.map(String) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map(String) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "NaN",
      "nan",
      "inf",
      "-Infinity",
      "1e400",
      "-1e999",
      "1,5",
      "0x10",
      "setosa",
      "versicolor",
      "é",
      "\u00a0",
      "2e-400",
      "+.5",
      "1.",
    ),
  },
  {
    weight: 1,
    arbitrary: fc.string({ maxLength: 6 }).map((s) => `"${s.replace(/"/g, '""')}"`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('"a,b"', '"x\ny"', '"5"', 'a"b', '"unterminated', '""', '"1"";2"'),
  },
);

/** A cell of a well-formed numeric file. */
const cleanCell: fc.Arbitrary<string> = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String),
  fc.integer({ min: -9, max: 9 }).map(String),
);

/** What a CSV file's text is built from before it becomes bytes. */
export type CsvCase = {
  bytes: Uint8Array;
  delimiter?: string;
  labelColumn?: number;
  header?: boolean;
};

/** A CSV file as bytes (possibly gzipped, with a BOM, invalid UTF-8, NUL, truncated) and load options. */
export const csvCase: fc.Arbitrary<CsvCase> = fc
  .record({
    ncols: fc.integer({ min: 1, max: 5 }),
    rows: fc.integer({ min: 0, max: 30 }),
    delimiter: fc.constantFrom(",", ";", "\t", "|"),
    eol: fc.constantFrom("\n", "\r\n", "\r"),
    header: fc.boolean(),
    clean: fc.boolean(),
  })
  .chain(({ ncols, rows, delimiter, eol, header, clean }) =>
    fc.record({
      header: header
        ? fc.array(
            fc.oneof(
              fc.constantFrom("a", "b", "label", '"quoted, name"'),
              fc.string({ maxLength: 5 }),
            ),
            {
              minLength: ncols,
              maxLength: ncols,
            },
          )
        : fc.constant(null),
      body: fc.array(
        fc
          .array(clean ? cleanCell : csvCell, { minLength: ncols, maxLength: ncols })
          .chain((cells) =>
            fc.oneof(
              { weight: clean ? 200 : 12, arbitrary: fc.constant(cells) },
              { weight: 1, arbitrary: fc.constant(cells.slice(1)) }, // a truncated row
              { weight: 1, arbitrary: fc.constant([...cells, "9"]) }, // an extra cell
            ),
          ),
        { minLength: rows, maxLength: rows },
      ),
      labels: fc.array(fc.constantFrom("0", "1", "2", "a", "b"), {
        minLength: rows,
        maxLength: rows,
      }),
      labelsFromCells: clean ? fc.constant(false) : fc.boolean(),
      bom: fc.boolean(),
      trailing: fc.boolean(),
      bytesDamage: fc.oneof(
        { weight: clean ? 100 : 10, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom(0xff, 0xc3, 0x00, 0x80, 0xfe)) },
      ),
      truncateAt: fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.nat() },
      ),
      gzip: fc.oneof(
        { weight: 15, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      delimiterOption: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.constant(delimiter) },
        { weight: 1, arbitrary: fc.constantFrom(",", ";", "", "ab", '"', "\n") },
      ),
      labelColumn: fc.oneof(
        { weight: 5, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.integer({ min: -6, max: 6 }) },
      ),
      headerOption: fc.constantFrom(undefined, undefined, true, false),
      delimiter: fc.constant(delimiter),
      eol: fc.constant(eol),
    }),
  )
  .map((c) => {
    const lines: string[] = [];
    if (c.header !== null) lines.push(c.header.join(c.delimiter));
    c.body.forEach((cells, i) => {
      const row =
        c.labelsFromCells || cells.length === 0 ? cells : [...cells.slice(0, -1), c.labels[i]];
      lines.push(row.join(c.delimiter));
    });
    let text = (c.bom ? "\ufeff" : "") + lines.join(c.eol) + (c.trailing ? c.eol : "");
    if (c.truncateAt !== null) text = text.slice(0, c.truncateAt % (text.length + 1));
    let bytes: Uint8Array = new TextEncoder().encode(text);
    if (c.bytesDamage !== null && bytes.length > 0) {
      bytes = Uint8Array.from(bytes);
      bytes[c.bytesDamage[0] % bytes.length] = c.bytesDamage[1];
    }
    if (c.gzip) bytes = gzipSync(bytes);
    return {
      bytes,
      delimiter: c.delimiterOption,
      labelColumn: c.labelColumn,
      header: c.headerOption,
    };
  });

/** Values a flag may be given, from plausible to hostile. */
export const flagValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "0",
    "1",
    "2",
    "-1",
    "1.5",
    "0.5",
    "1e9",
    "99999999999999999999",
    "NaN",
    "Infinity",
    "0,1",
    "0,0",
    "0,,1",
    "a,b",
    "digits",
    "cifar10:",
    "cifar10:/no/such/dir",
    "/proc/nope",
    "/sys/x",
    "-",
    "--",
    "tab",
    ";",
    "\\t",
    "é",
    "💥",
  ),
  fc.string({ maxLength: 8 }),
  fc.nat({ max: 100 }).map(String),
);

/** Every flag of every command, and some that do not exist. */
export const FLAGS = [
  "--quick",
  "--seeds",
  "--out",
  "-o",
  "--data",
  "--standardize",
  "--label-column",
  "--delimiter",
  "--jobs",
  "-j",
  "--quantile",
  "-q",
  "--seed",
  "--help",
  "-h",
  "--version",
  "-V",
  "--nope",
  "-x",
];

/** Flags followed by values (or not), in any order. */
export const flagTokens: fc.Arbitrary<string[]> = fc
  .array(fc.tuple(fc.constantFrom(...FLAGS), fc.oneof(fc.constant(null), flagValue)), {
    maxLength: 5,
  })
  .map((pairs) => pairs.flatMap(([f, v]) => (v === null ? [f] : [f, v])));
