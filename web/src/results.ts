/**
 * The results browser: a `summary.json` written by `ghosts run` (picked from disk or one of
 * the bundled `docs/results`), rendered by the library's own report code — the experiment's
 * `report()` tables and verdict and its `figures()` Vega-Lite specs drawn by `renderSvg` —
 * into the same page the HTML report shows. Loaded on demand: it pulls in every experiment.
 *
 * {@link loadResults} is the whole reading path, pure apart from rendering: text in, a page
 * or one error line out. It is what the page calls and what the fuzzer drives.
 */

import { decodeJson } from "../../packages/cli/src/experiments/framework/json.js";
import type { SummaryFile } from "../../packages/cli/src/experiments/framework/summary.js";
import {
  checkSummaryFile,
  splitSummaryFile,
} from "../../packages/cli/src/experiments/framework/summary.js";
import { EXPERIMENTS } from "../../packages/cli/src/experiments/registry.js";
import {
  type InlineFigure,
  renderReportHtml,
  renderSvg,
} from "../../packages/cli/src/report/index.js";

/** A file the user picked (or a bundled one): its name for messages, and its text. */
export type PickedFile = { name: string; text: string };

/** What {@link loadResults} gives: the report page, or one line saying what is wrong. */
export type ResultsOutcome =
  | { ok: true; html: string; experiments: string[] }
  | { ok: false; error: string };

/** Draws one Vega-Lite spec as an SVG document (the report's `renderSvg` by default). */
export type FigureRenderer = (spec: Parameters<typeof renderSvg>[0]) => Promise<string>;

/** A summary file that cannot be shown; the message is one line naming the file. */
export class SummaryFileError extends Error {
  override name = "SummaryFileError";
}

/** Longest part of a message quoted from the file or the decoder. */
const QUOTE_CHARS = 160;

/** One line: newlines folded, long quotes cut. */
function oneLine(text: string): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, " ").trim();
  return flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS)}…` : flat;
}

/**
 * Parses and validates a summary file's text with the checks `ghosts report` applies
 * (`checkSummaryFile`: the framework's fields, their types and ranges).
 *
 * @throws {SummaryFileError} naming the file and the first problem, in one line.
 */
export function parseSummary(text: string, name: string): SummaryFile {
  const label = oneLine(name) || "(unnamed file)";
  let value: ReturnType<typeof decodeJson>;
  try {
    value = decodeJson(text);
  } catch (e) {
    throw new SummaryFileError(`${label}: not valid JSON (${oneLine(String(e))})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SummaryFileError(`${label}: a summary.json holds one JSON object`);
  }
  if (typeof value.experiment !== "string") {
    throw new SummaryFileError(
      `${label}: no "experiment" field — is this a summary.json from 'ghosts run'?`,
    );
  }
  const checked = checkSummaryFile(value);
  if (checked.invalid !== undefined) {
    throw new SummaryFileError(`${label}: not a valid summary (${oneLine(checked.invalid)})`);
  }
  return checked.file;
}

/** The date shown in the header: the summary's own when it is a valid date, else now. */
function reportDate(summary: SummaryFile | undefined): Date {
  const date = summary === undefined ? new Date(Number.NaN) : new Date(summary.generatedAt);
  return Number.isFinite(date.getTime()) ? date : new Date();
}

/** The report page (a full HTML document) for the given (validated) summaries. */
export async function reportHtml(
  summaries: SummaryFile[],
  render: FigureRenderer = renderSvg,
): Promise<string> {
  const entries = await Promise.all(
    summaries.map(async (summary) => {
      const def = Object.hasOwn(EXPERIMENTS, summary.experiment)
        ? EXPERIMENTS[summary.experiment]
        : null;
      let figures: InlineFigure[] = [];
      if (def !== null) {
        try {
          const specs = def.figures(splitSummaryFile(summary).summary);
          figures = await Promise.all(
            specs.map(async (f) => ({ name: f.name, title: f.title, svg: await render(f.spec) })),
          );
        } catch {
          figures = []; // written by another version: the section shows the report's own error
        }
      }
      return { def, summary, figures };
    }),
  );
  return renderReportHtml(entries, {
    version: summaries[0]?.version ?? "unknown",
    date: reportDate(summaries[0]),
  });
}

/**
 * Reads the picked files and renders them as one report, or says in one line which file
 * is not a summary and why. Only a bug in this code throws.
 */
export async function loadResults(
  files: PickedFile[],
  render: FigureRenderer = renderSvg,
): Promise<ResultsOutcome> {
  if (files.length === 0) return { ok: false, error: "no file picked" };
  const summaries: SummaryFile[] = [];
  for (const f of files) {
    try {
      summaries.push(parseSummary(f.text, f.name));
    } catch (e) {
      if (e instanceof SummaryFileError) return { ok: false, error: e.message };
      throw e;
    }
  }
  return {
    ok: true,
    html: await reportHtml(summaries, render),
    experiments: summaries.map((s) => s.experiment),
  };
}
