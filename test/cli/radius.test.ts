import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { binaryGhost, nearestGhost, rhoStarBinary, rhoTop2 } from "../../src/theory/index.js";
import { ghosts, jsonl } from "./helpers.js";

type Num = number | "Infinity";
interface Sample {
  spread: number;
  rhoA: Num;
  rhoStar: Num;
  ghost: { re: number; im: number } | null;
  certified: boolean;
  rhoTop2: Num;
}
interface Line {
  samples: Sample[];
  rhoA: Num;
  rhoStar: Num;
}

const BIN = { logits: [2, -1], slopes: [0.8, -0.4] };
const THREE = {
  logits: [
    [1, 2, 3],
    [0.5, -1, 2],
    [3, 3, -2],
  ],
  slopes: [
    [0, 1, 0.5],
    [2, 0, -2],
    [1, -1, 0],
  ],
};
const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.abs(b);

describe("ghosts radius: valid input", () => {
  it("one 1-D object: one sample, closed forms for K = 2", async () => {
    const r = await ghosts(["radius"], JSON.stringify(BIN));
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.lines).toHaveLength(1);
    const line = r.lines[0] as Line;
    expect(Object.keys(line)).toEqual(["samples", "rhoA", "rhoStar"]);
    const s = line.samples[0];
    expect(Object.keys(s)).toEqual(["spread", "rhoA", "rhoStar", "ghost", "certified", "rhoTop2"]);
    expect(s.spread).toBeCloseTo(1.2, 14);
    expect(s.rhoA).toBeCloseTo(Math.PI / 1.2, 14);
    expect(s.rhoTop2).toBe(rhoStarBinary(3, 1.2000000000000002));
    expect(close(s.rhoStar as number, rhoStarBinary(3, 1.2))).toBe(true);
    const g = binaryGhost(3, 1.2)!;
    expect(close(s.ghost!.re, g.re)).toBe(true);
    expect(close(s.ghost!.im, g.im)).toBe(true);
    // the solver's own verdict, passed through
    expect(s.certified).toBe(nearestGhost(BIN.logits, BIN.slopes).certified);
    expect(line.rhoA).toBe(s.rhoA);
    expect(line.rhoStar).toBe(s.rhoStar);
  });

  it("a pretty-printed (multi-line) single object is one record", async () => {
    const r = await ghosts(["radius"], `\n${JSON.stringify(THREE, null, 2)}\n`);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect((r.lines[0] as Line).samples).toHaveLength(3);
  });

  it("2-D object: per-row samples, set ρ_a = π / max spread, ρ* = min ρ*, ρ* ≥ ρ_a", async () => {
    const r = await ghosts(["radius"], JSON.stringify(THREE));
    const line = r.lines[0] as Line;
    expect(line.samples.map((s) => s.spread)).toEqual([1, 4, 2]);
    expect(line.rhoA).toBe(Math.PI / 4);
    const stars = line.samples.map((s) => s.rhoStar as number);
    expect(line.rhoStar).toBe(Math.min(...stars));
    for (const s of line.samples) {
      expect(s.rhoStar as number).toBeGreaterThanOrEqual((s.rhoA as number) * (1 - 1e-12));
      expect(s.ghost!.im).toBeGreaterThan(0);
      expect(Math.hypot(s.ghost!.re, s.ghost!.im)).toBeCloseTo(s.rhoStar as number, 12);
    }
    THREE.logits.forEach((z, i) => {
      expect(line.samples[i].rhoTop2).toBe(rhoTop2(z, THREE.slopes[i]));
    });
  });

  it("labels: ρ_top2 uses the label and its strongest rival", async () => {
    const labels = [0, 1, 2];
    const r = await ghosts(["radius"], JSON.stringify({ ...THREE, labels }));
    expect(r.code).toBe(0);
    const line = r.lines[0] as Line;
    THREE.logits.forEach((z, i) => {
      expect(line.samples[i].rhoTop2).toBe(rhoTop2(z, THREE.slopes[i], labels[i]));
    });
    expect(line.samples[0].rhoTop2).not.toBe(rhoTop2(THREE.logits[0], THREE.slopes[0]));
    // a scalar label for a 1-D sample, and [y] for it too
    const a = await ghosts(["radius"], JSON.stringify({ ...BIN, labels: 1 }));
    const b = await ghosts(["radius"], JSON.stringify({ ...BIN, labels: [1] }));
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
  });

  it("JSON Lines: one output line per record, blank lines skipped", async () => {
    const input = `${JSON.stringify(BIN)}\n\n   \n${JSON.stringify(THREE)}\r\n${JSON.stringify(BIN)}`;
    const r = await ghosts(["radius"], input);
    expect(r.code).toBe(0);
    expect(r.err).toBe("");
    expect(r.lines).toHaveLength(3);
    expect(r.out.endsWith("\n")).toBe(true);
    expect(r.lines[0]).toEqual(r.lines[2]);
    expect((r.lines[1] as Line).samples).toHaveLength(3);
  });

  it("reads a file argument the same as stdin ('-' is stdin)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ghosts-"));
    const file = join(dir, "in.jsonl");
    const input = jsonl(BIN, THREE);
    writeFileSync(file, input);
    const fromFile = await ghosts(["radius", file]);
    const fromStdin = await ghosts(["radius"], input);
    const dash = await ghosts(["radius", "-"], input);
    expect(fromFile.code).toBe(0);
    expect(fromFile.lines).toHaveLength(2);
    expect(fromFile.out).toBe(fromStdin.out);
    expect(dash.out).toBe(fromStdin.out);
  });

  it("--quantile: set ρ_a = π / quantile of spreads (linear interpolation)", async () => {
    const input = JSON.stringify(THREE); // spreads 1, 4, 2
    const at = async (...args: string[]) =>
      ((await ghosts(["radius", ...args], input)).lines[0] as Line).rhoA;
    expect(await at()).toBe(Math.PI / 4);
    expect(await at("--quantile", "1")).toBe(Math.PI / 4);
    expect(await at("--quantile", "0.5")).toBe(Math.PI / 2);
    expect(await at("-q", "0.75")).toBe(Math.PI / 3);
    expect(await at("--quantile=0.25")).toBe(Math.PI / 1.5);
    // ρ* stays the minimum
    const r = await ghosts(["radius", "-q", "0.5"], input);
    const line = r.lines[0] as Line;
    expect(line.rhoStar).toBe(Math.min(...line.samples.map((s) => s.rhoStar as number)));
  });

  it('writes Infinity as the string "Infinity" when all slopes are equal; no NaN', async () => {
    const r = await ghosts(
      ["radius"],
      JSON.stringify({ logits: [[1, 2, 3]], slopes: [[0.5, 0.5, 0.5]], labels: [0] }),
    );
    expect(r.code).toBe(0);
    expect(r.out).not.toMatch(/NaN/);
    expect(r.out).toBe(
      '{"samples":[{"spread":0,"rhoA":"Infinity","rhoStar":"Infinity","ghost":null,' +
        '"certified":true,"rhoTop2":"Infinity"}],"rhoA":"Infinity","rhoStar":"Infinity"}\n',
    );
    // mixed: the set values stay finite
    const m = await ghosts(
      ["radius"],
      JSON.stringify({
        logits: [
          [0, 1],
          [0, 1],
        ],
        slopes: [
          [2, 2],
          [0, 1],
        ],
      }),
    );
    const line = m.lines[0] as Line;
    expect(line.samples[0].rhoStar).toBe("Infinity");
    expect(line.rhoA).toBe(Math.PI);
    expect(typeof line.rhoStar).toBe("number");
  });

  it("ignores extra keys and a UTF-8 byte-order mark", async () => {
    const r = await ghosts(["radius"], `\ufeff${JSON.stringify({ id: "x", ...BIN })}`);
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
  });
});

/** Each bad record comes after two valid ones (lines 1 and 2) and is on line 3. */
const BAD: [string, unknown, string][] = [
  ["malformed JSON", '{"logits": [1, 2], "slopes": [1, ', "__malformed__"],
  ["not an object", "[1, 2]", 'expected a JSON object with "logits" and "slopes", got an array'],
  ["missing slopes", { logits: [1, 2] }, "slopes is required"],
  ["logits not an array", { logits: 3, slopes: [1, 2] }, "logits must be an array, got number 3"],
  [
    "row length mismatch",
    {
      logits: [Array(10).fill(0), Array(10).fill(0), Array(10).fill(0)],
      slopes: [Array(10).fill(1), Array(10).fill(1), Array(9).fill(1)],
    },
    "logits and slopes differ in shape (row 2 has 10 vs 9 entries)",
  ],
  [
    "1-D length mismatch",
    { logits: [1, 2, 3], slopes: [1, 2] },
    "logits and slopes differ in shape (3 vs 2 entries)",
  ],
  [
    "1-D vs 2-D",
    { logits: [1, 2, 3], slopes: [[1, 2, 3]] },
    "logits and slopes differ in shape (logits is 1-D with 3 entries, slopes is 2-D with 1 rows)",
  ],
  [
    "row count mismatch",
    {
      logits: [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      slopes: [
        [1, 2],
        [3, 4],
      ],
    },
    "logits and slopes differ in shape (logits has 3 rows vs slopes 2)",
  ],
  [
    "ragged rows",
    {
      logits: [
        [1, 2, 3],
        [4, 5],
      ],
      slopes: [
        [1, 2, 3],
        [4, 5],
      ],
    },
    "logits rows differ in length (row 0 has 3 entries, row 1 has 2)",
  ],
  ["empty logits", { logits: [], slopes: [] }, "logits is empty"],
  ["empty row", { logits: [[1, 2], []], slopes: [[1, 2], []] }, "logits[1] is empty"],
  ["empty slopes", { logits: [1, 2], slopes: [] }, "slopes is empty"],
  ["one class", { logits: [1], slopes: [2] }, "a sample needs at least 2 classes, got 1"],
  [
    "mixed row kinds",
    {
      logits: [[1, 2], 3],
      slopes: [
        [1, 2],
        [3, 4],
      ],
    },
    "logits[1] must be an array (a row), got number 3",
  ],
  [
    "nested too deep",
    { logits: [1, [2]], slopes: [1, 2] },
    "logits[1] must be a number, got an array",
  ],
  [
    '"NaN" string',
    { logits: [1, 2], slopes: [1, "NaN"] },
    'slopes[1] must be a number, got the string "NaN"',
  ],
  [
    '"Infinity" string',
    { logits: [[1, "Infinity"]], slopes: [[1, 2]] },
    'logits[0][1] must be a number, got the string "Infinity"',
  ],
  ["null entry", { logits: [1, null], slopes: [1, 2] }, "logits[1] must be a number, got null"],
  [
    "1e999",
    '{"logits": [1e999, 2], "slopes": [1, 2]}',
    "logits[0] is not a finite number (overflows float64)",
  ],
  [
    "-1e999 in a row",
    '{"logits": [[1, 2]], "slopes": [[1, -1e999]]}',
    "slopes[0][1] is not a finite number (overflows float64)",
  ],
  [
    "label out of range",
    {
      logits: [
        [1, 2, 3],
        [1, 2, 3],
      ],
      slopes: [
        [1, 2, 3],
        [1, 2, 3],
      ],
      labels: [0, 3],
    },
    "labels[1] is 3, out of range for 3 classes (0..2)",
  ],
  [
    "negative label",
    { logits: [1, 2, 3], slopes: [1, 2, 3], labels: -1 },
    "labels is -1, out of range for 3 classes (0..2)",
  ],
  [
    "non-integer label",
    { logits: [[1, 2, 3]], slopes: [[1, 2, 3]], labels: [1.5] },
    "labels[0] is 1.5, not an integer class index",
  ],
  [
    "labels count mismatch",
    {
      logits: [
        [1, 2],
        [1, 2],
        [1, 2],
      ],
      slopes: [
        [1, 2],
        [1, 2],
        [1, 2],
      ],
      labels: [0, 1],
    },
    "labels has 2 entries but logits has 3 rows",
  ],
  [
    "labels count mismatch (1-D)",
    { logits: [1, 2], slopes: [1, 2], labels: [0, 1] },
    "labels has 2 entries but logits is one sample",
  ],
  [
    "scalar label for many rows",
    {
      logits: [
        [1, 2],
        [1, 2],
      ],
      slopes: [
        [1, 2],
        [1, 2],
      ],
      labels: 0,
    },
    "labels is a single number but logits has 2 rows; give one label per row",
  ],
  [
    "labels of a wrong type",
    { logits: [1, 2], slopes: [1, 2], labels: "a" },
    'labels must be a number or an array, got the string "a"',
  ],
  [
    "label of a wrong type",
    { logits: [1, 2], slopes: [1, 2], labels: [true] },
    "labels[0] must be a number, got a boolean true",
  ],
];

describe("ghosts radius: bad input exits 2 with one line naming the record", () => {
  for (const [name, record, message] of BAD) {
    it(name, async () => {
      const input = jsonl(BIN, THREE, record, BIN);
      const r = await ghosts(["radius"], input);
      expect(r.code).toBe(2);
      if (message === "__malformed__") {
        expect(r.err).toMatch(/^ghosts: line 3: malformed JSON \(.+\)\n$/);
      } else {
        expect(r.err).toBe(`ghosts: line 3: ${message}\n`);
      }
      // the two valid records before it were written, the one after it was not
      expect(r.lines).toHaveLength(2);
      expect((r.lines[1] as Line).samples).toHaveLength(3);
    });
  }

  it("a bad single (whole-input) object is named by the line it starts on", async () => {
    const r = await ghosts(
      ["radius"],
      `\n\n${JSON.stringify({ logits: [1, 2], slopes: [1] }, null, 2)}`,
    );
    expect(r.code).toBe(2);
    expect(r.err).toBe("ghosts: line 3: logits and slopes differ in shape (2 vs 1 entries)\n");
    expect(r.out).toBe("");
  });

  it("blank-line numbering: line numbers count blank lines", async () => {
    const r = await ghosts(["radius"], `${JSON.stringify(BIN)}\n\n\n{oops}\n`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^ghosts: line 4: malformed JSON/);
    expect(r.lines).toHaveLength(1);
  });

  it("--quantile outside (0, 1] or not a number", async () => {
    for (const q of ["0", "1.5", "-0.2", "abc", "", "NaN", "Infinity"]) {
      const r = await ghosts(["radius", "--quantile", q], JSON.stringify(BIN));
      expect(r.code).toBe(2);
      expect(r.err).toBe(`ghosts: --quantile must be a number in (0, 1], got '${q}'\n`);
      expect(r.out).toBe("");
    }
    const missing = await ghosts(["radius", "--quantile"], JSON.stringify(BIN));
    expect(missing.code).toBe(2);
    expect(missing.err).toBe("ghosts: option '-q, --quantile <q>' argument missing\n");
  });

  it("empty input, unreadable file", async () => {
    const empty = await ghosts(["radius"], " \n\n");
    expect(empty.code).toBe(2);
    expect(empty.err).toBe("ghosts: input is empty: expected a JSON object or JSON Lines\n");
    const missing = await ghosts(["radius", "/nonexistent/in.jsonl"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toBe("ghosts: cannot read /nonexistent/in.jsonl: no such file\n");
    const dir = await ghosts(["radius", tmpdir()]);
    expect(dir.code).toBe(2);
    expect(dir.err).toBe(`ghosts: cannot read ${tmpdir()}: is a directory\n`);
  });
});

describe("ghosts: program-level errors and help", () => {
  it("missing or unknown command, unknown option: exit 2, one line", async () => {
    const none = await ghosts([]);
    expect(none).toMatchObject({ code: 2, err: "ghosts: missing command; see 'ghosts --help'\n" });
    const unknown = await ghosts(["radus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe("ghosts: unknown command 'radus' (Did you mean radius?)\n");
    const opt = await ghosts(["radius", "--frobnicate"], "{}");
    expect(opt.code).toBe(2);
    expect(opt.err).toBe("ghosts: unknown option '--frobnicate'\n");
    const extra = await ghosts(["radius", "a", "b"]);
    expect(extra.code).toBe(2);
    expect(extra.err).toMatch(/^ghosts: too many arguments/);
    expect(extra.err.split("\n")).toHaveLength(2);
  });

  it("--help and --version go to stdout with exit 0", async () => {
    const help = await ghosts(["--help"]);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Usage: ghosts/);
    expect(help.out).toMatch(/radius/);
    expect(help.out).toMatch(/explain/);
    const sub = await ghosts(["radius", "--help"]);
    expect(sub.code).toBe(0);
    expect(sub.out).toMatch(/--quantile/);
    const version = await ghosts(["--version"]);
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
