/** A figure's files: the CSV writer, the chart's data rows, and a .vl.json that redraws its SVG. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { VegaLiteSpec } from "../../packages/cli/src/experiments/framework/types.js";
import { csvField, toCsv } from "../../packages/cli/src/report/csv.js";
import { chartRows, figureTexts, writeFigureFiles } from "../../packages/cli/src/report/figures.js";
import { lineWithBand, renderSvg } from "../../packages/cli/src/report/vega.js";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

describe("toCsv (RFC 4180)", () => {
  it("quotes only the fields that need it, doubling quotes, with CRLF line ends", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("a,b")).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(" padded")).toBe('" padded"');
    expect(csvField(null)).toBe("");
    expect(csvField(undefined)).toBe("");
    expect(csvField(Number.NaN)).toBe("NaN");
    expect(csvField(Number.NEGATIVE_INFINITY)).toBe("-Infinity");
    expect(csvField(0.1)).toBe("0.1");
    expect(csvField(true)).toBe("true");
    expect(csvField({ a: [1, 2] })).toBe('"{""a"":[1,2]}"');
    expect(
      toCsv([
        { a: 1, b: "x" },
        { b: "y,z", c: 3 },
      ]),
    ).toBe('a,b,c\r\n1,x,\r\n,"y,z",3\r\n');
    expect(toCsv([], ["a", "b"])).toBe("a,b\r\n");
  });

  it("reads back cell for cell with csv-parse, whatever the strings", () => {
    const cell = fc.oneof(
      fc.string({ unit: fc.constantFrom("a", " ", ",", '"', "\n", "\r", "é", "x", "1") }),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 8 }), (rows) => {
        const objs = rows.map(([a, b, c]) => ({ a, b, c }));
        const back = parse(toCsv(objs), { columns: true, relax_column_count: false }) as Record<
          string,
          string
        >[];
        expect(back).toEqual(objs);
      }),
      { seed: 9, numRuns: 200 },
    );
  });
});

describe("a figure's files", () => {
  const band = lineWithBand({
    data: [
      { r: 0.1, m: 1, lo: 0.5, hi: 2, arch: "mlp, small" },
      { r: 1, m: Number.NaN, lo: 0.5, hi: 2, arch: "mlp, small" },
      { r: 10, m: 3, lo: 2, hi: 4, arch: "mlp, small" },
    ],
    x: "r",
    y: "m",
    lo: "lo",
    hi: "hi",
    color: "arch",
    logX: true,
    rule: { x: 1, label: "r = 1" },
  });

  it("has the chart's data rows: one data set as is, several with a dataset column", () => {
    expect(chartRows(band)).toHaveLength(3);
    const layered = {
      layer: [
        { data: { name: "cells", values: [{ a: 1 }, { a: 2 }] }, mark: "point" },
        { data: { values: [3] }, mark: "rule" },
      ],
    } as unknown as VegaLiteSpec;
    expect(chartRows(layered)).toEqual([
      { dataset: "cells", a: 1 },
      { dataset: "cells", a: 2 },
      { dataset: "data2", value: 3 },
    ]);
  });

  it("writes the SVG, a .vl.json that renders to the same SVG, and the CSV", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ghosts-fig-"));
    roots.push(dir);
    const { paths } = await writeFigureFiles(dir, { name: "curve", title: "t", spec: band });
    const svg = readFileSync(paths.svg, "utf8");
    const spec = JSON.parse(readFileSync(paths.vegaLite, "utf8")) as VegaLiteSpec;
    expect(await renderSvg(spec)).toBe(svg);
    expect(svg).toBe((await figureTexts(band)).svg);
    // plain JSON that any Vega-Lite tool reads: the NaN is null
    expect(readFileSync(paths.vegaLite, "utf8")).not.toContain("NaN");
    const rows = parse(readFileSync(paths.csv, "utf8"), { columns: true }) as Record<
      string,
      string
    >[];
    expect(rows.map((r) => r.m)).toEqual(["1", "NaN", "3"]);
    expect(rows[0].arch).toBe("mlp, small");
  });
});
