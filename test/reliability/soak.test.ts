/**
 * Soak: 20,000 training steps with the probe (a JVP along every step) through the public
 * `train()` API. The engine's live device-buffer count and the process RSS are sampled
 * every 1,000 steps after a warm-up; the test fails if either grows beyond its stated
 * bound: a leak of one device buffer per step (18,000 after the warm-up) or of more than
 * about 5.5 kB of host memory per step (96 MiB over 18,000 steps) fails. The RSS bound is
 * loose because V8 collects garbage when it likes and the history itself grows.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { loadIris, stratifiedSplit } from "../../src/data/index.js";
import { initEngine, liveBufferCount } from "../../src/engine/index.js";
import { buildModel } from "../../src/models/index.js";
import { train } from "../../src/train/index.js";

const STEPS = 20_000;
const SAMPLE_EVERY = 1_000;
const WARMUP = 2_000;
/** Live device buffers may vary by this much between samples after the warm-up. */
const BUFFER_BOUND = 16;
/**
 * A full collection before each RSS sample, so the samples measure what is still reachable
 * rather than how far the collector has fallen behind (on a loaded 2-core machine it lags by
 * 100+ MiB of garbage, which made the bound fail without a leak).
 */
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;

/** RSS may grow by at most this much between the end of the warm-up and the last step. */
const RSS_BOUND_MB = 96;

describe("soak", () => {
  it(`${STEPS} steps with the probe every step: device buffers and RSS stay flat`, {
    timeout: 900_000,
  }, async () => {
    await initEngine();
    const ds = loadIris();
    const { train: trainSet, test } = stratifiedSplit(ds, { seed: 0 });
    const buffers: number[] = [];
    const rss: number[] = [];
    const t0 = performance.now();
    const result = await train({
      model: buildModel("linear", { inputDim: ds.d, numClasses: ds.numClasses }),
      data: { train: trainSet, test },
      optimizer: { name: "adam", learningRate: 1e-2 },
      controller: { name: "rho-clip", rMax: 1 },
      steps: STEPS,
      batchSize: 16,
      evalEvery: 5_000,
      probe: { sampleSet: "batch", every: 1 },
      onStep: (rec) => {
        if ((rec.step + 1) % SAMPLE_EVERY === 0 && rec.step + 1 >= WARMUP) {
          buffers.push(liveBufferCount());
          collect();
          rss.push(process.memoryUsage().rss / 2 ** 20);
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    const probed = result.history.filter((r) => Number.isFinite(r.rhoA)).length;
    const bufferGrowth = Math.max(...buffers) - Math.min(...buffers);
    const rssGrowth = rss[rss.length - 1] - rss[0];
    console.log(
      `soak: ${STEPS} steps in ${seconds.toFixed(0)} s, ${probed} probed; live buffers ${Math.min(...buffers)}..${Math.max(...buffers)} (growth ${bufferGrowth}); RSS ${rss[0].toFixed(0)} → ${rss[rss.length - 1].toFixed(0)} MiB (growth ${rssGrowth.toFixed(1)} MiB)`,
    );
    expect(result.history).toHaveLength(STEPS);
    expect(probed).toBeGreaterThan(STEPS * 0.99); // the probe ran on (almost) every step
    expect(buffers.every(Number.isFinite)).toBe(true); // tracking works here
    expect(bufferGrowth).toBeLessThanOrEqual(BUFFER_BOUND);
    expect(rssGrowth).toBeLessThanOrEqual(RSS_BOUND_MB);
  });
});
