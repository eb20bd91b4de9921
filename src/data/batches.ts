/**
 * Seeded mini-batch iteration.
 *
 * @module
 */
import { Rng } from "../util/random.js";
import { DataError, type Dataset, gatherRows } from "./dataset.js";

/** One mini-batch. The arrays are fresh copies owned by the caller. */
export interface Batch {
  /** Features, row-major `size × d`. */
  x: Float64Array;
  /** Labels, length `size`. */
  y: Int32Array;
  /** Rows of the source dataset in this batch, in batch order. */
  indices: Int32Array;
  /** Number of samples in the batch (`batchSize`, or fewer for a final partial batch). */
  size: number;
  /** 0-based epoch this batch belongs to. */
  epoch: number;
  /** 0-based global step: batches yielded before this one, over all epochs. */
  step: number;
  /** 0-based position of the batch within its epoch. */
  batchInEpoch: number;
}

/** Options of {@link batchIterator}. */
export interface BatchOptions {
  /** Samples per batch, a positive integer. */
  batchSize: number;
  /** Seed of the per-epoch shuffles; the same seed always gives the same batches. */
  seed: number;
  /**
   * Drop the final partial batch of each epoch (default false). With false, every sample
   * appears exactly once per epoch; with true, every batch has exactly `batchSize` samples.
   */
  dropLast?: boolean;
  /** Number of epochs to run; left out, the iterator never ends. */
  epochs?: number;
  /** Shuffle each epoch (default true); false visits the samples in order. */
  shuffle?: boolean;
}

/** Number of batches per epoch for `n` samples. */
export function batchesPerEpoch(n: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

/**
 * Iterates mini-batches of `ds`, epoch after epoch. Each epoch's order is a permutation
 * drawn from a stream derived from `seed` and the epoch number alone, so epoch `e` is the
 * same whether or not earlier epochs were consumed.
 *
 * @throws {DataError} for a bad batch size, or when `dropLast` leaves no batch at all
 *   (`batchSize > n`), which would make an endless iterator yield nothing.
 */
export function* batchIterator(ds: Dataset, opts: BatchOptions): Generator<Batch, void, void> {
  const { batchSize, seed } = opts;
  const dropLast = opts.dropLast ?? false;
  const shuffle = opts.shuffle ?? true;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DataError(`batchIterator: batchSize must be a positive integer, got ${batchSize}`);
  }
  if (opts.epochs !== undefined && (!Number.isInteger(opts.epochs) || opts.epochs < 0)) {
    throw new DataError(`batchIterator: epochs must be a non-negative integer, got ${opts.epochs}`);
  }
  const perEpoch = batchesPerEpoch(ds.n, batchSize, dropLast);
  if (perEpoch === 0) {
    throw new DataError(
      `batchIterator: no batch of ${batchSize} fits in ${ds.n} samples` +
        (dropLast ? " with dropLast" : ""),
    );
  }
  const root = new Rng(seed).fork("batchIterator");
  const epochs = opts.epochs ?? Number.POSITIVE_INFINITY;
  let step = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = new Int32Array(ds.n);
    for (let i = 0; i < ds.n; i++) order[i] = i;
    if (shuffle) root.fork(epoch).shuffle(order);
    for (let b = 0; b < perEpoch; b++) {
      const start = b * batchSize;
      const indices = order.slice(start, Math.min(start + batchSize, ds.n));
      const y = new Int32Array(indices.length);
      for (let r = 0; r < indices.length; r++) y[r] = ds.y[indices[r]];
      yield {
        x: gatherRows(ds, indices),
        y,
        indices,
        size: indices.length,
        epoch,
        step,
        batchInEpoch: b,
      };
      step++;
    }
  }
}
