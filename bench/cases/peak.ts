/**
 * The engine's floor on this machine: GFLOP/s of a jitted `np.matmul` of square float32
 * (and one float64) matrices, and the latency of one tiny jitted call with its result read
 * back to the host (what every per-step host read costs at the least).
 */
import { type Array as JaxArray, jit, numpy as np } from "@jax-js/jax";
import { takeToHost, toDevice } from "../../src/engine/arrays.js";
import { initEngine } from "../../src/engine/runtime.js";
import { createRng } from "../../src/util/random.js";
import { timeRow } from "../lib/stats.js";
import type { BenchCase, BenchContext, CaseResult } from "../lib/types.js";

/** Median GFLOP/s of the best float32 size, read by the orchestrator as the peak. */
export const PEAK_ROW_PREFIX = "matmul f32";

/**
 * ms per matmul call. "sync" reads the result with dataSync (kernels compiled and run on
 * this thread, as every host read in training does); "async" awaits blockUntilReady (the
 * wasm backend's worker pool may split the work across threads).
 */
async function timeMatmul(
  n: number,
  dtype: "float32" | "float64",
  mode: "sync" | "async",
  calls: number,
  repeats: number,
): Promise<number[]> {
  const rng = createRng(n);
  const a = toDevice(rng.normalArray(n * n), [n, n], dtype);
  const b = toDevice(rng.normalArray(n * n), [n, n], dtype);
  const mm = jit((x: JaxArray, y: JaxArray) => np.matmul(x, y));
  try {
    const once = async () => {
      const out = mm(a.ref, b.ref) as JaxArray;
      if (mode === "sync") {
        out.dataSync();
      } else {
        await out.blockUntilReady();
        out.dispose();
      }
    };
    // warm-up: compile and fill caches
    for (let i = 0; i < 2; i++) await once();
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await once();
      ms.push((performance.now() - t0) / calls);
    }
    return ms;
  } finally {
    a.dispose();
    b.dispose();
    mm.dispose();
  }
}

function timeRoundTrip(calls: number, repeats: number): number[] {
  const x = toDevice([1, 2, 3, 4], [4], "float32");
  const f = jit((v: JaxArray) => v.mul(2).sum());
  try {
    for (let i = 0; i < 3; i++) takeToHost(f(x.ref) as JaxArray);
    const ms: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) takeToHost(f(x.ref) as JaxArray);
      ms.push((performance.now() - t0) / calls);
    }
    return ms;
  } finally {
    x.dispose();
    f.dispose();
  }
}

export const peakCase: BenchCase = {
  id: "peak",
  title: "Engine floor: matmul peak and call latency",
  async run(ctx: BenchContext, result: CaseResult) {
    await initEngine();
    result.description =
      "Jitted np.matmul of two random square matrices, median ms per call over repeats after " +
      "two warm-up calls; GFLOP/s = 2n³/t. 'sync' reads the result with dataSync (kernels run " +
      "on the calling thread — the path every host read in training takes); 'async' awaits " +
      "blockUntilReady (the wasm backend may spread the kernel over its worker pool). The best " +
      "float32 figure of either is the peak every other case's '% peak' refers to. 'call + read' is " +
      "one tiny jitted call whose 4-element input is reduced to a scalar and read back to the host " +
      "with dataSync: the fixed cost of each host read in a training step.";
    const repeats = ctx.repeats ?? (ctx.quick ? 3 : 7);
    const sizes = ctx.quick ? [128, 256] : [128, 256, 512, 1024];
    let best = 0;
    for (const mode of ["sync", "async"] as const) {
      for (const n of sizes) {
        const calls = Math.max(2, Math.round((ctx.quick ? 2e7 : 2e8) / n ** 3));
        ctx.log(`peak: matmul f32 ${n}×${n} ${mode} (${calls} calls × ${repeats})`);
        const ms = await timeMatmul(n, "float32", mode, calls, repeats);
        const row = timeRow(
          `${PEAK_ROW_PREFIX} ${n} ${mode}`,
          { n, dtype: "float32", mode },
          "ms/call",
          ms,
          { flops: 2 * n ** 3, bytes: 3 * n * n * 4, peakGflops: null },
        );
        best = Math.max(best, row.gflops ?? 0);
        result.rows.push(row);
      }
    }
    const n64 = ctx.quick ? 128 : 256;
    ctx.log(`peak: matmul f64 ${n64}×${n64}`);
    const ms64 = await timeMatmul(n64, "float64", "sync", ctx.quick ? 2 : 4, repeats);
    result.rows.push(
      timeRow(
        `matmul f64 ${n64} sync`,
        { n: n64, dtype: "float64", mode: "sync" },
        "ms/call",
        ms64,
        {
          flops: 2 * n64 ** 3,
          bytes: 3 * n64 * n64 * 8,
          peakGflops: null,
        },
      ),
    );
    ctx.log("peak: call + read latency");
    result.rows.push(
      timeRow(
        "call + read",
        { calls: ctx.quick ? 50 : 500 },
        "ms/call",
        timeRoundTrip(ctx.quick ? 50 : 500, repeats),
        {
          peakGflops: null,
        },
      ),
    );
    for (const row of result.rows) {
      if (row.gflops !== undefined && best > 0) row.peakFraction = row.gflops / best;
    }
    ctx.peakGflops = best;
    result.notes.push(
      `Peak used for '% peak' elsewhere: ${best.toFixed(2)} GFLOP/s (float32 matmul).`,
    );
  },
};
