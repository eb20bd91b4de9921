/** Data for the cases: the digits split the experiments use, and synthetic sets of any size. */
import { type Dataset, loadDigits, makeDataset, stratifiedSplit } from "../../src/data/index.js";
import { createRng } from "../../src/util/random.js";

/** Train/test split as `train()` takes it. */
export interface BenchData {
  train: Dataset;
  test: Dataset;
}

let digits: BenchData | null = null;

/** The embedded digits, 80/20 stratified split with seed 0 (1438 train, 359 test). */
export function digitsSplit(): BenchData {
  if (digits === null) {
    const s = stratifiedSplit(loadDigits(), { seed: 0, testFraction: 0.2 });
    digits = { train: s.train, test: s.test };
  }
  return digits;
}

/** Random features ~ N(0, 1) and uniform labels: `n` rows of `d` features, `k` classes. */
export function syntheticSet(n: number, d: number, k: number, seed: number): Dataset {
  const rng = createRng(seed);
  const x = rng.normalArray(n * d);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.int(k);
  return makeDataset(x, y, { d, numClasses: k });
}

/** A synthetic train split of `n` rows and a small test split (64 rows). */
export function syntheticSplit(n: number, d: number, k: number, seed = 0): BenchData {
  return { train: syntheticSet(n, d, k, seed), test: syntheticSet(64, d, k, seed + 1) };
}
