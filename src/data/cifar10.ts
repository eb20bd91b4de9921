/**
 * CIFAR-10 in its "binary version" (`cifar-10-batches-bin/`): `data_batch_1.bin` …
 * `data_batch_5.bin` (training, 10,000 images each) and `test_batch.bin`. Each record is
 * 1 label byte (0–9) followed by 3,072 pixel bytes: the 1,024 red, then green, then blue
 * values of a 32×32 image in row-major order — exactly the channel-first layout the
 * residual CNNs read, so a record becomes one feature row unchanged apart from scaling.
 *
 * Features are bytes / 255 in [0, 1]; optionally each colour channel is standardised with
 * the mean and standard deviation of the training images (fitted on the training split
 * only, applied to both).
 *
 * @module
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DataError, type Dataset, makeDataset } from "./dataset.js";

/** The ten class names, label order. */
export const CIFAR10_CLASSES: readonly string[] = [
  "airplane",
  "automobile",
  "bird",
  "cat",
  "deer",
  "dog",
  "frog",
  "horse",
  "ship",
  "truck",
];

/** Pixels per image (3 channels × 32 × 32). */
export const CIFAR10_PIXELS = 3 * 32 * 32;
/** Bytes per record: one label byte, then the pixels. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_PIXELS;
/** The training files, in the order their records are concatenated. */
export const CIFAR10_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map(
  (i) => `data_batch_${i}.bin`,
);
/** The test file. */
export const CIFAR10_TEST_FILE = "test_batch.bin";

/** Options of {@link loadCifar10}. */
export interface Cifar10Options {
  /**
   * `"none"` (default): pixels / 255 in [0, 1]. `"per-channel"`: then subtract each
   * channel's mean and divide by its standard deviation, both measured on the training
   * images.
   */
  normalize?: "none" | "per-channel";
}

/** Per-channel statistics of the training images (after scaling to [0, 1]). */
export interface Cifar10ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/** The CIFAR-10 train/test pair (and the channel statistics used, when normalised). */
export interface Cifar10 {
  train: Dataset;
  test: Dataset;
  /** Present with `normalize: "per-channel"`. */
  channelStats?: Cifar10ChannelStats;
}

/**
 * Parses the bytes of one CIFAR-10 binary batch file into features in [0, 1] and labels.
 * `file` names the file in error messages.
 *
 * @throws {DataError} for an empty file, a size that is not a whole number of 3,073-byte
 *   records (a truncated download), or a label byte above 9.
 */
export function parseCifar10Batch(
  bytes: Uint8Array,
  file: string,
): { x: Float64Array; y: Int32Array; n: number } {
  const n = recordCount(bytes.length, file);
  const x = new Float64Array(n * CIFAR10_PIXELS);
  const y = new Int32Array(n);
  parseInto(bytes, file, x, y, 0);
  return { x, y, n };
}

/** Number of records in a file of `size` bytes; throws for an empty or truncated file. */
function recordCount(size: number, file: string): number {
  if (size === 0) throw new DataError("empty file, expected CIFAR-10 records", { file });
  if (size % CIFAR10_RECORD_BYTES !== 0) {
    throw new DataError(
      `size ${size} bytes is not a multiple of ${CIFAR10_RECORD_BYTES} (1 label byte + ` +
        `${CIFAR10_PIXELS} pixel bytes per record): truncated or not a CIFAR-10 binary batch`,
      { file },
    );
  }
  return size / CIFAR10_RECORD_BYTES;
}

/** Decodes the records of `bytes` into rows `row…` of `x` and `y`. */
function parseInto(
  bytes: Uint8Array,
  file: string,
  x: Float64Array,
  y: Int32Array,
  row: number,
): void {
  const n = bytes.length / CIFAR10_RECORD_BYTES;
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR10_RECORD_BYTES;
    const label = bytes[at]!;
    if (label > 9) {
      throw new DataError(`record ${i}: label byte ${label} is outside 0..9`, { file });
    }
    y[row + i] = label;
    const base = (row + i) * CIFAR10_PIXELS;
    for (let j = 0; j < CIFAR10_PIXELS; j++) x[base + j] = bytes[at + 1 + j]! / 255;
  }
}

/**
 * Concatenates the records of `files`. Sizes are checked before anything is decoded, and
 * each file is decoded straight into the one output buffer (the training set alone is
 * 1.2 GB as float64, so no per-file copies).
 */
function readBatches(dir: string, files: readonly string[]): { x: Float64Array; y: Int32Array } {
  const paths = files.map((f) => join(dir, f));
  const counts = paths.map((p) => recordCount(statSync(p).size, p));
  const n = counts.reduce((s, c) => s + c, 0);
  const x = new Float64Array(n * CIFAR10_PIXELS);
  const y = new Int32Array(n);
  let row = 0;
  paths.forEach((p, i) => {
    const bytes = readFileSync(p);
    if (bytes.length !== counts[i]! * CIFAR10_RECORD_BYTES) {
      throw new DataError("file changed while it was being read", { file: p });
    }
    parseInto(bytes, p, x, y, row);
    row += counts[i]!;
  });
  return { x, y };
}

/** Mean and standard deviation of each colour channel over all images of `x`. */
export function cifar10ChannelStats(x: Float64Array): Cifar10ChannelStats {
  const plane = CIFAR10_PIXELS / 3;
  const n = x.length / CIFAR10_PIXELS;
  const mean: [number, number, number] = [0, 0, 0];
  const std: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const base = i * CIFAR10_PIXELS + c * plane;
      for (let j = 0; j < plane; j++) s += x[base + j]!;
    }
    const m = s / (n * plane);
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const base = i * CIFAR10_PIXELS + c * plane;
      for (let j = 0; j < plane; j++) ss += (x[base + j]! - m) ** 2;
    }
    mean[c] = m;
    std[c] = Math.sqrt(ss / (n * plane));
  }
  return { mean, std };
}

function normalizeInPlace(x: Float64Array, stats: Cifar10ChannelStats): void {
  const plane = CIFAR10_PIXELS / 3;
  const n = x.length / CIFAR10_PIXELS;
  for (let c = 0; c < 3; c++) {
    const m = stats.mean[c];
    // A constant channel (only in degenerate toy files) is centred, not divided by 0.
    const inv = stats.std[c] > 0 ? 1 / stats.std[c] : 1;
    for (let i = 0; i < n; i++) {
      const base = i * CIFAR10_PIXELS + c * plane;
      for (let j = 0; j < plane; j++) x[base + j] = (x[base + j]! - m) * inv;
    }
  }
}

/**
 * Reads CIFAR-10 from the folder of its binary batches (the `cifar-10-batches-bin`
 * folder of the official archive): 50,000 training and 10,000 test images, 3,072
 * channel-first features each, 10 classes. Files with fewer records (e.g. small test
 * fixtures) are accepted.
 *
 * @throws {DataError} when the folder or one of the six files is missing (all missing
 *   files are named), or a file is malformed (see {@link parseCifar10Batch}).
 */
export function loadCifar10(dir: string, options: Cifar10Options = {}): Cifar10 {
  const normalize = options.normalize ?? "none";
  if (normalize !== "none" && normalize !== "per-channel") {
    throw new DataError(`unknown CIFAR-10 normalisation ${JSON.stringify(normalize)}`);
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`CIFAR-10 folder not found: ${dir}`);
  }
  const all = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const missing = all.filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw new DataError(
      `CIFAR-10 folder ${dir} lacks ${missing.join(", ")} (expected the binary version: ` +
        `${all.join(", ")})`,
    );
  }
  const train = readBatches(dir, CIFAR10_TRAIN_FILES);
  const test = readBatches(dir, [CIFAR10_TEST_FILE]);
  let channelStats: Cifar10ChannelStats | undefined;
  if (normalize === "per-channel") {
    channelStats = cifar10ChannelStats(train.x);
    normalizeInPlace(train.x, channelStats);
    normalizeInPlace(test.x, channelStats);
  }
  const opts = { d: CIFAR10_PIXELS, numClasses: 10, classNames: [...CIFAR10_CLASSES] };
  const out: Cifar10 = {
    train: makeDataset(train.x, train.y, opts),
    test: makeDataset(test.x, test.y, opts),
  };
  if (channelStats) out.channelStats = channelStats;
  return out;
}
