/**
 * A CSV writer (RFC 4180) for the data rows of the figures: small enough not to need a
 * dependency, and checked against csv-parse in the tests.
 *
 * @module
 */

/** A cell value: what chart rows hold. Objects and arrays are written as JSON text. */
export type CsvValue = unknown;

/**
 * One field as RFC 4180 wants it: quoted (quotes doubled) when it holds a comma, a quote,
 * a line break or leading/trailing white space, bare otherwise. `null` and `undefined` are
 * empty; non-finite numbers are `NaN`, `Infinity`, `-Infinity` (as in the results' JSON).
 */
export function csvField(value: CsvValue): string {
  let text: string;
  if (value === null || value === undefined) text = "";
  else if (typeof value === "string") text = value;
  else if (typeof value === "number" || typeof value === "boolean") text = String(value);
  else text = JSON.stringify(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Rows as a CSV document: a header line with `columns` (default: every key of the rows, in
 * order of first appearance), then one line per row, each ended by CRLF (RFC 4180). A row
 * without a column's key leaves that field empty.
 */
export function toCsv(rows: readonly Record<string, CsvValue>[], columns?: string[]): string {
  const cols = columns ?? columnsOf(rows);
  const lines = [cols.map(csvField).join(",")];
  for (const row of rows) lines.push(cols.map((c) => csvField(row[c])).join(","));
  return lines.map((l) => `${l}\r\n`).join("");
}

/** Every key of `rows`, in order of first appearance. */
function columnsOf(rows: readonly Record<string, CsvValue>[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) seen.add(k);
  return [...seen];
}
