/**
 * The in-memory dataset type and small helpers on it. Plain typed arrays, no device
 * arrays: the training code converts batches to jax-js arrays itself.
 *
 * @module
 */
import { Rng } from "../util/random.js";

/**
 * A classification data set held in host memory.
 *
 * `x` is row-major `n × d` (sample `i`, feature `j` at `x[i * d + j]`); `y[i]` is the
 * class index of sample `i`, in `0..numClasses−1`. `numClasses` is the size of the label
 * space, not the number of classes present: a subset keeps its parent's `numClasses`.
 */
export interface Dataset {
  /** Features, row-major `n × d`. */
  x: Float64Array;
  /** Class indices in `0..numClasses−1`, length `n`. */
  y: Int32Array;
  /** Number of samples. */
  n: number;
  /** Number of features per sample. */
  d: number;
  /** Size of the label space. */
  numClasses: number;
  /** Names of the classes, `classNames[k]` for label `k` (length `numClasses`). */
  classNames?: string[];
  /** Names of the features (length `d`). */
  featureNames?: string[];
}

/**
 * Error raised for unusable data: bad files, malformed rows, inconsistent arrays.
 * The message names the file and line where they are known, e.g.
 * `"data.csv: line 3: expected 65 columns, found 64"`.
 */
export class DataError extends Error {
  /** The file concerned, if any. */
  readonly file?: string;
  /** The 1-based line number concerned, if any. */
  readonly line?: number;

  constructor(problem: string, where: { file?: string; line?: number } = {}) {
    const prefix =
      (where.file !== undefined ? `${where.file}: ` : "") +
      (where.line !== undefined ? `line ${where.line}: ` : "");
    super(prefix + problem);
    this.name = "DataError";
    this.file = where.file;
    this.line = where.line;
  }
}

/**
 * Builds a {@link Dataset} from arrays, checking that shapes and labels are consistent.
 * The arrays are used as given (not copied).
 *
 * @throws {DataError} if `x.length !== n·d`, a label is out of range or not an integer,
 *   a feature is not finite, or the name arrays have the wrong length.
 */
export function makeDataset(
  x: Float64Array,
  y: Int32Array,
  opts: { d: number; numClasses: number; classNames?: string[]; featureNames?: string[] },
): Dataset {
  const { d, numClasses } = opts;
  if (!Number.isInteger(d) || d < 1) throw new DataError(`d must be a positive integer, got ${d}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new DataError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  const n = y.length;
  if (x.length !== n * d) {
    throw new DataError(`x has ${x.length} values but n·d = ${n}·${d} = ${n * d}`);
  }
  for (let i = 0; i < n; i++) {
    if (y[i] < 0 || y[i] >= numClasses) {
      throw new DataError(`label y[${i}] = ${y[i]} outside 0..${numClasses - 1}`);
    }
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw new DataError(`feature x[${Math.floor(i / d)}, ${i % d}] = ${x[i]} is not finite`);
    }
  }
  if (opts.classNames && opts.classNames.length !== numClasses) {
    throw new DataError(
      `classNames has ${opts.classNames.length} entries, numClasses is ${numClasses}`,
    );
  }
  if (opts.featureNames && opts.featureNames.length !== d) {
    throw new DataError(`featureNames has ${opts.featureNames.length} entries, d is ${d}`);
  }
  const ds: Dataset = { x, y, n, d, numClasses };
  if (opts.classNames) ds.classNames = opts.classNames;
  if (opts.featureNames) ds.featureNames = opts.featureNames;
  return ds;
}

/** Copies `ds` with new feature values (same labels, names and shape). */
export function withFeatures(ds: Dataset, x: Float64Array): Dataset {
  if (x.length !== ds.n * ds.d) {
    throw new DataError(`withFeatures: expected ${ds.n * ds.d} values, got ${x.length}`);
  }
  const out: Dataset = { x, y: ds.y, n: ds.n, d: ds.d, numClasses: ds.numClasses };
  if (ds.classNames) out.classNames = ds.classNames;
  if (ds.featureNames) out.featureNames = ds.featureNames;
  return out;
}

/** Number of samples of each class, length `numClasses`. */
export function classCounts(ds: Pick<Dataset, "y" | "numClasses">): Int32Array {
  const counts = new Int32Array(ds.numClasses);
  for (let i = 0; i < ds.y.length; i++) counts[ds.y[i]]++;
  return counts;
}

/** Copies the rows `indices` of `ds.x` into `out` (row-major, `indices.length × d`). */
export function gatherRows(
  ds: Dataset,
  indices: ArrayLike<number>,
  out: Float64Array = new Float64Array(indices.length * ds.d),
): Float64Array {
  const d = ds.d;
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    out.set(ds.x.subarray(i * d, i * d + d), r * d);
  }
  return out;
}

/**
 * The samples `indices` of `ds` (in that order; repeats allowed) as a new dataset with
 * copied arrays. Keeps `numClasses` and the names of the parent.
 *
 * @throws {DataError} if an index is not an integer in `0..n−1`.
 */
export function subset(ds: Dataset, indices: ArrayLike<number>): Dataset {
  const m = indices.length;
  const y = new Int32Array(m);
  for (let r = 0; r < m; r++) {
    const i = indices[r];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) {
      throw new DataError(`subset: index ${i} (position ${r}) outside 0..${ds.n - 1}`);
    }
    y[r] = ds.y[i];
  }
  const out: Dataset = {
    x: gatherRows(ds, indices),
    y,
    n: m,
    d: ds.d,
    numClasses: ds.numClasses,
  };
  if (ds.classNames) out.classNames = ds.classNames;
  if (ds.featureNames) out.featureNames = ds.featureNames;
  return out;
}

/**
 * `m` distinct samples of `ds` drawn uniformly without replacement (seeded), kept in
 * their original order.
 *
 * @throws {DataError} if `m` is not an integer in `0..n`.
 */
export function randomSubset(ds: Dataset, m: number, seed: number): Dataset {
  if (!Number.isInteger(m) || m < 0 || m > ds.n) {
    throw new DataError(`randomSubset: size must be an integer in 0..${ds.n}, got ${m}`);
  }
  const perm = new Rng(seed).fork("randomSubset").permutation(ds.n);
  const chosen = perm.slice(0, m).sort();
  return subset(ds, chosen);
}

/** One-hot encoding of labels, row-major `y.length × numClasses`. */
export function oneHot(y: ArrayLike<number>, numClasses: number): Float64Array {
  const out = new Float64Array(y.length * numClasses);
  for (let i = 0; i < y.length; i++) out[i * numClasses + y[i]] = 1;
  return out;
}
