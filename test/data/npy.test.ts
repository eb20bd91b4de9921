/**
 * The .npy/.npz reader: NumPy's own files (written by numpy 2.4 into test/fixtures/numpy),
 * an independent writer written here from the format's description (round trips over
 * random dtypes, byte orders, shapes and orders), and fuzzing: damaged files always give an
 * NpyError, never another exception or a hang.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NpyArray, NpyError, parseNpy, parseNpz } from "../../src/data/npy.js";
import { type Case, caseArb, writeNpy, writeZip } from "./npy.helpers.js";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "numpy");
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

const Z = [1, 2, 3, 0.5, -1, 2, 3, 3, -2];
const A = [0, 1, 0.5, 2, 0, -2, 1, -1, 0];

describe("files written by NumPy", () => {
  it("reads float32, int64, float16, big-endian, Fortran order and 3-D arrays", () => {
    expect(parseNpy(fixture("logits.npy"))).toEqual({
      descr: "<f4",
      shape: [3, 3],
      data: Float64Array.from(Z),
    });
    expect(parseNpy(fixture("labels.npy"))).toMatchObject({
      descr: "<i8",
      shape: [3],
      data: Float64Array.from([2, 0, 1]),
    });
    expect(parseNpy(fixture("logits-f16.npy"))).toMatchObject({
      descr: "<f2",
      data: Float64Array.from(Z),
    });
    expect(parseNpy(fixture("slopes-fortran.npy"))).toMatchObject({
      shape: [3, 3],
      data: Float64Array.from(A),
    });
    expect(parseNpy(fixture("tokens-logits.npy")).shape).toEqual([2, 2, 3]);
  });

  it("reads np.savez (stored, zip64 fields) and np.savez_compressed (deflated) archives", () => {
    const stored = parseNpz(fixture("batch.npz"));
    expect([...stored.keys()].sort()).toEqual(["labels", "logits", "slopes"]);
    expect(stored.get("slopes")!.data).toEqual(Float64Array.from(A));
    const deflated = parseNpz(fixture("batch-compressed.npz"));
    expect(deflated.get("logits")).toMatchObject({ descr: "<f8", data: Float64Array.from(Z) });
    expect(deflated.get("slopes")).toMatchObject({ descr: ">f8", data: Float64Array.from(A) });
  });
});

const expectArray = (got: NpyArray, c: Case) => {
  expect(got.shape).toEqual(c.shape);
  expect(Array.from(got.data)).toEqual(c.values);
};

describe("round trips through an independent writer (seeded)", () => {
  it("10,000 random .npy files: dtype, byte order, version, order and shape", () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        expectArray(parseNpy(writeNpy(c)), c);
      }),
      { seed: 1401, numRuns: 10_000 },
    );
  });

  it("2,000 random .npz archives, stored and deflated", () => {
    fc.assert(
      fc.property(
        fc.array(caseArb, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (cases, deflate) => {
          const zip = writeZip(
            cases.map((c, i) => [`a${i}.npy`, writeNpy(c)]),
            deflate,
          );
          const got = parseNpz(zip);
          expect(got.size).toBe(cases.length);
          for (const [i, c] of cases.entries()) expectArray(got.get(`a${i}`)!, c);
        },
      ),
      { seed: 1402, numRuns: 2_000 },
    );
  });
});

describe("fuzzing: damaged files give one NpyError line", () => {
  const damage = fc.record({
    base: caseArb,
    cuts: fc.array(fc.record({ at: fc.nat(), byte: fc.nat({ max: 255 }) }), {
      minLength: 1,
      maxLength: 4,
    }),
    truncate: fc.option(fc.nat(), { nil: undefined }),
  });
  const apply = (bytes: Buffer, d: { cuts: { at: number; byte: number }[]; truncate?: number }) => {
    const out = Buffer.from(bytes);
    for (const { at, byte } of d.cuts) out[at % out.length] = byte;
    return d.truncate === undefined ? out : out.subarray(0, d.truncate % (out.length + 1));
  };
  const check = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(NpyError);
      expect((err as Error).message).not.toContain("\n");
    }
  };

  it("10,000 corrupted or truncated .npy files", () => {
    fc.assert(
      fc.property(damage, (d) => check(() => parseNpy(apply(writeNpy(d.base), d)))),
      { seed: 1403, numRuns: 10_000 },
    );
  });

  it("3,000 corrupted or truncated .npz archives", () => {
    fc.assert(
      fc.property(damage, fc.boolean(), (d, deflate) =>
        check(() => parseNpz(apply(writeZip([["x.npy", writeNpy(d.base)]], deflate), d))),
      ),
      { seed: 1404, numRuns: 3_000 },
    );
  });

  it("names each problem", () => {
    const ok = writeNpy({
      kind: 0,
      le: true,
      version: 1,
      fortran: false,
      shape: [2],
      values: [1, 2],
    });
    const withHeader = (h: string) => {
      const b = Buffer.from(ok);
      const body = h.padEnd(ok.readUInt16LE(8) - 1) + "\n";
      b.write(body, 10, "latin1");
      return b;
    };
    const cases: [Uint8Array, string][] = [
      [Buffer.from("hello world"), "not a .npy file (no \\x93NUMPY magic)"],
      [ok.subarray(0, ok.length - 1), "data has 15 bytes but shape (2) of '<f8' needs 16"],
      [
        withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }"),
        "unsupported dtype '|O'",
      ],
      [
        withHeader("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }"),
        "unsupported dtype '<c16'",
      ],
      [
        withHeader("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }"),
        "structured arrays",
      ],
      [withHeader("{'descr': '<f8', 'shape': (2,), }"), "header has no 'fortran_order' flag"],
      [
        withHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }"),
        "'shape' must be a tuple",
      ],
      [withHeader("import os"), "header is not a NumPy header dict"],
    ];
    for (const [bytes, message] of cases) {
      expect(() => parseNpy(bytes)).toThrow(NpyError);
      expect(() => parseNpy(bytes)).toThrow(message);
    }
    expect(() => parseNpz(Buffer.from("PK not really"))).toThrow("not a .npz file");
  });
});
