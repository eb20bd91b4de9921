/**
 * Figures: Vega-Lite specs rendered to standalone SVG in Node (no canvas, no browser), and
 * builders for the chart shapes most experiments need.
 *
 * @module
 */

import type { LoggerInterface } from "vega";
import * as vega from "vega";
import { compile } from "vega-lite";
import type { JsonValue, VegaLiteSpec } from "../experiments/framework/types.js";

/** Options of {@link renderSvg}. */
export type RenderOptions = {
  /** Receives Vega-Lite and Vega warnings (e.g. an unknown field); ignored when absent. */
  onWarning?: (message: string) => void;
};

function collectingLogger(onWarning: (message: string) => void): LoggerInterface {
  let level = 2; // vega.Warn
  const logger: LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: unknown[]) {
      throw new Error(args.map(String).join(" "));
    },
    warn(...args: unknown[]) {
      onWarning(args.map(String).join(" "));
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

/**
 * Renders a Vega-Lite spec to an SVG document (`<svg xmlns=…>…</svg>`): compiled with
 * vega-lite, run by a headless `vega.View` with `renderer: "none"`. Text is measured with
 * vega's estimate (no canvas needed), so labels may be placed a few pixels off.
 *
 * @throws {Error} if the spec is invalid.
 */
export async function renderSvg(spec: VegaLiteSpec, opts: RenderOptions = {}): Promise<string> {
  const logger = collectingLogger(opts.onWarning ?? (() => {}));
  // vega tags the data rows it ingests (a symbol key on each object): work on a copy so
  // the caller's objects — often an experiment's summary — stay untouched
  const compiled = compile(structuredClone(spec), { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One row of chart data. */
export type ChartRow = { [field: string]: JsonValue };

/** A reference line: vertical at `x` or horizontal at `y`, with an optional label. */
export type RuleSpec = { x: number; label?: string } | { y: number; label?: string };

/** Options of {@link lineWithBand}. */
export type LineWithBandOptions = {
  /** One row per point (e.g. per r × method), already aggregated over seeds. */
  data: ChartRow[];
  /** Field of the horizontal position. */
  x: string;
  /** Field of the line (e.g. the median over seeds). */
  y: string;
  /** Fields of the band's lower and upper edge (e.g. the 25% and 75% quantiles). */
  lo?: string;
  hi?: string;
  /** Field that splits the data into coloured lines (e.g. the method). */
  color?: string;
  /** Makes one panel per value of a field (e.g. the architecture), `columns` per row. */
  facet?: { field: string; columns?: number; title?: string };
  title?: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  /** Log-scaled axes. Values ≤ 0 on a log axis are left out (they have no position). */
  logX?: boolean;
  logY?: boolean;
  /** Fixed y range, e.g. `[0, 1]` for an accuracy. */
  yDomain?: [number, number];
  /** Reference lines, e.g. `{x: 1, label: "r = 1"}`. */
  rule?: RuleSpec | RuleSpec[];
  /** Draw a point at each datum (default true). */
  points?: boolean;
  /** Size of one panel in pixels (default 420 × 260). */
  width?: number;
  height?: number;
};

/** A Vega expression testing that `field` holds a finite number (and > 0 when `positive`). */
function validNumber(field: string, positive: boolean): string {
  const ref = `datum[${JSON.stringify(field)}]`;
  return `isNumber(${ref}) && isFinite(${ref})${positive ? ` && ${ref} > 0` : ""}`;
}

type Layer = Record<string, unknown>;

/** Layers drawing the rules over the data's scales: one mark per panel, not one per row. */
function ruleLayers(rules: RuleSpec[]): Layer[] {
  return rules.flatMap((rule): Layer[] => {
    const vertical = "x" in rule;
    const position = vertical
      ? { x: { datum: rule.x, type: "quantitative" } }
      : { y: { datum: rule.y, type: "quantitative" } };
    // Aggregating to a single row per panel draws the rule once, also inside a facet.
    const transform = [{ aggregate: [{ op: "count", as: "__rows" }] }];
    const layers: Layer[] = [
      {
        transform,
        mark: { type: "rule", strokeDash: [5, 4], color: "#555" },
        encoding: position,
      },
    ];
    if (rule.label !== undefined) {
      layers.push({
        transform,
        mark: vertical
          ? { type: "text", align: "left", baseline: "top", dx: 4, dy: 4, color: "#333" }
          : { type: "text", align: "right", baseline: "bottom", dy: -3, color: "#333" },
        encoding: {
          ...position,
          ...(vertical ? { y: { value: 0 } } : { x: { value: { expr: "width" } } }),
          text: { value: rule.label },
        },
      });
    }
    return layers;
  });
}

function asRules(rule: RuleSpec | RuleSpec[] | undefined): RuleSpec[] {
  return rule === undefined ? [] : Array.isArray(rule) ? rule : [rule];
}

/** The distinct values of `field` in order of first appearance. */
function distinctInOrder(data: ChartRow[], field: string): JsonValue[] {
  const seen = new Set<string>();
  const out: JsonValue[] = [];
  for (const row of data) {
    const v = row[field];
    const key = JSON.stringify(v);
    if (v !== undefined && !seen.has(key)) {
      seen.add(key);
      out.push(v);
    }
  }
  return out;
}

/** Wraps layers into a (possibly faceted) top-level spec. */
function assemble(
  data: ChartRow[],
  layer: Layer[],
  o: {
    title?: string;
    facet?: { field: string; columns?: number; title?: string };
    width: number;
    height: number;
    resolve?: Layer;
  },
): VegaLiteSpec {
  const base: Layer = { data: { values: data } };
  if (o.title !== undefined) base.title = o.title;
  const spec: Layer = o.facet
    ? {
        ...base,
        facet: {
          field: o.facet.field,
          type: "nominal",
          // panels in data order (vega-lite would sort them alphabetically)
          sort: distinctInOrder(data, o.facet.field),
          title: o.facet.title ?? null,
        },
        columns: o.facet.columns ?? 3,
        spec: { width: o.width, height: o.height, layer },
      }
    : { ...base, width: o.width, height: o.height, layer };
  if (o.resolve) spec.resolve = o.resolve;
  // built from untyped layer objects; vega-lite validates the result when it compiles it
  return spec as unknown as VegaLiteSpec;
}

/**
 * Medians with interquartile bands against a (log) x axis, one coloured line per group,
 * with reference rules — the shape of most "metric vs r" figures:
 *
 * ```ts
 * lineWithBand({ data: rows, x: "r", y: "median", lo: "q25", hi: "q75", color: "arch",
 *                logX: true, logY: true, rule: { x: 1, label: "r = 1" } })
 * ```
 */
export function lineWithBand(o: LineWithBandOptions): VegaLiteSpec {
  const xEnc = {
    field: o.x,
    type: "quantitative",
    title: o.xTitle ?? o.x,
    scale: o.logX ? { type: "log" } : { zero: false },
  };
  const yScale: Layer = o.logY ? { type: "log" } : { zero: false };
  if (o.yDomain) yScale.domain = o.yDomain;
  const colorEnc = o.color
    ? { color: { field: o.color, type: "nominal", sort: null, title: o.colorTitle ?? o.color } }
    : {};
  const xValid = validNumber(o.x, o.logX === true);
  const layer: Layer[] = [];
  if (o.lo !== undefined && o.hi !== undefined) {
    layer.push({
      transform: [
        {
          filter: `${xValid} && ${validNumber(o.lo, o.logY === true)} && ${validNumber(o.hi, o.logY === true)}`,
        },
      ],
      mark: { type: "area", opacity: 0.18 },
      encoding: {
        x: xEnc,
        y: { field: o.lo, type: "quantitative", title: o.yTitle ?? o.y, scale: yScale },
        y2: { field: o.hi },
        ...colorEnc,
      },
    });
  }
  layer.push({
    transform: [{ filter: `${xValid} && ${validNumber(o.y, o.logY === true)}` }],
    mark: { type: "line", point: o.points ?? true, strokeWidth: 1.8 },
    encoding: {
      x: xEnc,
      y: { field: o.y, type: "quantitative", title: o.yTitle ?? o.y, scale: yScale },
      ...colorEnc,
    },
  });
  layer.push(...ruleLayers(asRules(o.rule)));
  return assemble(o.data, layer, {
    title: o.title,
    facet: o.facet,
    width: o.width ?? 420,
    height: o.height ?? 260,
  });
}

/** Options of {@link barGroups}. */
export type BarGroupsOptions = {
  /** One row per bar, already aggregated over seeds. */
  data: ChartRow[];
  /** Category on the x axis (e.g. the architecture), in data order. */
  x: string;
  /** Bar height (e.g. the median). */
  y: string;
  /** Field splitting each category into side-by-side coloured bars (e.g. the method). */
  group?: string;
  /** Fields of an error bar's ends (e.g. the 25% and 75% quantiles). */
  lo?: string;
  hi?: string;
  /** Field of a reference value drawn as a black tick on the bar (e.g. the published number). */
  ref?: string;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  groupTitle?: string;
  logY?: boolean;
  yDomain?: [number, number];
  /** Horizontal reference lines, e.g. `{y: 0.1, label: "chance"}`. */
  rule?: RuleSpec | RuleSpec[];
  /** Size in pixels (default 420 × 260). */
  width?: number;
  height?: number;
};

/**
 * Grouped bars with optional IQR error bars and published-value ticks — the shape of
 * "final accuracy per architecture × method" figures.
 */
export function barGroups(o: BarGroupsOptions): VegaLiteSpec {
  const yScale: Layer = o.logY ? { type: "log" } : {};
  if (o.yDomain) yScale.domain = o.yDomain;
  const xEnc = {
    field: o.x,
    type: "nominal",
    sort: null,
    title: o.xTitle ?? o.x,
    axis: { labelAngle: 0 },
  };
  const groupEnc = o.group
    ? {
        xOffset: { field: o.group, type: "nominal", sort: null },
        color: { field: o.group, type: "nominal", sort: null, title: o.groupTitle ?? o.group },
      }
    : {};
  const offsetOnly = o.group ? { xOffset: { field: o.group, type: "nominal", sort: null } } : {};
  const layer: Layer[] = [
    {
      transform: [{ filter: validNumber(o.y, o.logY === true) }],
      mark: { type: "bar" },
      encoding: {
        x: xEnc,
        y: { field: o.y, type: "quantitative", title: o.yTitle ?? o.y, scale: yScale },
        ...groupEnc,
      },
    },
  ];
  if (o.lo !== undefined && o.hi !== undefined) {
    layer.push({
      transform: [
        {
          filter: `${validNumber(o.lo, o.logY === true)} && ${validNumber(o.hi, o.logY === true)}`,
        },
      ],
      mark: { type: "rule", color: "#222" },
      encoding: {
        x: xEnc,
        y: { field: o.lo, type: "quantitative", scale: yScale },
        y2: { field: o.hi },
        ...offsetOnly,
      },
    });
  }
  if (o.ref !== undefined) {
    layer.push({
      transform: [{ filter: validNumber(o.ref, o.logY === true) }],
      mark: { type: "tick", color: "black", thickness: 2 },
      encoding: {
        x: xEnc,
        y: { field: o.ref, type: "quantitative", scale: yScale },
        ...offsetOnly,
      },
    });
  }
  layer.push(...ruleLayers(asRules(o.rule)));
  return assemble(o.data, layer, {
    title: o.title,
    width: o.width ?? 420,
    height: o.height ?? 260,
  });
}
