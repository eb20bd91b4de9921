/** Vega-Lite → SVG rendering in Node, and the shared chart builders. */
import { describe, expect, it } from "vitest";
import { barGroups, lineWithBand, renderSvg } from "../../packages/cli/src/report/vega.js";

/** Number of mark groups of a type (vega classes them `mark-<type> role-mark`). */
function markGroups(svg: string, type: string): number {
  return svg.split(`class="mark-${type} role-mark`).length - 1;
}

/** Number of items vega describes with `aria-roledescription="<what>"`. */
function items(svg: string, what: string): number {
  return svg.split(`aria-roledescription="${what}"`).length - 1;
}

/** The text of every `<text>` element. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

const rows = [0.01, 0.1, 1, 10, 100].flatMap((r) =>
  ["mlp", "cnn"].map((arch) => ({ arch, r, median: r + 1, q25: r + 0.5, q75: r + 2 })),
);

describe("renderSvg", () => {
  it("renders a spec to a standalone SVG with the data's marks", async () => {
    const svg = await renderSvg({
      data: {
        values: [
          { a: 1, b: 2 },
          { a: 2, b: 3 },
          { a: 3, b: 1 },
        ],
      },
      mark: "point",
      encoding: {
        x: { field: "a", type: "quantitative" },
        y: { field: "b", type: "quantitative" },
      },
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(items(svg, "point")).toBe(3);
  });

  it("reports warnings and does not mutate the caller's data", async () => {
    const data = [{ a: 1 }];
    const warnings: string[] = [];
    await renderSvg(
      {
        data: { values: data },
        mark: "point",
        encoding: {
          x: { field: "a", type: "quantitative" },
          y: { field: "nope", type: "quantitative" },
        },
      },
      { onWarning: (w) => warnings.push(w) },
    );
    expect(Object.getOwnPropertySymbols(data[0])).toEqual([]);
    expect(() => JSON.stringify(data)).not.toThrow();
    expect(warnings.some((w) => w.includes('"nope"'))).toBe(true);
  });

  it("rejects an invalid spec", async () => {
    await expect(
      renderSvg({ data: { values: [] }, mark: "no-such-mark" } as never),
    ).rejects.toThrow();
  });
});

describe("lineWithBand", () => {
  it("draws a line and a band per group on log axes, with the r = 1 rule and its label", async () => {
    const svg = await renderSvg(
      lineWithBand({
        data: rows,
        x: "r",
        y: "median",
        lo: "q25",
        hi: "q75",
        color: "arch",
        logX: true,
        logY: true,
        rule: { x: 1, label: "r = 1" },
        xTitle: "r = τ / ρ_a",
      }),
    );
    expect(items(svg, "line mark")).toBe(2); // one line and one band per group
    expect(items(svg, "area mark")).toBe(2);
    expect(items(svg, "point")).toBe(rows.length);
    expect(markGroups(svg, "rule")).toBe(1);
    const t = texts(svg);
    expect(t).toContain("r = 1");
    expect(t).toContain("r = τ / ρ_a");
    // log x axis: decade ticks over 0.01..100
    for (const tick of ["0.01", "0.1", "1", "10", "100"]) expect(t).toContain(tick);
  });

  it("leaves out points a log axis cannot show instead of failing", async () => {
    const data = [
      { r: 0, median: 1, q25: 1, q75: 1 },
      { r: 1, median: 2, q25: 1, q75: 3 },
      { r: 10, median: Number.POSITIVE_INFINITY, q25: 1, q75: 3 },
      { r: 100, median: 3, q25: 0, q75: 4 },
    ];
    const svg = await renderSvg(
      lineWithBand({ data, x: "r", y: "median", lo: "q25", hi: "q75", logX: true, logY: true }),
    );
    // the line keeps r = 1 and r = 100: two points (finite, positive)
    expect(items(svg, "point")).toBe(2);
    expect(svg).not.toContain("NaN");
    expect(svg).not.toContain("Infinity");
  });

  it("makes one panel per facet value, in data order, each with its rule", async () => {
    const svg = await renderSvg(
      lineWithBand({
        data: rows,
        x: "r",
        y: "median",
        logX: true,
        facet: { field: "arch", columns: 2 },
        rule: { x: 1 },
      }),
    );
    const t = texts(svg);
    expect(t.indexOf("mlp")).toBeGreaterThanOrEqual(0);
    expect(t.indexOf("mlp")).toBeLessThan(t.indexOf("cnn"));
    expect(markGroups(svg, "rule")).toBe(2);
    expect(items(svg, "line mark")).toBe(2);
  });
});

describe("barGroups", () => {
  it("draws one bar per row, error bars and published ticks", async () => {
    const data = [
      { arch: "Transformer", method: "plain", acc: 0.318, lo: 0.2, hi: 0.4, pub: 0.318 },
      { arch: "Transformer", method: "ρ-clip", acc: 0.95, lo: 0.9, hi: 0.97, pub: 0.953 },
      { arch: "MLP+LN", method: "plain", acc: 0.45, lo: 0.3, hi: 0.5, pub: 0.446 },
      { arch: "MLP+LN", method: "ρ-clip", acc: 0.94, lo: 0.9, hi: 0.95, pub: 0.939 },
    ];
    const svg = await renderSvg(
      barGroups({
        data,
        x: "arch",
        y: "acc",
        group: "method",
        lo: "lo",
        hi: "hi",
        ref: "pub",
        yDomain: [0, 1],
        rule: { y: 0.1, label: "chance" },
      }),
    );
    expect(items(svg, "bar")).toBe(4);
    expect(items(svg, "tick")).toBe(4);
    expect(items(svg, "rule mark")).toBe(4); // the error bars
    expect(markGroups(svg, "rule")).toBe(2); // error bars and the chance rule
    expect(texts(svg)).toContain("chance");
    expect(texts(svg)).toContain("ρ-clip");
  });
});
