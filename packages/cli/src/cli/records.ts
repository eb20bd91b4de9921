/**
 * Input records of `ghosts radius`: one JSON value, or JSON Lines, each an object
 * `{"logits": number[] | number[][], "slopes": <same shape>, "labels"?: number | number[]}`.
 * Validation (zod for the object's structure, explicit checks for the numbers and shapes)
 * reports the first problem as one line naming the record's line number.
 */
import { z } from "zod";
import { UsageError } from "./errors.js";

/** A raw input record and the 1-based line it starts on. */
export interface RawRecord {
  line: number;
  value: unknown;
}

/** A validated record: `n` samples of `k` classes. */
export interface SampleRecord {
  line: number;
  logits: number[][];
  slopes: number[][];
  /** One class index per sample, when given. */
  labels?: number[];
}

/** Thrown for a bad record: the message starts with "line N: ". */
export class RecordError extends UsageError {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = "RecordError";
  }
}

function lineOfFirstContent(text: string): number {
  const m = /\S/.exec(text);
  if (!m) return 1;
  let line = 1;
  for (let i = 0; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Splits input text into raw records, lazily: if the whole text parses as one JSON value it
 * is one record; otherwise every non-blank line is parsed on its own when reached, so the
 * records before a malformed line are still produced. Throws `UsageError` on empty input.
 */
export function* splitRecords(input: string): Generator<RawRecord> {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  if (text.trim() === "")
    throw new UsageError("input is empty: expected a JSON object or JSON Lines");
  let whole: unknown;
  let parsed = false;
  try {
    whole = JSON.parse(text);
    parsed = true;
  } catch {
    // not a single JSON value: JSON Lines
  }
  if (parsed) {
    yield { line: lineOfFirstContent(text), value: whole };
    return;
  }
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (err) {
      throw new RecordError(i + 1, `malformed JSON (${(err as Error).message})`);
    }
    yield { line: i + 1, value };
  }
}

const field = (what: string) => ({
  error: (iss: { input: unknown }) =>
    iss.input === undefined ? "is required" : `must be ${what}, got ${describe(iss.input)}`,
});

const recordSchema = z.object({
  logits: z.array(z.unknown(), field("an array")),
  slopes: z.array(z.unknown(), field("an array")),
  labels: z.union([z.number(), z.array(z.unknown())], field("a number or an array")).optional(),
});

/** Short description of a JSON value's type for messages. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") {
    const s = v.length > 20 ? `${v.slice(0, 20)}…` : v;
    return `the string ${JSON.stringify(s)}`;
  }
  if (typeof v === "object") return "an object";
  if (typeof v === "number" && !Number.isFinite(v)) return "a non-finite number";
  return `${typeof v === "boolean" ? "a boolean" : typeof v} ${String(v)}`;
}

/** A number in the input: must be a finite JSON number ("NaN" strings, 1e999 are rejected). */
function checkNumber(v: unknown, where: string): number {
  if (typeof v !== "number") throw new Error(`${where} must be a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) throw new Error(`${where} is not a finite number (overflows float64)`);
  return v;
}

interface Parsed {
  rows: number[][];
  oneD: boolean;
}

function parseArray(name: string, value: unknown[]): Parsed {
  if (value.length === 0) throw new Error(`${name} is empty`);
  if (!Array.isArray(value[0])) {
    const row = value.map((v, j) => {
      if (Array.isArray(v)) throw new Error(`${name}[${j}] must be a number, got an array`);
      return checkNumber(v, `${name}[${j}]`);
    });
    return { rows: [row], oneD: true };
  }
  const rows = value.map((r, i) => {
    if (!Array.isArray(r))
      throw new Error(`${name}[${i}] must be an array (a row), got ${describe(r)}`);
    if (r.length === 0) throw new Error(`${name}[${i}] is empty`);
    return r.map((v, j) => checkNumber(v, `${name}[${i}][${j}]`));
  });
  return { rows, oneD: false };
}

/** `max − min` of a row, by a loop (spreading a long row into Math.max overflows the stack). */
function rangeWidth(row: number[]): number {
  let lo = row[0];
  let hi = row[0];
  for (const v of row) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return hi - lo;
}

function checkRagged(name: string, rows: number[][]): void {
  const k = rows[0].length;
  const bad = rows.findIndex((r) => r.length !== k);
  if (bad >= 0) {
    throw new Error(
      `${name} rows differ in length (row 0 has ${k} entries, row ${bad} has ${rows[bad].length})`,
    );
  }
}

function shapeText(p: Parsed): string {
  return p.oneD ? `1-D with ${p.rows[0].length} entries` : `2-D with ${p.rows.length} rows`;
}

function parseLabels(raw: number | unknown[], n: number, k: number, oneD: boolean): number[] {
  const check = (v: unknown, where: string): number => {
    const y = checkNumber(v, where);
    if (!Number.isInteger(y)) throw new Error(`${where} is ${y}, not an integer class index`);
    if (y < 0 || y >= k) {
      throw new Error(`${where} is ${y}, out of range for ${k} classes (0..${k - 1})`);
    }
    return y;
  };
  if (!Array.isArray(raw)) {
    if (n !== 1) {
      throw new Error(`labels is a single number but logits has ${n} rows; give one label per row`);
    }
    return [check(raw, "labels")];
  }
  if (raw.length !== n) {
    const have = oneD ? "logits is one sample" : `logits has ${n} rows`;
    throw new Error(`labels has ${raw.length} entries but ${have}`);
  }
  return raw.map((v, i) => check(v, `labels[${i}]`));
}

/** Validates one raw record; throws {@link RecordError} naming its line and the problem. */
export function validateRecord(raw: RawRecord): SampleRecord {
  const { line, value } = raw;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RecordError(
      line,
      `expected a JSON object with "logits" and "slopes", got ${describe(value)}`,
    );
  }
  const res = recordSchema.safeParse(value);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new RecordError(line, `${issue.path.join(".")} ${issue.message}`);
  }
  try {
    const logits = parseArray("logits", res.data.logits);
    const slopes = parseArray("slopes", res.data.slopes);
    if (logits.oneD !== slopes.oneD) {
      throw new Error(
        `logits and slopes differ in shape (logits is ${shapeText(logits)}, slopes is ${shapeText(slopes)})`,
      );
    }
    if (logits.rows.length !== slopes.rows.length) {
      throw new Error(
        `logits and slopes differ in shape (logits has ${logits.rows.length} rows vs slopes ${slopes.rows.length})`,
      );
    }
    const bad = logits.rows.findIndex((r, i) => r.length !== slopes.rows[i].length);
    if (bad >= 0) {
      const where = logits.oneD ? "" : `row ${bad} has `;
      throw new Error(
        `logits and slopes differ in shape (${where}${logits.rows[bad].length} vs ${slopes.rows[bad].length} entries)`,
      );
    }
    checkRagged("logits", logits.rows);
    const wide = logits.rows.findIndex((r) => !Number.isFinite(rangeWidth(r)));
    if (wide >= 0) {
      const where = logits.oneD ? "logits" : `logits[${wide}]`;
      throw new Error(
        `${where} differ by more than the float64 range (max − min overflows); shift the logits by a constant or rescale them`,
      );
    }
    const k = logits.rows[0].length;
    if (k < 2) throw new Error(`a sample needs at least 2 classes, got ${k}`);
    const labels =
      res.data.labels === undefined
        ? undefined
        : parseLabels(res.data.labels, logits.rows.length, k, logits.oneD);
    return { line, logits: logits.rows, slopes: slopes.rows, labels };
  } catch (err) {
    if (err instanceof RecordError) throw err;
    throw new RecordError(line, (err as Error).message);
  }
}
