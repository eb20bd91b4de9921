/**
 * Scaling: training-step and radius time against batch size, hidden width, number of
 * classes and the number of rows the radius is measured over, on synthetic data (features
 * ~ N(0, 1), uniform labels), with the device memory each needs. The probe works in chunks
 * of 512 rows, so its working memory should stay flat as the probed set grows.
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { lineWithBand } from "../../packages/cli/src/report/vega.js";
import { toDevice } from "../../src/engine/arrays.js";
import { clearJitCache } from "../../src/engine/compute.js";
import { disposeTree } from "../../src/engine/tree.js";
import { buildMlp } from "../../src/models/mlp.js";
import type { Model, ModelState, Params } from "../../src/models/types.js";
import { directionalLogitDerivatives } from "../../src/probe/directional.js";
import { syntheticSplit } from "../lib/data.js";
import {
  deviceLiveBytes,
  devicePeakBytes,
  installMemoryTracking,
  resetDevicePeak,
} from "../lib/instrument.js";
import { comparison, timeRow } from "../lib/stats.js";
import type { BenchCase, BenchContext, BenchRow, CaseResult } from "../lib/types.js";
import { mlpWork, probeBytes, probeFlops, stepBytes, stepFlops } from "../lib/work.js";
import { stepTimes } from "./radius.js";

type Sweep = "batch" | "width" | "classes" | "probe-rows";

interface Point {
  sweep: Sweep;
  /** The swept value (x axis). */
  x: number;
  batch: number;
  width: number;
  classes: number;
  /** Rows the radius is measured over. */
  probeRows: number;
  /** Rows of the synthetic training split. */
  trainRows: number;
  /** Whether to time training steps at this point (not for the probe-rows sweep). */
  step: boolean;
}

const INPUT_DIM = 64;
const CHUNK = 512;

const SIZES = {
  full: {
    batch: [64, 128, 256, 512, 1024, 2048, 4096],
    width: [128, 256, 512, 1024, 2048],
    classes: [10, 100, 1000, 10_000, 50_000],
    "probe-rows": [512, 2048, 8192, 32_768],
  },
  quick: {
    batch: [64, 512],
    width: [128, 512],
    classes: [10, 1000],
    "probe-rows": [512, 2048],
  },
} as const;

function plan(quick: boolean): Point[] {
  const s = quick ? SIZES.quick : SIZES.full;
  const base = { batch: 64, width: 128, classes: 10 };
  const pts: Point[] = [];
  for (const b of s.batch) {
    pts.push({ sweep: "batch", x: b, ...base, batch: b, probeRows: b, trainRows: b, step: true });
  }
  for (const w of s.width) {
    pts.push({
      sweep: "width",
      x: w,
      ...base,
      width: w,
      probeRows: 64,
      trainRows: 1024,
      step: true,
    });
  }
  for (const k of s.classes) {
    pts.push({
      sweep: "classes",
      x: k,
      ...base,
      classes: k,
      probeRows: 64,
      trainRows: 1024,
      step: true,
    });
  }
  for (const n of s["probe-rows"]) {
    pts.push({ sweep: "probe-rows", x: n, ...base, probeRows: n, trainRows: n, step: false });
  }
  return pts;
}

/** ρ_a's host part: max over rows of (max_c a − min_c a); kept so the work is not elided. */
function maxSpread(a: Float64Array, k: number): number {
  let worst = 0;
  for (let i = 0; i < a.length; i += k) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = i; j < i + k; j++) {
      const v = a[j]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (hi - lo > worst) worst = hi - lo;
  }
  return worst;
}

function radiusTimes(
  model: Model,
  params: Params,
  state: ModelState,
  direction: Params,
  x: JaxArray,
  warmup: number,
  n: number,
): { ms: number[]; sink: number } {
  let sink = 0;
  const once = () => {
    const r = directionalLogitDerivatives(model, params, state, direction, x, { chunk: CHUNK });
    sink += Math.PI / maxSpread(r.a, r.k);
  };
  for (let i = 0; i < warmup; i++) once();
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    once();
    ms.push(performance.now() - t0);
  }
  return { ms, sink };
}

const MB = 2 ** 20;

export const scalingCase: BenchCase = {
  id: "scaling",
  title: "Scaling with batch, width, classes and probed rows",
  async run(ctx: BenchContext, result: CaseResult) {
    const quick = ctx.quick;
    const repeats = ctx.repeats ?? (quick ? 1 : 3);
    const warmup = quick ? 1 : 2;
    const steps = quick ? 2 : 10;
    const tracked = await installMemoryTracking();
    result.description =
      `Synthetic data (${INPUT_DIM} features ~ N(0, 1), uniform labels), GELU MLP ${INPUT_DIM} → ` +
      "width → width → classes (buildMlp), float32. Defaults: batch 64, width 128, 10 classes. " +
      `Step: ${repeats} training run(s) of ${warmup} + ${steps} Adam steps without probe, ` +
      `warm-up dropped (ms/step from StepRecord.wallMs). Radius: directionalLogitDerivatives ` +
      `(exact JVP, chunks of ${CHUNK}) over the probed rows along a random direction plus the ` +
      `host spread, ${repeats}×${steps} calls after ${warmup} warm-up. Memory: peak device bytes ` +
      "above the live bytes before the measurement (jax-js wasm buffers), and process RSS after " +
      "the point. Batch sweep: the training split is the batch (n = B), the radius is over the " +
      "batch; probe-rows sweep: radius over n rows.";
    if (!tracked) result.notes.push("Device-memory tracking unavailable: memory columns are NaN.");
    const points = plan(quick).filter(
      (p) => ctx.match === undefined || ctx.match.test(`${p.sweep}=${p.x}`),
    );
    const rows: Record<Sweep, SeriesPoint[]> = {
      batch: [],
      width: [],
      classes: [],
      "probe-rows": [],
    };
    const memory: { x: number; series: string; mb: number }[] = [];
    for (const p of points) {
      const hidden = [p.width, p.width];
      const model = buildMlp(
        { inputDim: INPUT_DIM, numClasses: p.classes },
        { name: `mlp-${p.width}`, hidden, activation: "gelu" },
      );
      const work = mlpWork(INPUT_DIM, hidden, p.classes);
      const data = syntheticSplit(p.trainRows, INPUT_DIM, p.classes, p.x);
      const label = `${p.sweep}=${p.x}`;
      const params = {
        sweep: p.sweep,
        batch: p.batch,
        width: p.width,
        classes: p.classes,
        probeRows: p.probeRows,
      };
      const failed = (what: string, err: unknown, metric: string) => {
        const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        result.rows.push(
          timeRow(`${what} ${label}`, params, metric, [], { peakGflops: null }, { error: message }),
        );
        result.notes.push(`${what} at ${label} failed: ${message}`);
        ctx.log(`scaling: ${what} ${label} FAILED: ${message}`);
      };
      try {
        if (p.step) {
          try {
            ctx.log(`scaling: step ${label}`);
            const live0 = deviceLiveBytes();
            resetDevicePeak();
            const ms: number[] = [];
            for (let r = 0; r < repeats; r++) {
              const t = await stepTimes(model, data, {
                batchSize: p.batch,
                warmup,
                steps,
                seed: r,
                probe: { every: 0 },
              });
              ms.push(...t.ms);
            }
            const stepPeak = devicePeakBytes() - live0;
            const row = timeRow(
              `step ${label}`,
              params,
              "ms/step",
              ms,
              {
                flops: stepFlops(work, p.batch),
                bytes: stepBytes(work, p.batch),
                peakGflops: ctx.peakGflops,
              },
              { deviceWorkingMB: stepPeak / MB, rssMB: process.memoryUsage().rss / MB },
            );
            result.rows.push(row);
            rows[p.sweep].push(seriesPoint(p.x, "step", row));
            if (p.sweep === "batch")
              memory.push({ x: p.x, series: "training step", mb: stepPeak / MB });
          } catch (err) {
            failed("step", err, "ms/step");
          }
        }
        ctx.log(`scaling: radius ${label}`);
        const init = model.init(0);
        const dir = model.init(1);
        const x = toDevice(data.train.x.subarray(0, p.probeRows * INPUT_DIM), [
          p.probeRows,
          INPUT_DIM,
        ]);
        try {
          const live0 = deviceLiveBytes();
          resetDevicePeak();
          const ms: number[] = [];
          for (let r = 0; r < repeats; r++) {
            ms.push(
              ...radiusTimes(
                model,
                init.params,
                init.state,
                dir.params,
                x,
                r === 0 ? warmup : 0,
                steps,
              ).ms,
            );
          }
          const probePeak = devicePeakBytes() - live0;
          const row = timeRow(
            `radius ${label}`,
            params,
            "ms/radius",
            ms,
            {
              flops: probeFlops(work, p.probeRows, "jvp"),
              bytes: probeBytes(work, p.probeRows, "jvp"),
              peakGflops: ctx.peakGflops,
            },
            { deviceWorkingMB: probePeak / MB, rssMB: process.memoryUsage().rss / MB },
          );
          result.rows.push(row);
          rows[p.sweep].push(seriesPoint(p.x, "radius", row));
          if (p.sweep === "probe-rows")
            memory.push({ x: p.x, series: "radius probe", mb: probePeak / MB });
        } catch (err) {
          failed("radius", err, "ms/radius");
        } finally {
          x.dispose();
          disposeTree(init.params);
          disposeTree(init.state);
          disposeTree(dir.params);
          disposeTree(dir.state);
        }
      } finally {
        clearJitCache(model);
      }
    }

    // Linearity: log-log slope of time against the work's driver over the top half of a sweep.
    for (const sweep of ["batch", "width", "classes", "probe-rows"] as Sweep[]) {
      for (const series of ["step", "radius"]) {
        const pts = result.rows.filter(
          (r) =>
            r.params.sweep === sweep && r.name.startsWith(series) && Number.isFinite(r.stat.median),
        );
        if (pts.length < 2) continue;
        const a = pts[Math.floor((pts.length - 1) / 2)]!;
        const b = pts[pts.length - 1]!;
        const slope =
          Math.log(b.stat.median / a.stat.median) / Math.log((b.flops ?? 1) / (a.flops ?? 1));
        result.comparisons.push(
          comparison(
            `${sweep}: ${series} time exponent vs FLOPs`,
            [slope],
            `log(t₂/t₁)/log(F₂/F₁) between ${a.name} and ${b.name}; 1 = linear in the work`,
            { op: "<=", bound: 1.2, text: "≤ 1.2 (no cliff)" },
          ),
        );
      }
    }
    const probeMem = result.rows
      .filter((r) => r.params.sweep === "probe-rows" && Number.isFinite(r.stat.median))
      .map((r) => Number(r.extra?.deviceWorkingMB));
    if (probeMem.length >= 2) {
      result.comparisons.push(
        comparison(
          "probe-rows: device working memory, largest / smallest set",
          [probeMem[probeMem.length - 1]! / probeMem[0]!],
          "peak device bytes of the radius over the most rows / over the fewest (chunked: ≈ 1)",
          { op: "<=", bound: 1.5, text: "≤ 1.5 (bounded)" },
        ),
      );
    }

    const titles: Record<Sweep, [string, string]> = {
      batch: ["batch size", "Step and radius time vs batch size (MLP 128-128, 10 classes)"],
      width: ["hidden width", "Step and radius (batch 64) time vs hidden width"],
      classes: ["number of classes", "Step and radius (batch 64) time vs number of classes"],
      "probe-rows": ["rows probed", "Radius time vs rows probed (MLP 128-128, chunks of 512)"],
    };
    for (const sweep of Object.keys(rows) as Sweep[]) {
      if (rows[sweep].length === 0) continue;
      const [xTitle, title] = titles[sweep];
      const data = withLinearReference(rows[sweep]);
      result.figures.push(
        await ctx.figure(
          `scaling-${sweep}`,
          title,
          lineWithBand({
            data,
            x: "x",
            y: "ms",
            lo: "q25",
            hi: "q75",
            color: "series",
            logX: true,
            logY: true,
            xTitle,
            yTitle: "ms (median, IQR band)",
            colorTitle: "",
          }),
        ),
      );
    }
    if (memory.length > 0) {
      result.figures.push(
        await ctx.figure(
          "scaling-memory",
          "Peak device working memory: training step vs batch size, radius probe vs rows probed",
          lineWithBand({
            data: memory,
            x: "x",
            y: "mb",
            color: "series",
            logX: true,
            logY: true,
            xTitle: "rows (batch size / rows probed)",
            yTitle: "peak device MiB above baseline",
            colorTitle: "",
          }),
        ),
      );
    }
    result.notes.push(
      "Reference series '… (linear)' are the largest point scaled by the FLOP ratio: " +
        "a measured line above it at small sizes is per-call overhead, a jump above it is a cliff.",
    );
  },
};

interface SeriesPoint {
  x: number;
  series: string;
  ms: number;
  q25: number;
  q75: number;
  flops: number;
}

function seriesPoint(x: number, series: string, row: BenchRow): SeriesPoint {
  return {
    x,
    series,
    ms: row.stat.median,
    q25: row.stat.q25,
    q75: row.stat.q75,
    flops: row.flops ?? Number.NaN,
  };
}

/** Adds, per series, the largest point scaled down by FLOPs: what linear scaling would give. */
function withLinearReference(
  pts: SeriesPoint[],
): { x: number; series: string; ms: number; q25: number | null; q75: number | null }[] {
  const out: { x: number; series: string; ms: number; q25: number | null; q75: number | null }[] =
    pts.map(({ x, series, ms, q25, q75 }) => ({ x, series, ms, q25, q75 }));
  for (const series of new Set(pts.map((p) => p.series))) {
    const s = pts.filter((p) => p.series === series);
    const last = s[s.length - 1]!;
    for (const p of s) {
      out.push({
        x: p.x,
        series: `${series} (linear)`,
        ms: (last.ms * p.flops) / last.flops,
        q25: null,
        q75: null,
      });
    }
  }
  return out;
}
