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
 * The look every figure shares, merged under a spec's own `config` by {@link figureSpec}:
 * legend symbols at full opacity (a band's or a scatter's opacity would otherwise make the
 * swatches hard to tell apart), and no per-mark ARIA labels — one label per data point
 * made a scatter several megabytes and is noise to a screen reader; axes, legends and
 * titles keep theirs.
 */
export const FIGURE_CONFIG = {
  legend: { symbolOpacity: 1, symbolStrokeWidth: 2 },
  mark: { aria: false },
} as const;

type ConfigObject = { [key: string]: unknown };

function isPlainObject(v: unknown): v is ConfigObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `over` merged onto `under`, recursively for nested objects (`over` wins). */
function mergeConfig(under: ConfigObject, over: ConfigObject): ConfigObject {
  const out: ConfigObject = { ...under };
  for (const [k, v] of Object.entries(over)) {
    const u = out[k];
    out[k] = isPlainObject(u) && isPlainObject(v) ? mergeConfig(u, v) : v;
  }
  return out;
}

/**
 * The spec as it is drawn and written to `<name>.vl.json`: a copy with {@link FIGURE_CONFIG}
 * under its own `config`. Applying it twice gives the same spec.
 */
export function figureSpec(spec: VegaLiteSpec): VegaLiteSpec {
  const copy = structuredClone(spec) as unknown as ConfigObject;
  const own = isPlainObject(copy.config) ? copy.config : {};
  copy.config = mergeConfig(FIGURE_CONFIG as unknown as ConfigObject, own);
  return copy as unknown as VegaLiteSpec;
}

/** Geometry attributes whose numbers {@link compactSvg} rounds. */
const GEOMETRY_ATTR = /\s(d|transform|x|y|x1|x2|y1|y2|width|height|cx|cy|r)="([^"]*)"/g;
const DECIMAL = /-?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|-?\d+[eE][-+]?\d+/g;
/** A circle symbol as vega draws it: two half-circle arcs around the origin, translated. */
const CIRCLE_PATH =
  /<path( aria-hidden="true")? transform="translate\((-?[\d.]+),(-?[\d.]+)\)" d="M([\d.]+),0A\4,\4,0,1,1,-\4,0A\4,\4,0,1,1,\4,0"/g;

/** Group backgrounds and foregrounds vega writes with nothing to draw. */
const EMPTY_PATH =
  /<path class="(?:foreground" aria-hidden="true" d=""[^>]*display="none"|background" aria-hidden="true" d="M0,0h0v0h0Z"[^>]*)\/>/g;

/**
 * Shrinks an SVG document written by vega without changing what it shows: coordinates
 * rounded to 1/10 pixel (vega writes up to 16 digits, `translate(228.7965849561983,…)`),
 * circle symbols written as `<circle>` instead of a two-arc path, `opacity="1"` (the
 * default) and the empty group backgrounds and foregrounds left out. Together they halve a
 * scatter plot. Only geometry attributes are rounded, never text; a space keeps two numbers
 * apart where vega wrote them back to back (`1.5.5`).
 */
export function compactSvg(svg: string): string {
  const rounded = svg.replace(GEOMETRY_ATTR, (_m, name: string, value: string) => {
    const v = value.replace(DECIMAL, (num: string, at: number) => {
      let r = String(Number(Number(num).toFixed(1)));
      if (r === "-0") r = "0";
      const prev = at > 0 ? value[at - 1] : "";
      return /[\d.]/.test(prev) && /^[\d.]/.test(r) ? ` ${r}` : r;
    });
    return ` ${name}="${v}"`;
  });
  return rounded
    .replace(
      CIRCLE_PATH,
      (_m, hidden: string | undefined, x: string, y: string, r: string) =>
        `<circle${hidden ?? ""} cx="${x}" cy="${y}" r="${r}"`,
    )
    .replace(/ opacity="1"(?=[\s/>])/g, "")
    .replace(EMPTY_PATH, "");
}

/**
 * Renders a Vega-Lite spec to an SVG document (`<svg xmlns=…>…</svg>`): {@link figureSpec}
 * compiled with vega-lite, run by a headless `vega.View` with `renderer: "none"`, and
 * {@link compactSvg}. Text is measured with vega's estimate (no canvas needed), so labels
 * may be placed a few pixels off. Rendering `figureSpec(spec)` gives the same SVG, so a
 * written `.vl.json` reproduces its figure.
 *
 * @throws {Error} if the spec is invalid.
 */
export async function renderSvg(spec: VegaLiteSpec, opts: RenderOptions = {}): Promise<string> {
  const logger = collectingLogger(opts.onWarning ?? (() => {}));
  // figureSpec copies: vega tags the data rows it ingests (a symbol key on each object),
  // and the caller's objects — often an experiment's summary — must stay untouched
  const compiled = compile(figureSpec(spec), { logger }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger });
  try {
    return compactSvg(await view.toSVG());
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

/** Where a vertical rule sits across the data's x extent (0 left … 1 right), if it can tell. */
function ruleSide(data: ChartRow[], field: string, log: boolean) {
  const t = (v: number) => (log ? Math.log10(v) : v);
  const xs = data
    .map((r) => r[field])
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v) && (!log || v > 0))
    .map(t);
  return (x: number): number => {
    if (xs.length === 0 || (log && x <= 0)) return 0;
    const lo = Math.min(...xs);
    const hi = Math.max(...xs);
    return hi > lo ? (t(x) - lo) / (hi - lo) : 0;
  };
}

/**
 * Layers drawing the rules over the data's scales: one mark per panel, not one per row.
 * Labels stay inside the plot (a label outside widens the panel's bounds and pushes a
 * facet's shared axis away from the first panel): at the top of a vertical rule, on the
 * side with more room (`side`: its position across the panel), at the right end of a
 * horizontal one (`width`: the panel's), cut with an ellipsis where they would not fit.
 */
function ruleLayers(rules: RuleSpec[], width: number, side: (x: number) => number): Layer[] {
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
      const text = { type: "text", color: "#333" };
      const right = vertical && side(rule.x) > 0.6;
      layers.push({
        transform,
        mark: vertical
          ? {
              ...text,
              align: right ? "right" : "left",
              baseline: "top",
              dx: right ? -4 : 4,
              dy: 4,
              limit: Math.max(20, width / 2 - 8),
            }
          : { ...text, align: "right", baseline: "bottom", dx: -4, dy: -3, limit: width - 8 },
        encoding: {
          ...position,
          ...(vertical ? { y: { value: 0 } } : { x: { value: width } }),
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
  const width = o.width ?? 420;
  layer.push(...ruleLayers(asRules(o.rule), width, ruleSide(o.data, o.x, o.logX === true)));
  return assemble(o.data, layer, {
    title: o.title,
    facet: o.facet,
    width,
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
  const width = o.width ?? 420;
  // the x axis holds categories: a vertical rule has no number to sit at
  layer.push(...ruleLayers(asRules(o.rule), width, () => 0));
  return assemble(o.data, layer, { title: o.title, width, height: o.height ?? 260 });
}

/** Options of {@link scatterPlot}. */
export type ScatterOptions = {
  /** One row per point. */
  data: ChartRow[];
  x: string;
  y: string;
  /** Field colouring the points (e.g. the direction kind). */
  color?: string;
  /** Field choosing the point's shape (e.g. the snapshot). */
  shape?: string;
  /** Makes one panel per value of a field, `columns` per row. */
  facet?: { field: string; columns?: number; title?: string };
  title?: string;
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  shapeTitle?: string;
  /** Log-scaled axes (points with a value ≤ 0 or not finite are left out). */
  logX?: boolean;
  logY?: boolean;
  /** Lines y = c·x for each c, labelled, across the data's extent (e.g. `[{c: 1, label: "y = x"}]`). */
  diagonals?: { c: number; label?: string }[];
  /** Size of one panel in pixels (default 420 × 300). */
  width?: number;
  height?: number;
};

/**
 * Points of `y` against `x`, coloured and shaped by two fields, with optional lines y = c·x
 * (on log-log axes, parallel diagonals): the shape of "one scale against another" figures.
 */
export function scatterPlot(o: ScatterOptions): VegaLiteSpec {
  const positive = (f: string, log: boolean | undefined) => validNumber(f, log === true);
  const xScale = o.logX ? { type: "log" } : { zero: false };
  const yScale = o.logY ? { type: "log" } : { zero: false };
  const enc: Layer = {
    x: { field: o.x, type: "quantitative", title: o.xTitle ?? o.x, scale: xScale },
    y: { field: o.y, type: "quantitative", title: o.yTitle ?? o.y, scale: yScale },
  };
  if (o.color)
    enc.color = { field: o.color, type: "nominal", sort: null, title: o.colorTitle ?? o.color };
  if (o.shape)
    enc.shape = { field: o.shape, type: "nominal", sort: null, title: o.shapeTitle ?? o.shape };
  const layer: Layer[] = [
    {
      transform: [{ filter: `${positive(o.x, o.logX)} && ${positive(o.y, o.logY)}` }],
      mark: { type: "point", filled: true, opacity: 0.6, size: 28 },
      encoding: enc,
    },
  ];
  const finite = (f: string, log: boolean | undefined) =>
    o.data
      .map((r) => r[f])
      .filter((v): v is number => typeof v === "number" && Number.isFinite(v) && (!log || v > 0));
  const xs = finite(o.x, o.logX);
  const ys = finite(o.y, o.logY);
  if (xs.length > 0 && ys.length > 0) {
    // a loop, not a spread: a scatter may hold more points than a call's arguments
    let xLo = Number.POSITIVE_INFINITY;
    let xHi = Number.NEGATIVE_INFINITY;
    for (const x of xs) {
      xLo = Math.min(xLo, x);
      xHi = Math.max(xHi, x);
    }
    for (const { c, label } of o.diagonals ?? []) {
      // across the data's x extent (the y axis stretches to hold the line)
      const line = [
        { __x: xLo, __y: c * xLo },
        { __x: xHi, __y: c * xHi },
      ];
      const at = {
        x: { field: "__x", type: "quantitative" },
        y: { field: "__y", type: "quantitative" },
      };
      layer.push({
        data: { values: line },
        mark: { type: "line", strokeDash: [5, 4], color: "#555" },
        encoding: at,
      });
      if (label !== undefined) {
        layer.push({
          data: { values: [line[1]] },
          mark: { type: "text", color: "#333", align: "right", baseline: "bottom", dx: -4, dy: -3 },
          encoding: { ...at, text: { value: label } },
        });
      }
    }
  }
  return assemble(o.data, layer, {
    title: o.title,
    facet: o.facet,
    width: o.width ?? 420,
    height: o.height ?? 300,
  });
}
