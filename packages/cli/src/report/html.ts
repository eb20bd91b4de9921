/**
 * The HTML report: one self-contained page (inline CSS and SVG, no external assets) with
 * every experiment's verdict, tables beside the published numbers, figures and settings.
 *
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { describeData } from "../experiments/framework/data.js";
import { encodeJson, writeFileAtomic } from "../experiments/framework/json.js";
import { formatDuration } from "../experiments/framework/progress.js";
import { firstIssue } from "../experiments/framework/run-file.js";
import { FIGURE_NAME_PATTERN, packageVersion } from "../experiments/framework/runner.js";
import {
  readAllSummaries,
  type SummaryFile,
  splitSummaryFile,
} from "../experiments/framework/summary.js";
import type {
  AnyExperiment,
  ExperimentReport,
  ReportTable,
} from "../experiments/framework/types.js";
import { figureTexts, writeFigureFiles } from "./figures.js";
import { formatNumber } from "./stats.js";

/** A figure ready to inline: an SVG document. */
export type InlineFigure = { name: string; title: string; svg: string };

/** One experiment of the report. */
export type ReportEntry = {
  /** The definition (for the claim and `report()`); `null` for results of an unknown experiment. */
  def: AnyExperiment | null;
  /** The contents of its `summary.json`. */
  summary: SummaryFile;
  figures: InlineFigure[];
};

/** Options of {@link renderReportHtml} and {@link writeReport}. */
export type ReportOptions = {
  /** Shown in the header (default: this package's version). */
  version?: string;
  /** Shown in the header (default: now). */
  date?: Date;
  /** Told of each `summary.json` that is left out because it is not valid, and why. */
  onInvalidSummary?: (path: string, reason: string) => void;
};

/** Raised when there is nothing to report. */
export class NoResultsError extends Error {
  override name = "NoResultsError";
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d9dde5; --bg-alt: #f5f7fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  max-width: 1100px; margin: 0 auto; padding: 24px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.3rem; margin: 40px 0 8px; padding-top: 12px; border-top: 2px solid var(--line); }
h2 small { color: var(--muted); font-weight: normal; font-size: 0.8rem; margin-left: 8px; }
.meta, .note, figcaption { color: var(--muted); font-size: 0.88rem; }
table { border-collapse: collapse; margin: 12px 0 4px; font-size: 0.9rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--bg-alt); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.8rem;
  font-weight: 600; color: #fff; white-space: nowrap; }
.badge.yes { background: #2e7d32; } .badge.partly { background: #c77700; }
.badge.no { background: #c62828; } .badge.na { background: #78808f; }
.claim { background: var(--bg-alt); border-left: 4px solid var(--line); padding: 8px 12px; }
.verdict { margin: 8px 0; }
.error { color: #c62828; }
figure { margin: 16px 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
pre { background: var(--bg-alt); padding: 8px; overflow-x: auto; font-size: 0.8rem; }
`;

const BADGE: Record<ExperimentReport["verdict"]["reproduced"], { cls: string; text: string }> = {
  yes: { cls: "yes", text: "reproduced" },
  partly: { cls: "partly", text: "partly" },
  no: { cls: "no", text: "not reproduced" },
  "n/a": { cls: "na", text: "n/a" },
};

function cell(v: string | number | null): string {
  if (typeof v === "number" || v === null)
    return `<td class="num">${escapeHtml(formatNumber(v))}</td>`;
  return `<td>${escapeHtml(v)}</td>`;
}

function tableHtml(t: ReportTable): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const rows = t.rows.map((r) => `<tr>${r.map(cell).join("")}</tr>`).join("\n");
  const note = t.note === undefined ? "" : `<p class="note">${escapeHtml(t.note)}</p>`;
  return `<table><caption>${escapeHtml(t.title)}</caption><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>${note}`;
}

/**
 * Makes an SVG document safe to inline next to others: drops an XML declaration, refuses
 * anything that is not a bare `<svg>` element or that holds scripts, and prefixes its ids
 * (clip paths, gradients) so two figures cannot resolve each other's `url(#…)`.
 */
function inlineSvg(svg: string, prefix: string): string | null {
  const body = svg.replace(/^\s*<\?xml[^>]*\?>\s*/, "").trim();
  if (!body.startsWith("<svg") || !body.endsWith("</svg>")) return null;
  if (/<script|<foreignObject|\son[a-z]+\s*=/i.test(body)) return null;
  return body
    .replace(/\sid="([^"]+)"/g, ` id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

/** The shape {@link renderReportHtml} needs from an experiment's `report()`. */
const reportSchema = z.object({
  tables: z.array(
    z.object({
      title: z.string(),
      columns: z.array(z.string()),
      rows: z.array(z.array(z.union([z.string(), z.number(), z.nan(), z.null()]))),
      note: z.string().optional(),
    }),
  ),
  verdict: z.object({
    reproduced: z.enum(["yes", "partly", "no", "n/a"]),
    sentence: z.string(),
  }),
});

function reportOf(entry: ReportEntry): ExperimentReport | { error: string } {
  if (entry.def === null) return { error: "this experiment is not registered in this version" };
  try {
    const report = entry.def.report(splitSummaryFile(entry.summary).summary);
    // a summary edited by hand, or written by another version, can yield a malformed report
    const checked = reportSchema.safeParse(report);
    if (!checked.success) {
      return {
        error: `the summary does not fit this version's report (${firstIssue(checked.error)})`,
      };
    }
    return report;
  } catch (err) {
    return {
      error: `cannot build the report: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

function badge(report: ExperimentReport | { error: string }): string {
  if ("error" in report) return `<span class="badge na">error</span>`;
  const b = BADGE[report.verdict.reproduced];
  return `<span class="badge ${b.cls}">${escapeHtml(b.text)}</span>`;
}

function sentence(report: ExperimentReport | { error: string }): string {
  return "error" in report
    ? `<span class="error">${escapeHtml(report.error)}</span>`
    : escapeHtml(report.verdict.sentence);
}

function sectionHtml(
  entry: ReportEntry,
  report: ExperimentReport | { error: string },
  n: number,
): string {
  const { meta } = splitSummaryFile(entry.summary);
  const id = meta.experiment;
  const title = entry.def?.title ?? meta.title ?? id;
  const parts: string[] = [
    `<section id="exp-${escapeHtml(id)}">`,
    `<h2>${escapeHtml(title)}<small>${escapeHtml(id)}</small></h2>`,
  ];
  if (entry.def !== null) {
    parts.push(`<p class="claim"><strong>Paper:</strong> ${escapeHtml(entry.def.claim)}</p>`);
  }
  parts.push(`<p class="verdict">${badge(report)} ${sentence(report)}</p>`);
  if (!("error" in report)) parts.push(...report.tables.map(tableHtml));
  entry.figures.forEach((f, k) => {
    const svg = inlineSvg(f.svg, `f${n}-${k}`);
    parts.push(
      svg === null
        ? `<p class="error">figure ${escapeHtml(f.name)} is not a plain SVG document and was left out</p>`
        : `<figure>${svg}<figcaption>${escapeHtml(f.title)}</figcaption></figure>`,
    );
  });
  const seeds = meta.seeds === null ? "experiment default" : meta.seeds.join(", ");
  parts.push(
    `<p class="meta">Seeds: ${escapeHtml(seeds)} · data: ${escapeHtml(describeData(meta.data))} · ` +
      `${meta.quick ? "quick" : "full"} protocol · ${escapeHtml(String(meta.runs))} runs · ` +
      `${escapeHtml(timingText(meta))} · ` +
      `version ${escapeHtml(meta.version)} · ${escapeHtml(meta.generatedAt)}</p>`,
    `<details><summary>Configuration</summary><pre>${escapeHtml(encodeJson(meta.config, "config"))}</pre></details>`,
    `</section>`,
  );
  return parts.join("\n");
}

/** What the wall and compute times mean, once for the page. */
const TIMING_NOTE =
  "Wall time: elapsed while the runs were executing (a grid resumed later counts only the time spent running). Compute: the runs' times added up over parallel threads.";

/** `wall 1 h 37 min · compute 3 h 15 min`; the wall time is "—" in files written before it was recorded. */
export function timingText(meta: { wallSeconds?: number; computeSeconds: number }): string {
  const wall = meta.wallSeconds === undefined ? "—" : formatDuration(meta.wallSeconds);
  return `wall ${wall} · compute ${formatDuration(meta.computeSeconds)}`;
}

/** The report page for `entries` (in the given order), as a string. */
export function renderReportHtml(entries: ReportEntry[], opts: ReportOptions = {}): string {
  const version = opts.version ?? packageVersion();
  const date = (opts.date ?? new Date()).toISOString();
  const reports = entries.map(reportOf);
  const overview = entries
    .map((e, i) => {
      const id = e.summary.experiment;
      const title = e.def?.title ?? e.summary.title ?? id;
      return (
        `<tr><td><a href="#exp-${escapeHtml(id)}">${escapeHtml(title)}</a></td>` +
        `<td>${badge(reports[i])}</td><td>${sentence(reports[i])}</td>` +
        `<td>${e.summary.quick ? "quick" : "full"}</td>` +
        `<td class="num">${escapeHtml(e.summary.wallSeconds === undefined ? "—" : formatDuration(e.summary.wallSeconds))}</td>` +
        `<td class="num">${escapeHtml(formatDuration(e.summary.computeSeconds))}</td></tr>`
      );
    })
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>softmax-ghosts — reproduction report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>softmax-ghosts — reproduction report</h1>
<p class="meta">Package version ${escapeHtml(version)} · generated ${escapeHtml(date)} · medians with interquartile ranges over seeds unless stated</p>
</header>
<section id="overview">
<table><caption>Experiments</caption>
<thead><tr><th>Experiment</th><th>Result</th><th>Verdict</th><th>Protocol</th><th>Wall time</th><th>Compute</th></tr></thead>
<tbody>
${overview}
</tbody></table>
<p class="note">${escapeHtml(TIMING_NOTE)}</p>
</section>
${entries.map((e, i) => sectionHtml(e, reports[i], i)).join("\n")}
</body>
</html>
`;
}

/** Writes {@link renderReportHtml} to `<out>/index.html` (atomically) and returns its path. */
export async function writeReport(
  out: string,
  entries: ReportEntry[],
  opts: ReportOptions = {},
): Promise<string> {
  const path = join(out, "index.html");
  await writeFileAtomic(path, renderReportHtml(entries, opts));
  return path;
}

/**
 * The figures of an experiment: drawn again from its summary, so they follow this
 * version's charts, and written to its folder (`.svg`, `.vl.json`, `.csv`). A figure that
 * cannot be written is still drawn; one that cannot be drawn is read from the SVG on disk,
 * else left out. Without a definition, the SVG files on disk are all there is.
 */
async function figuresFromDisk(
  dir: string,
  def: AnyExperiment | null,
  summary: SummaryFile,
): Promise<InlineFigure[]> {
  if (def === null) {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
      n.endsWith(".svg"),
    );
    return Promise.all(
      names.sort().map(async (n) => ({
        name: n.slice(0, -4),
        title: n.slice(0, -4),
        svg: await readFile(join(dir, n), "utf8"),
      })),
    );
  }
  let specs: ReturnType<AnyExperiment["figures"]>;
  try {
    specs = def.figures(splitSummaryFile(summary).summary);
  } catch {
    return []; // a summary written by another version; the report section shows the error
  }
  const figures: InlineFigure[] = [];
  for (const f of specs) {
    const svg = await (FIGURE_NAME_PATTERN.test(f.name)
      ? writeFigureFiles(dir, f).then((w) => w.texts.svg)
      : Promise.reject(new Error("not a file name"))
    )
      .catch(() => figureTexts(f.spec).then((t) => t.svg))
      .catch(() => readFile(join(dir, `${f.name}.svg`), "utf8"))
      .catch(() => null);
    if (svg !== null) figures.push({ name: f.name, title: f.title, svg });
  }
  return figures;
}

/**
 * Rebuilds `<out>/index.html` from every `<out>/<id>/summary.json` present: registered
 * experiments in registry order first, then unknown ones by id. The figures of registered
 * experiments are drawn again and rewritten beside their summaries.
 *
 * @returns the path written and the experiment ids included.
 * @throws {NoResultsError} if `out` holds no summary.
 */
export async function writeReportFromDisk(
  out: string,
  registry: Readonly<Record<string, AnyExperiment>>,
  opts: ReportOptions = {},
): Promise<{ path: string; experiments: string[] }> {
  const found = await readAllSummaries(out, opts.onInvalidSummary);
  if (found.size === 0) {
    throw new NoResultsError(`no results in ${out}: run 'ghosts run <experiment>' first`);
  }
  const order = [
    ...Object.keys(registry).filter((id) => found.has(id)),
    ...[...found.keys()].filter((id) => !Object.hasOwn(registry, id)).sort(),
  ];
  const entries: ReportEntry[] = [];
  for (const id of order) {
    const summary = found.get(id)!;
    const def = Object.hasOwn(registry, id) ? registry[id] : null;
    entries.push({ def, summary, figures: await figuresFromDisk(join(out, id), def, summary) });
  }
  return { path: await writeReport(out, entries, opts), experiments: order };
}
