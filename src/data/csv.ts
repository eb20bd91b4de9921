/**
 * Loading numeric classification data from CSV files.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { DataError, type Dataset, makeDataset } from "./dataset.js";

/** Options of {@link loadCsv} and {@link parseCsv}. */
export interface LoadCsvOptions {
  /**
   * Whether the first non-blank line is a header of column names. Left out, it is detected:
   * the first row is a header when one of its cells is not a number.
   */
  header?: boolean;
  /**
   * Column holding the class label, 0-based; negative counts from the end
   * (default −1, the last column). All other columns are features.
   */
  labelColumn?: number;
  /** Cell separator (default `","`). */
  delimiter?: string;
  /**
   * Declared size of the label space. When given, labels must already be integers in
   * `0..numClasses−1` and are not remapped; the file must have at least `numClasses` rows.
   * Left out, the classes are the distinct label values found.
   */
  numClasses?: number;
  /** Class names to attach (length = number of classes). Default: the original label values. */
  classNames?: string[];
  /** Feature names to attach (length d). Default: the header's names, if there is a header. */
  featureNames?: string[];
}

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;

/** A readable name for a path or file URL, used in error messages. */
function displayName(path: string | URL): string {
  if (path instanceof URL) return path.protocol === "file:" ? fileURLToPath(path) : path.href;
  return path;
}

/**
 * Reads a file as UTF-8 text, gunzipping it first when it starts with the gzip magic bytes
 * (so `.gz` files are read transparently whatever their name).
 *
 * @throws {DataError} if the file is missing, unreadable or a corrupt gzip stream.
 */
export function readTextFile(path: string | URL): string {
  const file = displayName(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataError("file not found", { file });
    if (code === "EISDIR") throw new DataError("is a directory, not a file", { file });
    throw new DataError(`cannot read file: ${(e as Error).message}`, { file });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`not a valid gzip file: ${(e as Error).message}`, { file });
    }
  }
  return bytes.toString("utf8");
}

/**
 * Loads a numeric CSV file whose rows are features plus one integer class label.
 *
 * - The label is the last column unless `labelColumn` says otherwise (negative = from end).
 * - A header line is detected automatically (a non-numeric cell in the first row) unless
 *   `header` is given; header names become `featureNames`.
 * - Files in gzip format (`.gz`) are decompressed transparently.
 * - Blank lines are skipped; cells are trimmed; `\r\n` line ends are accepted.
 * - Labels must be integer-valued. Unless `numClasses` is declared, they are remapped to
 *   `0..C−1` in increasing order of value when they are not already exactly `0..C−1`, and
 *   the original values become `classNames`.
 *
 * @throws {DataError} naming the file and line for: a missing or empty file, ragged rows,
 *   non-numeric cells, NaN/Infinity cells, non-integer labels, a single class, fewer rows
 *   than classes, a label column out of range.
 */
export function loadCsv(path: string | URL, opts: LoadCsvOptions = {}): Dataset {
  return parseCsv(readTextFile(path), { ...opts, name: displayName(path) });
}

/**
 * Parses CSV text as {@link loadCsv} does; `name` is used in error messages.
 */
export function parseCsv(text: string, opts: LoadCsvOptions & { name?: string } = {}): Dataset {
  const file = opts.name ?? "<csv>";
  const delimiter = opts.delimiter ?? ",";
  if (delimiter.length === 0) throw new DataError("delimiter must not be empty", { file });
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r?\n/);

  let first = 0;
  while (first < lines.length && lines[first].trim() === "") first++;
  if (first === lines.length) throw new DataError("empty file", { file });

  const firstCells = lines[first].split(delimiter).map((c) => c.trim());
  const ncols = firstCells.length;
  const hasHeader =
    opts.header ?? firstCells.some((c) => !NUMBER_RE.test(c) && !NON_FINITE_RE.test(c));
  if (ncols < 2) {
    throw new DataError(`expected at least 2 columns (features and a label), found ${ncols}`, {
      file,
      line: first + 1,
    });
  }
  const labelOpt = opts.labelColumn ?? -1;
  const lc = labelOpt < 0 ? ncols + labelOpt : labelOpt;
  if (!Number.isInteger(labelOpt) || lc < 0 || lc >= ncols) {
    throw new DataError(`labelColumn ${labelOpt} is out of range for ${ncols} columns`, { file });
  }
  const declared = opts.numClasses;
  if (declared !== undefined && (!Number.isInteger(declared) || declared < 2)) {
    throw new DataError(`numClasses must be an integer ≥ 2, got ${declared}`, { file });
  }

  const d = ncols - 1;
  const feats: number[] = [];
  const labels: number[] = [];
  for (let li = hasHeader ? first + 1 : first; li < lines.length; li++) {
    const raw = lines[li];
    if (raw.trim() === "") continue;
    const line = li + 1;
    const cells = raw.split(delimiter);
    if (cells.length !== ncols) {
      throw new DataError(`expected ${ncols} columns, found ${cells.length}`, { file, line });
    }
    for (let j = 0; j < ncols; j++) {
      const cell = cells[j].trim();
      let v: number;
      if (NUMBER_RE.test(cell)) {
        v = Number(cell);
        if (!Number.isFinite(v)) {
          throw new DataError(`column ${j + 1}: "${cell}" is not a finite number`, { file, line });
        }
      } else if (NON_FINITE_RE.test(cell)) {
        throw new DataError(`column ${j + 1}: "${cell}" is not a finite number`, { file, line });
      } else {
        throw new DataError(`column ${j + 1}: "${cell}" is not a number`, { file, line });
      }
      if (j === lc) {
        if (!Number.isInteger(v)) {
          throw new DataError(`column ${j + 1}: label "${cell}" is not an integer`, {
            file,
            line,
          });
        }
        if (declared !== undefined && (v < 0 || v >= declared)) {
          throw new DataError(`column ${j + 1}: label ${v} outside 0..${declared - 1}`, {
            file,
            line,
          });
        }
        labels.push(v);
      } else {
        feats.push(v);
      }
    }
  }

  const n = labels.length;
  if (n === 0) {
    throw new DataError(hasHeader ? "no data rows after the header" : "empty file", { file });
  }

  const distinct = [...new Set(labels)].sort((a, b) => a - b);
  if (distinct.length < 2) {
    throw new DataError(`only one class (label ${distinct[0]}) found; need at least 2`, { file });
  }

  const y = new Int32Array(n);
  let numClasses: number;
  let classNames: string[];
  if (declared !== undefined) {
    if (n < declared) {
      throw new DataError(`${n} rows is fewer than the ${declared} declared classes`, { file });
    }
    numClasses = declared;
    y.set(labels);
    classNames = Array.from({ length: declared }, (_, k) => String(k));
  } else {
    numClasses = distinct.length;
    const contiguous = distinct.every((v, k) => v === k);
    if (contiguous) {
      y.set(labels);
    } else {
      const index = new Map(distinct.map((v, k) => [v, k] as const));
      for (let i = 0; i < n; i++) y[i] = index.get(labels[i])!;
    }
    classNames = distinct.map(String);
  }
  if (opts.classNames) {
    if (opts.classNames.length !== numClasses) {
      throw new DataError(`${opts.classNames.length} class names given for ${numClasses} classes`, {
        file,
      });
    }
    classNames = opts.classNames;
  }

  let featureNames = opts.featureNames;
  if (featureNames === undefined && hasHeader) {
    featureNames = firstCells.filter((_, j) => j !== lc);
  }
  if (featureNames && featureNames.length !== d) {
    throw new DataError(`${featureNames.length} feature names given for ${d} features`, {
      file,
    });
  }

  return makeDataset(Float64Array.from(feats), y, { d, numClasses, classNames, featureNames });
}
