/**
 * Seeded, stratified train/test splitting.
 *
 * @module
 */
import { Rng } from "../util/random.js";
import { classCounts, DataError, type Dataset, subset } from "./dataset.js";
import { minRowsPerClass } from "./summary.js";

/** `class "a": 1 row, class "b": 2 rows`, for error messages (first 8 classes). */
function countsText(ds: Dataset): string {
  const counts = classCounts(ds);
  const parts: string[] = [];
  for (let k = 0; k < Math.min(ds.numClasses, 8); k++) {
    parts.push(`class "${ds.classNames?.[k] ?? k}": ${counts[k]}`);
  }
  if (ds.numClasses > 8) parts.push(`… ${ds.numClasses - 8} more`);
  return parts.join(", ");
}

/** Options of {@link stratifiedSplit}. */
export interface SplitOptions {
  /** Fraction of each class put in the test split, in [0, 1) (default 0.2). */
  testFraction?: number;
  /** Seed of the shuffle; the same seed always gives the same split. */
  seed: number;
}

/** A train/test split; the index arrays (ascending) refer to rows of the source dataset. */
export interface Split {
  train: Dataset;
  test: Dataset;
  trainIndices: Int32Array;
  testIndices: Int32Array;
}

/**
 * Splits `ds` per class: each class's samples are shuffled with a seeded stream and
 * `round(n_c · testFraction)` of them go to the test split — capped at `n_c − 1` so that
 * every class present keeps at least one training sample. Class proportions of both
 * splits therefore match the whole set to within one sample per class. Both splits list
 * their samples in the original order. Deterministic for a given seed.
 *
 * For the digits set with `testFraction = 0.2` this gives 359 test and 1438 training
 * samples.
 *
 * @throws {DataError} if `testFraction` is not in [0, 1), or if the test split would be
 *   empty (every class has fewer than {@link minRowsPerClass} rows), naming the counts.
 */
export function stratifiedSplit(ds: Dataset, opts: SplitOptions): Split {
  const f = opts.testFraction ?? 0.2;
  if (!(f >= 0 && f < 1)) {
    throw new DataError(`stratifiedSplit: testFraction must be in [0, 1), got ${f}`);
  }
  const rng = new Rng(opts.seed).fork("stratifiedSplit");
  const byClass: number[][] = Array.from({ length: ds.numClasses }, () => []);
  for (let i = 0; i < ds.n; i++) byClass[ds.y[i]].push(i);

  const test: number[] = [];
  const train: number[] = [];
  for (let c = 0; c < ds.numClasses; c++) {
    const members = byClass[c];
    const nc = members.length;
    if (nc === 0) continue;
    // A stream per class: the split of one class does not depend on the others' sizes.
    rng.fork(c).shuffle(members);
    const nTest = Math.min(Math.round(nc * f), nc - 1);
    for (let k = 0; k < nc; k++) (k < nTest ? test : train).push(members[k]);
  }
  if (test.length === 0 && f > 0) {
    throw new DataError(
      `stratifiedSplit: a ${f} test split of ${ds.n} rows is empty: ` +
        `every class has fewer than ${minRowsPerClass(f)} rows (${countsText(ds)})`,
    );
  }
  const trainIndices = Int32Array.from(train).sort();
  const testIndices = Int32Array.from(test).sort();
  return {
    train: subset(ds, trainIndices),
    test: subset(ds, testIndices),
    trainIndices,
    testIndices,
  };
}

/**
 * How a data set is cut into train and test: `"stratified"` ({@link stratifiedSplit}, seeded,
 * per class), `"head"` ({@link headSplit}: the first rows, unshuffled, seed ignored) or
 * `"random"` ({@link randomSplit}: one seeded permutation of all rows, classes ignored).
 */
export type SplitKind = "stratified" | "head" | "random";

/**
 * The published reference's split: the test split is the first `floor(n · testFraction)`
 * rows in file order, the training split the rest — unshuffled, not stratified, and the same
 * for every seed. For the digits set with `testFraction = 0.2`: rows 0–358 test, 359–1796
 * training (the same 359 / 1438 sizes as {@link stratifiedSplit}, different rows). Class
 * proportions follow whatever order the file has.
 *
 * @throws {DataError} if `testFraction` is not in [0, 1), or if either split would be empty.
 */
export function headSplit(ds: Dataset, opts: { testFraction?: number } = {}): Split {
  const f = opts.testFraction ?? 0.2;
  if (!(f >= 0 && f < 1)) {
    throw new DataError(`headSplit: testFraction must be in [0, 1), got ${f}`);
  }
  const nTest = Math.floor(ds.n * f);
  if ((nTest === 0 && f > 0) || nTest >= ds.n) {
    throw new DataError(
      `headSplit: a ${f} head split of ${ds.n} rows leaves ${nTest} test and ${ds.n - nTest} training rows`,
    );
  }
  const testIndices = Int32Array.from({ length: nTest }, (_, i) => i);
  const trainIndices = Int32Array.from({ length: ds.n - nTest }, (_, i) => nTest + i);
  return {
    train: subset(ds, trainIndices),
    test: subset(ds, testIndices),
    trainIndices,
    testIndices,
  };
}

/** Options of {@link randomSplit}. */
export interface RandomSplitOptions {
  /** Fraction of all rows put in the test split, in [0, 1) (default 0.2). */
  testFraction?: number;
  /** Seed of the permutation; the same seed always gives the same split. */
  seed: number;
}

/**
 * Splits `ds` by one seeded permutation of all rows, ignoring the classes: the first
 * `⌊n · testFraction⌋` permuted rows are the test split, the rest the training split — the
 * plain random split of the published scripts (class proportions hold only on average; use
 * {@link stratifiedSplit} unless a protocol asks for this one). Both splits list their
 * samples in the original order. Deterministic for a given seed.
 *
 * For the digits set with `testFraction = 0.3` this gives 539 test and 1258 training rows.
 *
 * @throws {DataError} if `testFraction` is not in [0, 1), or the test split would be empty.
 */
export function randomSplit(ds: Dataset, opts: RandomSplitOptions): Split {
  const f = opts.testFraction ?? 0.2;
  if (!(f >= 0 && f < 1)) {
    throw new DataError(`randomSplit: testFraction must be in [0, 1), got ${f}`);
  }
  const nTest = Math.floor(ds.n * f);
  if (nTest === 0 && f > 0) {
    throw new DataError(`randomSplit: a ${f} test split of ${ds.n} rows is empty`);
  }
  const perm = new Rng(opts.seed).fork("randomSplit").permutation(ds.n);
  const testIndices = Int32Array.from(perm.subarray(0, nTest)).sort();
  const trainIndices = Int32Array.from(perm.subarray(nTest)).sort();
  return {
    train: subset(ds, trainIndices),
    test: subset(ds, testIndices),
    trainIndices,
    testIndices,
  };
}

/**
 * {@link stratifiedSplit}, {@link headSplit} or {@link randomSplit} by `kind` (default
 * `"stratified"`); the head split ignores the seed.
 */
export function splitDataset(ds: Dataset, opts: SplitOptions & { kind?: SplitKind }): Split {
  const kind = opts.kind ?? "stratified";
  switch (kind) {
    case "stratified":
      return stratifiedSplit(ds, opts);
    case "head":
      return headSplit(ds, opts);
    case "random":
      return randomSplit(ds, opts);
    default:
      throw new DataError(
        `split must be "stratified", "head" or "random", got ${JSON.stringify(kind as unknown)}`,
      );
  }
}
