/**
 * The results browser: a `summary.json` written by `ghosts run` (picked from disk or one of
 * the bundled `docs/results`), rendered by the library's own report code — the experiment's
 * `report()` tables and verdict and its `figures()` Vega-Lite specs drawn by `renderSvg` —
 * into the same page the HTML report shows. Loaded on demand: it pulls in every experiment.
 */

import { decodeJson } from "../../packages/cli/src/experiments/framework/json.js";
import type { SummaryFile } from "../../packages/cli/src/experiments/framework/summary.js";
import { splitSummaryFile } from "../../packages/cli/src/experiments/framework/summary.js";
import { EXPERIMENTS } from "../../packages/cli/src/experiments/registry.js";
import {
  type InlineFigure,
  renderReportHtml,
  renderSvg,
} from "../../packages/cli/src/report/index.js";

/** Parses a summary file's text; throws a one-line error naming the problem. */
export function parseSummary(text: string, name: string): SummaryFile {
  let value: unknown;
  try {
    value = decodeJson(text);
  } catch (e) {
    throw new Error(`${name}: not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${name}: a summary.json holds one JSON object`);
  }
  const summary = value as SummaryFile;
  if (typeof summary.experiment !== "string") {
    throw new Error(`${name}: no "experiment" field — is this a summary.json from 'ghosts run'?`);
  }
  return summary;
}

/** The report page (a full HTML document) for the given summaries. */
export async function reportHtml(summaries: SummaryFile[]): Promise<string> {
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
            specs.map(async (f) => ({
              name: f.name,
              title: f.title,
              svg: await renderSvg(f.spec),
            })),
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
    date: summaries[0]?.generatedAt ? new Date(summaries[0].generatedAt) : new Date(),
  });
}
