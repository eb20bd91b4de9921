/**
 * Loading classification data from CSV files as people have them: quoted fields (RFC 4180,
 * through the `csv-parse` package), `,` `;` tab or `|` separators (detected, or given),
 * a header line (detected, or given), a UTF-8 byte-order mark, CRLF line ends, gzip, and
 * class labels that are integers or strings ("setosa"), mapped to indices with the mapping
 * kept in `classNames`.
 *
 * @module
 */
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { CsvError, parse } from "csv-parse/sync";
import { DataError, type Dataset, makeDataset } from "./dataset.js";

/** Options of {@link loadCsv} and {@link parseCsv}. */
export interface LoadCsvOptions {
  /**
   * Whether the first non-blank line is a header of column names. Left out, it is detected:
   * the first row is a header when one of its feature cells is not a number.
   */
  header?: boolean;
  /**
   * Column holding the class label, 0-based; negative counts from the end
   * (default −1, the last column). All other columns are features.
   */
  labelColumn?: number;
  /**
   * Cell separator, one character. Left out, it is detected from the first lines among
   * {@link CSV_DELIMITERS} (a separator found the same number of times on every line;
   * tab, then `;`, then `,`, then `|`), defaulting to `","`.
   */
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

/** The separators {@link detectDelimiter} chooses from, in order of preference. */
export const CSV_DELIMITERS: readonly string[] = ["\t", ";", ",", "|"];

/**
 * Largest file {@link readTextFile} reads (after gunzip): 256 MiB. The rows are held in
 * memory as float64 (about 8 bytes per cell, several times the text); larger files get a
 * clear error instead of a crash deep inside the JavaScript engine.
 */
export const MAX_CSV_BYTES = 256 * 1024 * 1024;

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;
const DECIMAL_COMMA_RE = /^[+-]?\d+,\d+$/;

/** A readable name for a path or file URL, used in error messages. */
function displayName(path: string | URL): string {
  if (path instanceof URL) return path.protocol === "file:" ? fileURLToPath(path) : path.href;
  return path;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;
}

/**
 * Reads a file as UTF-8 text, gunzipping it first when it starts with the gzip magic bytes
 * (so `.gz` files are read transparently whatever their name).
 *
 * @throws {DataError} if the file is missing, unreadable, larger than {@link MAX_CSV_BYTES}
 *   (before or after gunzip), a corrupt gzip stream, binary (NUL bytes) or not valid UTF-8.
 */
export function readTextFile(path: string | URL): string {
  const file = displayName(path);
  let bytes: Buffer;
  try {
    const size = statSync(path).size;
    if (size > MAX_CSV_BYTES) {
      throw new DataError(
        `file is ${megabytes(size)}, more than the ${megabytes(MAX_CSV_BYTES)} that can be loaded into memory; use a subsample`,
        { file },
      );
    }
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DataError("file not found", { file });
    if (code === "EISDIR") throw new DataError("is a directory, not a file", { file });
    if (code === "EACCES" || code === "EPERM") throw new DataError("permission denied", { file });
    throw new DataError(`cannot read file: ${code ?? (e as Error).message}`, { file });
  }
  return decodeTextBytes(bytes, file);
}

/**
 * The text of a file's bytes as {@link readTextFile} reads it: gunzipped when it starts with
 * the gzip magic bytes, then strict UTF-8. `name` is used in error messages.
 *
 * @throws {DataError} for a corrupt or oversized gzip stream, NUL bytes or invalid UTF-8.
 */
export function decodeTextBytes(bytes: Uint8Array, name = "<csv>"): string {
  let data = bytes;
  if (data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b) {
    try {
      data = gunzipSync(data, { maxOutputLength: MAX_CSV_BYTES });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
        throw new DataError(`decompresses to more than ${megabytes(MAX_CSV_BYTES)}`, {
          file: name,
        });
      }
      throw new DataError(`not a valid gzip file: ${(e as Error).message}`, { file: name });
    }
  }
  return decodeUtf8(data, name);
}

/** Strict UTF-8 decoding: a binary or Latin-1 file is an error, not a page of U+FFFD. */
function decodeUtf8(bytes: Uint8Array, file: string): string {
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    throw new DataError(`byte ${nul} is NUL: a binary file, not CSV text`, { file });
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new DataError("is not valid UTF-8 text; save it as UTF-8", { file });
  }
}

/**
 * Loads a CSV file whose rows are numeric features plus one class label.
 *
 * - The label is the last column unless `labelColumn` says otherwise (negative = from end).
 *   Labels may be integers or strings. Integer labels are remapped to `0..C−1` in increasing
 *   order when they are not already exactly `0..C−1`; string labels are mapped in sorted
 *   (code-unit) order. Either way `classNames[k]` is the original label of class `k`.
 * - The separator is detected unless `delimiter` is given; fields may be quoted (`"a,b"`,
 *   `""` for a quote inside), and may span lines.
 * - A header line is detected automatically (a non-numeric feature cell in the first row)
 *   unless `header` is given; header names become `featureNames`.
 * - Files in gzip format are decompressed transparently; a UTF-8 BOM is skipped.
 * - Blank lines are skipped; cells are trimmed; `\r\n` line ends are accepted.
 *
 * Use {@link describeDataset} for a one-line summary and {@link splitWarnings} to check
 * that every class has enough rows for a train/test split.
 *
 * @throws {DataError} naming the file and line for: a missing, empty, binary or oversized
 *   file, invalid UTF-8, malformed quoting, ragged rows, non-numeric or empty feature cells,
 *   NaN/Infinity cells, numeric non-integer labels, a single class, fewer rows than
 *   classes, a label column out of range.
 */
export function loadCsv(path: string | URL, opts: LoadCsvOptions = {}): Dataset {
  return parseCsv(readTextFile(path), { ...opts, name: displayName(path) });
}

/** A parsed CSV record and the 1-based line it ends on. */
type CsvRecord = { cells: string[]; line: number };

/**
 * The separator of `text`: among {@link CSV_DELIMITERS}, the first one that occurs the same
 * (non-zero) number of times outside quotes on each of the first 20 non-blank lines; else
 * the one most frequent on the first line; else `","`.
 */
export function detectDelimiter(text: string): string {
  const lines: string[] = [];
  for (const raw of text.split(/\r?\n/, 200)) {
    const line = raw.replace(/"(?:[^"]|"")*"/g, "");
    if (line.trim() !== "") lines.push(line);
    if (lines.length === 20) break;
  }
  if (lines.length === 0) return ",";
  const count = (line: string, d: string) => line.split(d).length - 1;
  for (const d of CSV_DELIMITERS) {
    const first = count(lines[0], d);
    if (first > 0 && lines.every((l) => count(l, d) === first)) return d;
  }
  let best = ",";
  let bestCount = 0;
  for (const d of CSV_DELIMITERS) {
    const c = count(lines[0], d);
    if (c > bestCount) [best, bestCount] = [d, c];
  }
  return best;
}

/**
 * Splits CSV text into trimmed records. Text without a double quote takes a fast path (split
 * on line ends and the separator, which is exactly what CSV means there); anything quoted
 * goes through `csv-parse`.
 */
function records(text: string, delimiter: string, file: string): CsvRecord[] {
  const out: CsvRecord[] = [];
  if (!text.includes('"')) {
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].trim() === "") continue;
      out.push({ cells: lines[i].split(delimiter).map((c) => c.trim()), line: i + 1 });
    }
    return out;
  }
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, {
      delimiter,
      trim: true,
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (e) {
    if (e instanceof CsvError) {
      const line = (e as CsvError & { lines?: number }).lines;
      const why = e.message.replace(/\s*at line \d+.*$/, "").replace(/:.*$/, "");
      throw new DataError(`malformed CSV: ${why}`, { file, line });
    }
    throw e;
  }
  for (const { record, info } of parsed) {
    if (record.length === 1 && record[0] === "") continue; // a line of spaces
    out.push({ cells: record, line: info.lines });
  }
  return out;
}

function isNumberCell(cell: string): boolean {
  return NUMBER_RE.test(cell) || NON_FINITE_RE.test(cell);
}

/** A feature cell as a finite number, or a {@link DataError} saying what is wrong with it. */
function featureValue(cell: string, column: number, file: string, line: number): number {
  if (NUMBER_RE.test(cell)) {
    const v = Number(cell);
    if (Number.isFinite(v)) return v;
    throw new DataError(`column ${column}: "${cell}" is not a finite number (overflows float64)`, {
      file,
      line,
    });
  }
  if (NON_FINITE_RE.test(cell)) {
    throw new DataError(`column ${column}: "${cell}" is not a finite number`, { file, line });
  }
  const shown = cell.length > 40 ? `${cell.slice(0, 40)}…` : cell;
  const hint = DECIMAL_COMMA_RE.test(cell) ? " (a decimal comma? use '.' or --delimiter ';')" : "";
  throw new DataError(`column ${column}: "${shown}" is not a number${hint}`, { file, line });
}

/**
 * Parses CSV text as {@link loadCsv} does; `name` is used in error messages.
 */
export function parseCsv(text: string, opts: LoadCsvOptions & { name?: string } = {}): Dataset {
  const file = opts.name ?? "<csv>";
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const delimiter = opts.delimiter ?? detectDelimiter(body);
  if (delimiter.length !== 1 || /[\r\n"]/.test(delimiter)) {
    throw new DataError(
      `delimiter must be one character other than a quote or line end, got ${JSON.stringify(delimiter)}`,
      { file },
    );
  }
  const rows = records(body, delimiter, file);
  if (rows.length === 0) throw new DataError("empty file", { file });

  const firstCells = rows[0].cells;
  const ncols = firstCells.length;
  if (ncols < 2) {
    throw new DataError(
      `expected at least 2 columns (features and a label), found ${ncols}` +
        (opts.delimiter === undefined ? " (no , ; tab or | separator found)" : ""),
      { file, line: rows[0].line },
    );
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
  const hasHeader = opts.header ?? firstCells.some((c, j) => j !== lc && !isNumberCell(c));

  const d = ncols - 1;
  const data = hasHeader ? rows.slice(1) : rows;
  const n = data.length;
  if (n === 0) {
    throw new DataError(hasHeader ? "no data rows after the header" : "empty file", { file });
  }
  const x = new Float64Array(n * d);
  const rawLabels: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const { cells, line } = data[i];
    if (cells.length !== ncols) {
      throw new DataError(`expected ${ncols} columns, found ${cells.length}`, { file, line });
    }
    let f = i * d;
    for (let j = 0; j < ncols; j++) {
      if (j === lc) {
        if (cells[j] === "") throw new DataError(`column ${j + 1}: empty label`, { file, line });
        rawLabels[i] = cells[j];
      } else {
        x[f++] = featureValue(cells[j], j + 1, file, line);
      }
    }
  }

  const { y, numClasses, classNames: names } = mapLabels(rawLabels, data, lc, declared, file);
  let classNames = names;
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

  return makeDataset(x, y, { d, numClasses, classNames, featureNames });
}

/**
 * Class indices from the label cells: integers (checked against a declared `numClasses`,
 * or remapped to `0..C−1`), or strings mapped in sorted order when any label is not a
 * number.
 */
function mapLabels(
  raw: string[],
  rows: CsvRecord[],
  lc: number,
  declared: number | undefined,
  file: string,
): { y: Int32Array; numClasses: number; classNames: string[] } {
  const n = raw.length;
  const y = new Int32Array(n);
  const numeric = raw.every(isNumberCell);
  if (declared !== undefined || numeric) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const cell = raw[i];
      const where = { file, line: rows[i].line };
      const v = NUMBER_RE.test(cell) ? Number(cell) : Number.NaN;
      if (NON_FINITE_RE.test(cell)) {
        throw new DataError(`column ${lc + 1}: "${cell}" is not a finite number`, where);
      }
      if (!Number.isInteger(v)) {
        throw new DataError(
          isNumberCell(cell)
            ? `column ${lc + 1}: label "${cell}" is not an integer`
            : `column ${lc + 1}: label "${cell}" is not an integer (numClasses is declared)`,
          where,
        );
      }
      if (declared !== undefined && (v < 0 || v >= declared)) {
        throw new DataError(`column ${lc + 1}: label ${v} outside 0..${declared - 1}`, where);
      }
      values[i] = v;
    }
    const distinct = [...new Set(values)].sort((a, b) => a - b);
    if (distinct.length < 2) {
      throw new DataError(`only one class (label ${distinct[0]}) found; need at least 2`, { file });
    }
    if (declared !== undefined) {
      if (n < declared) {
        throw new DataError(`${n} rows is fewer than the ${declared} declared classes`, { file });
      }
      y.set(values);
      return {
        y,
        numClasses: declared,
        classNames: Array.from({ length: declared }, (_, k) => String(k)),
      };
    }
    const index = new Map(distinct.map((v, k) => [v, k] as const));
    for (let i = 0; i < n; i++) y[i] = index.get(values[i]) as number;
    return { y, numClasses: distinct.length, classNames: distinct.map(String) };
  }
  const distinct = [...new Set(raw)].sort();
  if (distinct.length < 2) {
    throw new DataError(`only one class (label "${distinct[0]}") found; need at least 2`, {
      file,
    });
  }
  const index = new Map(distinct.map((v, k) => [v, k] as const));
  for (let i = 0; i < n; i++) y[i] = index.get(raw[i]) as number;
  return { y, numClasses: distinct.length, classNames: distinct };
}
