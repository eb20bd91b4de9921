/**
 * Shapes shared by the benchmark cases and the orchestrator (`bench/run.ts`). Everything a
 * case returns is plain JSON so `bench/results.json` can be merged across `--only` runs and
 * the Markdown table rebuilt from it.
 */

import type { VegaLiteSpec } from "../../packages/cli/src/experiments/framework/types.js";
import type { Summary5 } from "../../packages/cli/src/report/stats.js";
import type { TorchBaseline } from "./torch.js";

/** A JSON scalar as the results file stores it. */
export type Scalar = string | number | boolean | null;

/** One measured figure: a time (or rate) summarised over repeats, with its work model. */
export interface BenchRow {
  /** Short label, unique inside its case, e.g. `mlp b64 jvp-batch`. */
  name: string;
  /** The knobs that define the point (architecture, batch, width, …). */
  params: Record<string, Scalar>;
  /** What was measured, e.g. `ms/step`, `ms/radius`, `s/protocol`, `samples/s`. */
  metric: string;
  /** Median, quartiles, extremes and count of the measurements (see `summarise`). */
  stat: Summary5;
  /** `true` when a larger value is better (rates); times are lower-is-better. */
  higherIsBetter?: boolean;
  /** Floating-point operations of ONE measured unit (one step, one radius, one solve). */
  flops?: number;
  /** Bytes a minimal implementation must move for one unit (see `bench/lib/work.ts`). */
  bytes?: number;
  /** flops / median time, GFLOP/s (time metrics only). */
  gflops?: number;
  /** gflops / measured matmul peak of the engine on this machine. */
  peakFraction?: number;
  /** Anything else worth keeping (peak device bytes, RSS, certified fraction, …). */
  extra?: Record<string, Scalar>;
}

/** A ratio of two figures measured in the same invocation, with its target. */
export interface Comparison {
  name: string;
  /** The ratio per repeat (or a single value), summarised. */
  stat: Summary5;
  /** How the ratio is formed, e.g. `torch s / ours s`. */
  definition: string;
  /** The target in words, e.g. `≥ 5`. */
  target?: string;
  /** Whether the median meets the target (absent when there is no target). */
  pass?: boolean;
}

/** A figure a case produced (SVG written next to RESULTS.md). */
export interface FigureRef {
  /** File name relative to the output folder, e.g. `scaling-batch.svg`. */
  file: string;
  title: string;
}

/** What one case returns. */
export interface CaseResult {
  id: string;
  title: string;
  /** One paragraph: protocol, what is timed, what is excluded. */
  description: string;
  rows: BenchRow[];
  comparisons: Comparison[];
  figures: FigureRef[];
  notes: string[];
  /** Whether it ran with `--quick` sizes. */
  quick: boolean;
  /** Wall time of the whole case, s. */
  seconds: number;
  /** When it finished (ISO 8601). */
  finishedAt: string;
  /** 1-minute load average before and after the case (other work on the machine skews times). */
  loadAverage: [number, number];
  /** Set when the case threw; rows hold whatever was measured before. */
  error?: string;
}

/** What the orchestrator hands every case. */
export interface BenchContext {
  quick: boolean;
  /** Overrides each case's own number of repeats. */
  repeats?: number;
  /** Only grid points whose label matches (radius: `mlp b64`, scaling: `width=512`, ghosts: `K=1000`). */
  match?: RegExp;
  /** Seeds for the end-to-end cases (default: the full protocol's). */
  seeds?: number[];
  /** Measured matmul peak of the engine, GFLOP/s (null until the peak case has run). */
  peakGflops: number | null;
  /** The PyTorch baselines (see `lib/torch.ts`): the reference and an extra, labelled row. */
  torch: { reference: TorchBaseline | null; extra: TorchBaseline | null; note: string };
  /** The baseline script and its data. */
  torchScript: string;
  torchData: string;
  /** Folder RESULTS.md and the figures go to. */
  outDir: string;
  /** Progress line on stderr. */
  log: (message: string) => void;
  /** Renders a Vega-Lite spec to `<outDir>/<name>.svg` and returns its reference. */
  figure: (name: string, title: string, spec: VegaLiteSpec) => Promise<FigureRef>;
}

/** A benchmark case. */
export interface BenchCase {
  id: string;
  title: string;
  /** Fills `result` as it goes (so a failure keeps what was measured). */
  run: (ctx: BenchContext, result: CaseResult) => Promise<void>;
}
