/** The HTML report: self-contained, complete, escaped, and rebuildable from disk. */
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  type AnyExperiment,
  runExperiment,
} from "../../packages/cli/src/experiments/framework/index.js";
import {
  escapeHtml,
  NoResultsError,
  renderReportHtml,
  writeReportFromDisk,
} from "../../packages/cli/src/report/html.js";
import { fakeFail, fakeSum } from "../experiments/framework.fixture.js";

const roots: string[] = [];
function tempOut(): string {
  const dir = mkdtempSync(join(tmpdir(), "ghosts-report-"));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const REGISTRY: Record<string, AnyExperiment> = { "fake-sum": fakeSum, "fake-fail": fakeFail };

/** Every URL-like attribute value of the page except the SVG namespace declarations. */
function externalRefs(html: string): string[] {
  return [...html.matchAll(/\s(src|href|action|xlink:href)\s*=\s*["']?([^"'\s>]+)/gi)]
    .map((m) => m[2])
    .filter((v) => !v.startsWith("#"));
}

describe("the HTML report", () => {
  it("is one self-contained page with every experiment's verdict, tables and figures", async () => {
    const out = tempOut();
    const sum = await runExperiment(fakeSum, { out, quick: true });
    const fail = await runExperiment(fakeFail, { out, seeds: [0, 1, 2] });
    const html = renderReportHtml(
      [
        { def: fakeSum, summary: sum.file, figures: sum.figures },
        { def: fakeFail, summary: fail.file, figures: fail.figures },
      ],
      { version: "9.9.9", date: new Date("2025-01-02T03:04:05Z") },
    );

    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).toContain("9.9.9");
    expect(html).toContain("2025-01-02T03:04:05.000Z");
    // nothing loaded from elsewhere: no external src/href, no <link>/<script>
    expect(externalRefs(html)).toEqual([]);
    expect(html).not.toMatch(/<link|<script|<img|@import|url\(http/i);
    const httpMentions = [...html.matchAll(/https?:\/\/[^"'\s]*/g)].map((m) => m[0]);
    expect(new Set(httpMentions)).toEqual(
      new Set(["http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"]),
    );
    // verdicts, escaped
    expect(html).toContain("Our values beat the &lt;paper&gt; at every scale.");
    expect(html).toContain("Nothing to compare.");
    // the claim and title, escaped
    expect(html).toContain("Values scale with r &lt; 10 &amp; more.");
    expect(html).toContain("Fake sum &lt;test&gt;");
    expect(html).not.toContain("<test>");
    expect(html).not.toContain("<paper>");
    expect(html).toContain("ours: median over seeds &lt;IQR&gt;");
    // table values: the medians (4 significant digits) and published numbers
    for (const row of sum.summary.rows) {
      expect(html).toContain(`<td class="num">${Number(row.median.toPrecision(4))}</td>`);
      expect(html).toContain(`<td class="num">${row.published}</td>`);
    }
    expect(html).toContain(`<td class="num">${0 + 10 + 20}</td>`); // fake-fail's total
    // both figures inline, with their captions
    expect(html.split("<figure><svg").length - 1).toBe(2);
    expect(html).toContain("<figcaption>Value vs scale</figcaption>");
    // wall time and compute, both labelled, in the overview and in each section
    expect(html).toContain("<th>Wall time</th><th>Compute</th>");
    expect(html).toMatch(/· wall [\d.]+ s · compute [\d.]+ s ·/);
    expect(html).toContain("added up over parallel threads");
    // config and seeds shown
    expect(html).toContain("&quot;scales&quot;");
    expect(html).toContain("Seeds: 0, 1, 2");
  });

  it("escapes every character that could open markup", () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;",
    );
  });

  it("leaves out an SVG that carries a script", async () => {
    const out = tempOut();
    const sum = await runExperiment(fakeSum, { out, quick: true });
    const html = renderReportHtml([
      {
        def: fakeSum,
        summary: sum.file,
        figures: [{ name: "evil", title: "x", svg: "<svg><script>alert(1)</script></svg>" }],
      },
    ]);
    expect(html).not.toContain("alert(1)");
    expect(html).toContain("figure evil is not a plain SVG document");
  });

  it("is rebuilt from the summaries on disk, re-rendering a missing figure", async () => {
    const out = tempOut();
    await expect(writeReportFromDisk(out, REGISTRY)).rejects.toThrow(NoResultsError);
    await runExperiment(fakeFail, { out, seeds: [0, 1] });
    const sum = await runExperiment(fakeSum, { out, quick: true });
    for (const ext of ["svg", "vl.json", "csv"]) {
      expect(existsSync(join(out, "fake-sum", `bars.${ext}`))).toBe(true);
    }
    unlinkSync(join(out, "fake-sum", "bars.svg"));
    unlinkSync(join(out, "fake-sum", "bars.csv"));

    const { path, experiments } = await writeReportFromDisk(out, REGISTRY);
    // the figures are drawn again and their files rewritten
    expect(readFileSync(join(out, "fake-sum", "bars.svg"), "utf8")).toBe(
      sum.figures.find((f) => f.name === "bars")?.svg,
    );
    expect(existsSync(join(out, "fake-sum", "bars.csv"))).toBe(true);
    expect(path).toBe(join(out, "index.html"));
    expect(experiments).toEqual(["fake-sum", "fake-fail"]); // registry order
    const html = readFileSync(path, "utf8");
    expect(html.split("<figure><svg").length - 1).toBe(2);
    expect(html).toContain(`<td class="num">${0 + 10}</td>`);
    expect(html).toContain(
      `<td class="num">${Number(sum.summary.rows[0].median.toPrecision(4))}</td>`,
    );

    // results of an experiment this version does not know still appear, marked as such
    const { experiments: withUnknown } = await writeReportFromDisk(out, { "fake-sum": fakeSum });
    expect(withUnknown).toEqual(["fake-sum", "fake-fail"]);
    expect(readFileSync(path, "utf8")).toContain("not registered in this version");
  });
});
