import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DataError, loadCsv, parseCsv } from "../../src/data/index.js";

const dir = mkdtempSync(join(tmpdir(), "softmax-ghosts-csv-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes `text` (gzipped when the name ends in .gz) to a fresh temp file; returns its path. */
function write(name: string, text: string): string {
  const sub = join(dir, String(counter++));
  mkdirSync(sub);
  const p = join(sub, name);
  writeFileSync(p, name.endsWith(".gz") ? gzipSync(text) : text);
  return p;
}

const row = (vals: number[]) => vals.join(",");

describe("loadCsv: reading", () => {
  it("reads a headerless numeric file with the label last", () => {
    const p = write("plain.csv", "1,2,0\n3,4,1\n5,6.5,1\n");
    const ds = loadCsv(p);
    expect([ds.n, ds.d, ds.numClasses]).toEqual([3, 2, 2]);
    expect(Array.from(ds.x)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(Array.from(ds.y)).toEqual([0, 1, 1]);
    expect(ds.classNames).toEqual(["0", "1"]);
    expect(ds.featureNames).toBeUndefined();
  });

  it("detects a header and uses it for feature names; accepts URLs, CRLF, blanks, spaces", () => {
    const p = write("head.csv", "\r\nalpha, beta ,label\r\n1, 2 ,0\r\n\r\n-3e-1,+.5,1\r\n");
    const ds = loadCsv(pathToFileURL(p));
    expect(ds.featureNames).toEqual(["alpha", "beta"]);
    expect(Array.from(ds.x)).toEqual([1, 2, -0.3, 0.5]);
    expect(Array.from(ds.y)).toEqual([0, 1]);
  });

  it("honours a declared header: true / false", () => {
    // all-numeric first row, declared to be a header
    const p = write("numhead.csv", "10,20,30\n1,2,0\n3,4,1\n");
    expect(loadCsv(p, { header: true }).n).toBe(2);
    expect(loadCsv(p, { header: true }).featureNames).toEqual(["10", "20"]);
    expect(loadCsv(p).n).toBe(3); // auto: no header, 3 classes 0, 1, 30
    // a non-numeric first row declared as data is an error on line 1
    const q = write("texthead.csv", "a,b,c\n1,2,0\n3,4,1\n");
    expect(() => loadCsv(q, { header: false })).toThrow(
      /texthead\.csv: line 1: column 1: "a" is not a number/,
    );
  });

  it("takes the label from another column (positive or negative index)", () => {
    const p = write("lc.csv", "y,f1,f2\n1,0.5,0.25\n0,1.5,2.25\n1,3,4\n");
    const a = loadCsv(p, { labelColumn: 0 });
    expect(Array.from(a.y)).toEqual([1, 0, 1]);
    expect(Array.from(a.x)).toEqual([0.5, 0.25, 1.5, 2.25, 3, 4]);
    expect(a.featureNames).toEqual(["f1", "f2"]);
    const b = loadCsv(p, { labelColumn: -3 });
    expect(Array.from(b.y)).toEqual([1, 0, 1]);
    const c = write("mid.csv", "1,7,2\n3,9,4\n");
    const m = loadCsv(c, { labelColumn: 1 });
    expect(Array.from(m.x)).toEqual([1, 2, 3, 4]);
    expect(m.classNames).toEqual(["7", "9"]);
  });

  it("remaps non-contiguous labels to 0..C−1, keeping the originals as class names", () => {
    const p = write("remap.csv", "0.1,5\n0.2,-2\n0.3,10\n0.4,5\n0.5,-2\n");
    const ds = loadCsv(p);
    expect(ds.numClasses).toBe(3);
    expect(ds.classNames).toEqual(["-2", "5", "10"]);
    expect(Array.from(ds.y)).toEqual([1, 0, 2, 1, 0]);
    const q = write("onebased.csv", "0,1\n0,2\n0,3\n");
    expect(Array.from(loadCsv(q).y)).toEqual([0, 1, 2]);
    expect(loadCsv(q).classNames).toEqual(["1", "2", "3"]);
    // integer-valued labels written as floats are fine
    const r = write("floatlab.csv", "1,0.0\n2,1.0\n");
    expect(Array.from(loadCsv(r).y)).toEqual([0, 1]);
  });

  it("decompresses gzip transparently", () => {
    const p = write("z.csv.gz", "a,b,cls\n1,2,3\n4,5,7\n");
    const ds = loadCsv(p);
    expect(Array.from(ds.x)).toEqual([1, 2, 4, 5]);
    expect(ds.classNames).toEqual(["3", "7"]);
  });

  it("accepts declared numClasses and classNames", () => {
    const p = write("decl.csv", "1,0\n2,2\n3,0\n");
    const ds = loadCsv(p, { numClasses: 3, classNames: ["a", "b", "c"] });
    expect(ds.numClasses).toBe(3);
    expect(Array.from(ds.y)).toEqual([0, 2, 0]); // not remapped
    expect(ds.classNames).toEqual(["a", "b", "c"]);
  });

  it("parseCsv parses in-memory text", () => {
    expect(parseCsv("1;0\n2;1", { delimiter: ";" }).n).toBe(2);
  });
});

describe("loadCsv: errors", () => {
  const cols = (k: number, label: number) => row([...Array(k).fill(1), label]);

  it("ragged rows name the line and the counts", () => {
    const p = write("ragged.csv", [cols(64, 0), cols(64, 1), cols(63, 1)].join("\n"));
    expect(() => loadCsv(p)).toThrow(DataError);
    expect(() => loadCsv(p)).toThrow(/ragged\.csv: line 3: expected 65 columns, found 64/);
    const q = write("ragged2.csv", "a,b,c\n1,2,0\n1,2,3,4\n");
    expect(() => loadCsv(q)).toThrow(/line 3: expected 3 columns, found 4/);
  });

  it("non-numeric cells", () => {
    const p = write("text.csv", "1,2,0\n1,abc,1\n");
    expect(() => loadCsv(p)).toThrow(/text\.csv: line 2: column 2: "abc" is not a number/);
    const q = write("emptycell.csv", "1,2,0\n1,,1\n");
    expect(() => loadCsv(q)).toThrow(/line 2: column 2: "" is not a number/);
    const h = write("hex.csv", "1,2,0\n0x10,2,1\n");
    expect(() => loadCsv(h)).toThrow(/line 2: column 1: "0x10" is not a number/);
  });

  it("NaN and Infinity cells", () => {
    const cases: [string, RegExp][] = [
      ["1,2,0\nNaN,2,1\n", /line 2: column 1: "NaN" is not a finite number/],
      ["1,2,0\n1,2,0\n1,-Infinity,1\n", /line 3: column 2: "-Infinity" is not a finite number/],
      ["1,2,0\n1,inf,1\n", /line 2: column 2: "inf" is not a finite number/],
      ["1,2,0\n1,1e999,1\n", /line 2: column 2: "1e999" is not a finite number/],
      ["1,2,0\n1,2,nan\n", /line 2: column 3: "nan" is not a finite number/],
    ];
    for (const [text, re] of cases) expect(() => loadCsv(write("nan.csv", text))).toThrow(re);
  });

  it("non-integer labels", () => {
    const p = write("frac.csv", "1,2,0\n1,2,1\n1,2,1.5\n");
    expect(() => loadCsv(p)).toThrow(/frac\.csv: line 3: column 3: label "1\.5" is not an integer/);
  });

  it("a single class", () => {
    const p = write("one.csv", "1,4\n2,4\n3,4\n");
    expect(() => loadCsv(p)).toThrow(/one\.csv: only one class \(label 4\) found; need at least 2/);
  });

  it("fewer rows than declared classes, and labels outside the declared range", () => {
    const p = write("few.csv", "1,0\n2,1\n3,1\n");
    expect(() => loadCsv(p, { numClasses: 5 })).toThrow(
      /few\.csv: 3 rows is fewer than the 5 declared classes/,
    );
    expect(() => loadCsv(p, { numClasses: 1 })).toThrow(/numClasses must be an integer ≥ 2/);
    const q = write("range.csv", "1,0\n2,1\n3,2\n");
    expect(() => loadCsv(q, { numClasses: 2 })).toThrow(/line 3: column 2: label 2 outside 0\.\.1/);
  });

  it("empty files, header-only files, whitespace-only files", () => {
    expect(() => loadCsv(write("empty.csv", ""))).toThrow(/empty\.csv: empty file/);
    expect(() => loadCsv(write("blank.csv", "\n \n\t\n"))).toThrow(/blank\.csv: empty file/);
    expect(() => loadCsv(write("hdr.csv", "a,b,label\n\n"))).toThrow(
      /hdr\.csv: no data rows after the header/,
    );
    expect(() => loadCsv(write("empty.csv.gz", ""))).toThrow(/empty file/);
  });

  it("missing files, directories and corrupt gzip", () => {
    const missing = join(dir, "does-not-exist.csv");
    expect(() => loadCsv(missing)).toThrow(DataError);
    expect(() => loadCsv(missing)).toThrow(/does-not-exist\.csv: file not found/);
    expect(() => loadCsv(dir)).toThrow(/is a directory/);
    const bad = join(dir, "bad.csv.gz");
    writeFileSync(bad, Buffer.from([0x1f, 0x8b, 1, 2, 3, 4, 5]));
    expect(() => loadCsv(bad)).toThrow(/bad\.csv\.gz: not a valid gzip file/);
  });

  it("a single column, and a label column out of range", () => {
    expect(() => loadCsv(write("single.csv", "1\n2\n"))).toThrow(
      /line 1: expected at least 2 columns \(features and a label\), found 1/,
    );
    const p = write("lcbad.csv", "1,2,0\n1,2,1\n");
    expect(() => loadCsv(p, { labelColumn: 3 })).toThrow(
      /labelColumn 3 is out of range for 3 columns/,
    );
    expect(() => loadCsv(p, { labelColumn: -4 })).toThrow(/labelColumn -4 is out of range/);
  });

  it("errors carry file and line fields", () => {
    const p = write("fields.csv", "1,2,0\n1,x,1\n");
    try {
      loadCsv(p);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DataError);
      expect((e as DataError).line).toBe(2);
      expect((e as DataError).file).toBe(p);
      expect((e as DataError).name).toBe("DataError");
    }
  });
});
