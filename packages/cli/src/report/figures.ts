/**
 * A figure's files: `<name>.svg`, its Vega-Lite spec `<name>.vl.json` and its data rows
 * `<name>.csv`, so a reader can restyle or re-plot it without re-running anything.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../experiments/framework/json.js";
import type { FigureSpec, VegaLiteSpec } from "../experiments/framework/types.js";
import { toCsv } from "./csv.js";
import { figureSpec, type RenderOptions, renderSvg } from "./vega.js";

/** The three texts of a figure. */
export type FigureTexts = { svg: string; vegaLite: string; csv: string };

/** Paths of the files {@link writeFigureFiles} wrote. */
export type FigurePaths = { svg: string; vegaLite: string; csv: string };

type Node = { [key: string]: unknown };

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The inline data sets of a spec (top level, layers, a facet's inner spec, concatenations). */
function inlineData(spec: unknown, out: { name?: string; values: unknown[] }[] = []) {
  if (!isNode(spec)) return out;
  const data = spec.data;
  if (isNode(data) && Array.isArray(data.values)) {
    out.push({ name: typeof data.name === "string" ? data.name : undefined, values: data.values });
  }
  for (const key of ["layer", "hconcat", "vconcat", "concat"]) {
    const children = spec[key];
    if (Array.isArray(children)) for (const c of children) inlineData(c, out);
  }
  inlineData(spec.spec, out);
  return out;
}

/**
 * The chart's data rows, as the CSV holds them: the rows of its one inline data set, or,
 * when layers bring their own, all of them with a first column `dataset` (the data's
 * `name`, else `data1`, `data2`, … in spec order). A value that is not an object is the
 * row `{value}`.
 */
export function chartRows(spec: VegaLiteSpec): Record<string, unknown>[] {
  const sets = inlineData(spec);
  const rows = (values: unknown[]) => values.map((v) => (isNode(v) ? v : { value: v }));
  if (sets.length === 1) return rows(sets[0].values);
  return sets.flatMap((set, k) =>
    rows(set.values).map((r) => ({ dataset: set.name ?? `data${k + 1}`, ...r })),
  );
}

/**
 * The files of a figure: the spec as drawn ({@link figureSpec}, standard JSON: a non-finite
 * number becomes `null`, as any Vega-Lite tool would read it), the SVG rendered from exactly
 * that JSON — so rendering the `.vl.json` again gives the same SVG — and the data rows.
 */
export async function figureTexts(
  spec: VegaLiteSpec,
  opts: RenderOptions = {},
): Promise<FigureTexts> {
  const vegaLite = `${JSON.stringify(figureSpec(spec), null, 1)}\n`;
  const svg = await renderSvg(JSON.parse(vegaLite) as VegaLiteSpec, opts);
  return { svg, vegaLite, csv: toCsv(chartRows(spec)) };
}

/** Writes `<dir>/<name>.svg`, `.vl.json` and `.csv` of a figure (each atomically). */
export async function writeFigureFiles(
  dir: string,
  figure: FigureSpec,
): Promise<{ texts: FigureTexts; paths: FigurePaths }> {
  const texts = await figureTexts(figure.spec);
  const paths: FigurePaths = {
    svg: join(dir, `${figure.name}.svg`),
    vegaLite: join(dir, `${figure.name}.vl.json`),
    csv: join(dir, `${figure.name}.csv`),
  };
  await writeFileAtomic(paths.svg, texts.svg);
  await writeFileAtomic(paths.vegaLite, texts.vegaLite);
  await writeFileAtomic(paths.csv, texts.csv);
  return { texts, paths };
}
