/** Vega-Lite → SVG rendering in Node, and the shared chart builders. */
import { describe, expect, it } from "vitest";
import {
  barGroups,
  compactSvg,
  FIGURE_CONFIG,
  figureSpec,
  lineWithBand,
  renderSvg,
  scatterPlot,
} from "../../packages/cli/src/report/vega.js";

/** Number of mark groups of a type (vega classes them `mark-<type> role-mark`). */
function markGroups(svg: string, type: string): number {
  return svg.split(`class="mark-${type} role-mark`).length - 1;
}

/**
 * Items per data mark group of a vega mark type (`symbol`, `line`, `rect`, …), in document
 * order; legends and axes are other roles and not counted. A non-group mark's items are
 * leaf elements, so its group ends at the first `</g>`.
 */
function markItems(svg: string, type: string): number[] {
  const re = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>([\\s\\S]*?)</g>`, "g");
  return [...svg.matchAll(re)].map(
    (m) => (m[1].match(/<(path|circle|line|rect|text)\b/g) ?? []).length,
  );
}

function items(svg: string, type: string): number {
  return markItems(svg, type).reduce((a, b) => a + b, 0);
}

/** The `width` of the root `<svg>`. */
function svgWidth(svg: string): number {
  return Number(/^<svg[^>]*\swidth="([\d.]+)"/.exec(svg)?.[1]);
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
    expect(items(svg, "symbol")).toBe(3);
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
    expect(items(svg, "line")).toBe(2); // one line and one band per group
    expect(items(svg, "area")).toBe(2);
    expect(items(svg, "symbol")).toBe(rows.length);
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
    expect(items(svg, "symbol")).toBe(2);
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
    expect(items(svg, "line")).toBe(2);
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
    expect(markItems(svg, "rect")).toEqual([4, 4]); // the bars, then the published ticks
    expect(markItems(svg, "rule")).toEqual([4, 1]); // the error bars, then the chance rule
    expect(texts(svg)).toContain("chance");
    expect(texts(svg)).toContain("ρ-clip");
  });
});

describe("the shared look and the SVG output", () => {
  it("draws legend swatches at full opacity, not the band's", async () => {
    const svg = await renderSvg(
      lineWithBand({ data: rows, x: "r", y: "median", lo: "q25", hi: "q75", color: "arch" }),
    );
    const swatches = [
      ...svg.matchAll(/<g class="mark-symbol role-legend-symbol"[^>]*>([\s\S]*?)<\/g>/g),
    ].flatMap((m) => m[1].match(/<(path|circle)[^>]*>/g) ?? []);
    expect(swatches).toHaveLength(2);
    for (const s of swatches) expect(s).not.toMatch(/\sopacity="0\.\d+"/);
    expect(svg).toContain('opacity="0.18"'); // the bands themselves stay light
  });

  it("keeps rule labels inside the plot: a label does not widen the figure", async () => {
    for (const facet of [undefined, { field: "arch", columns: 2 }]) {
      const chart = (label?: string) =>
        renderSvg(
          lineWithBand({
            data: rows,
            x: "r",
            y: "median",
            logX: true,
            logY: true,
            facet,
            rule: [
              { y: 10, label },
              { x: 1, label },
              { x: 80, label },
            ],
            width: 200,
            height: 150,
          }),
        );
      const [bare, labelled] = await Promise.all([chart(), chart("divergence")]);
      expect(texts(labelled).filter((t) => t === "divergence").length).toBeGreaterThanOrEqual(3);
      expect(svgWidth(labelled)).toBe(svgWidth(bare));
    }
  });

  it("figureSpec puts the shared config under the spec's own, and is idempotent", () => {
    const spec = lineWithBand({ data: rows, x: "r", y: "median", color: "arch" });
    const own = { ...spec, config: { legend: { symbolOpacity: 0.5 }, axis: { grid: false } } };
    const merged = figureSpec(own as never) as unknown as { config: Record<string, unknown> };
    expect(merged.config.legend).toEqual({ ...FIGURE_CONFIG.legend, symbolOpacity: 0.5 });
    expect(merged.config.axis).toEqual({ grid: false });
    expect(merged.config.mark).toEqual(FIGURE_CONFIG.mark);
    expect(figureSpec(merged as never)).toEqual(merged);
    expect((own as { config: unknown }).config).toEqual({
      legend: { symbolOpacity: 0.5 },
      axis: { grid: false },
    });
  });

  it("compactSvg rounds geometry to 0.1 px, never text, and writes circles as <circle>", () => {
    const svg =
      '<svg width="100" height="50"><g transform="translate(12.3456,7.0049)">' +
      '<path d="M1.26,0L3.14159.5L-0.04,2e-7Z" opacity="1"/>' +
      '<path aria-hidden="true" transform="translate(228.7965849561983,98.51405739937223)" ' +
      'd="M2.121,0A2.121,2.121,0,1,1,-2.121,0A2.121,2.121,0,1,1,2.121,0" fill="#4c78a8" opacity="0.45"/>' +
      '<path class="foreground" aria-hidden="true" d="" display="none"/>' +
      '<text x="1.23456" transform="translate(0.55,9)">0.123456</text></g></svg>';
    const out = compactSvg(svg);
    expect(out).toBe(
      '<svg width="100" height="50"><g transform="translate(12.3,7)">' +
        '<path d="M1.3,0L3.1 0.5L0,0Z"/>' +
        '<circle aria-hidden="true" cx="228.8" cy="98.5" r="2.1" fill="#4c78a8" opacity="0.45"/>' +
        '<text x="1.2" transform="translate(0.6,9)">0.123456</text></g></svg>',
    );
    expect(compactSvg(out)).toBe(out);
  });

  it("renders a large scatter compactly and without per-point labels", async () => {
    const values = Array.from({ length: 500 }, (_, i) => ({ a: i / 7, b: Math.sin(i) }));
    const svg = await renderSvg({
      data: { values },
      mark: "point",
      encoding: {
        x: { field: "a", type: "quantitative" },
        y: { field: "b", type: "quantitative" },
      },
    });
    expect(items(svg, "symbol")).toBe(500);
    expect(svg).not.toContain('aria-roledescription="point"');
    expect(svg).not.toMatch(/translate\(-?\d+\.\d{2,}/);
    expect(svg.length / 500).toBeLessThan(150); // vega's own output: about 330 bytes a point
  });
});

describe("scatterPlot", () => {
  it("draws one point per drawable row, leaves out ∞ and ≤ 0 on log axes, and labels the diagonals", async () => {
    const data = [
      { rho: 0.1, step: 0.3, kind: "gradient" },
      { rho: 2, step: 500, kind: "random" },
      { rho: 3, step: Number.POSITIVE_INFINITY, kind: "random" },
      { rho: 0, step: 4, kind: "random" },
      { rho: 5, step: 900, kind: "random" },
    ];
    const warnings: string[] = [];
    const svg = await renderSvg(
      scatterPlot({
        data,
        x: "rho",
        y: "step",
        color: "kind",
        logX: true,
        logY: true,
        diagonals: [{ c: 1, label: "y = x" }, { c: 10 }],
      }),
      { onWarning: (w) => warnings.push(w) },
    );
    expect(warnings).toEqual([]);
    expect(items(svg, "symbol")).toBe(3);
    // two diagonal segments, one labelled
    expect(markGroups(svg, "line")).toBe(2);
    expect(texts(svg)).toContain("y = x");
    expect(svg).not.toContain("NaN");
    expect(svg).not.toContain("Infinity");
  });
});
