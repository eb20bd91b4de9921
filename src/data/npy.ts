/**
 * NumPy's `.npy` and `.npz` files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
 * read into float64 so PyTorch and JAX users can hand us arrays with `np.save` / `np.savez`.
 *
 * `.npy`: the magic `\x93NUMPY`, a version (1.0, 2.0 or 3.0), the header length (2 bytes
 * little-endian in 1.0, 4 bytes after), an ASCII (3.0: UTF-8) Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (32, 10), }`, then the raw elements.
 * `.npz`: a zip archive of `.npy` members, stored (`np.savez`) or deflated
 * (`np.savez_compressed`), with the zip64 fields NumPy writes.
 *
 * Readers are strict: any inconsistency is one {@link NpyError} line naming the problem
 * (callers prefix the file name). Real and integer dtypes of any byte order are accepted
 * (float16/32/64, (u)int8…64, bool); object, complex, string and structured arrays are not.
 */
import { inflateRawSync } from "node:zlib";

/** Thrown for a file that is not a readable NumPy array. */
export class NpyError extends Error {
  override name = "NpyError";
}

/** An array read from a `.npy` file: C-order elements as float64. */
export interface NpyArray {
  /** The file's dtype descriptor, e.g. `"<f4"`. */
  descr: string;
  shape: number[];
  /** Elements in C (row-major) order, whatever the file's order. */
  data: Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Largest element count we allocate for (2^28 float64 = 2 GiB). */
const MAX_ELEMENTS = 2 ** 28;

/** A parsed header value: the subset of Python literals NumPy writes. */
type Literal = string | boolean | number | Literal[] | { [key: string]: Literal };

/** Parses the Python literal of a `.npy` header (dict, tuple, str, int, True/False). */
function parseLiteral(text: string): Literal {
  let i = 0;
  const fail = (what: string): never => {
    throw new NpyError(`header is not a NumPy header dict (${what} at offset ${i})`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const value = (depth: number): Literal => {
    if (depth > 8) fail("nesting too deep");
    ws();
    const c = text[i];
    if (c === "{" || c === "(" || c === "[") {
      const close = c === "{" ? "}" : c === "(" ? ")" : "]";
      i++;
      const items: Literal[] = [];
      const dict: { [key: string]: Literal } = {};
      for (;;) {
        ws();
        if (text[i] === close) {
          i++;
          break;
        }
        if (c === "{") {
          const key = value(depth + 1);
          if (typeof key !== "string") fail("a non-string key");
          ws();
          if (text[i] !== ":") fail("a missing ':'");
          i++;
          dict[key as string] = value(depth + 1);
        } else items.push(value(depth + 1));
        ws();
        if (text[i] === ",") i++;
        else if (text[i] !== close) fail("a missing ',' or closing bracket");
      }
      return c === "{" ? dict : items;
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) fail("an unterminated string");
      const s = text.slice(i + 1, end);
      if (s.includes("\\")) fail("an escaped string");
      i = end + 1;
      return s;
    }
    const m = /^(True|False|-?\d+)/.exec(text.slice(i, i + 24));
    if (m === null) return fail("an unexpected character");
    i += m[0].length;
    if (m[0] === "True" || m[0] === "False") return m[0] === "True";
    // Python 2 NumPy wrote shapes like (3L, 4L).
    if (text[i] === "L") i++;
    return Number(m[0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail("trailing characters");
  return v;
}

/** Byte width and element reader of a supported dtype descriptor. */
function elementReader(descr: string): {
  size: number;
  read: (view: DataView, offset: number) => number;
} {
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (m === null) {
    throw new NpyError(
      `unsupported dtype '${descr}' (real and integer arrays are: float16/32/64, int, uint, bool)`,
    );
  }
  const [, order, kind, bytes] = m as unknown as [string, string, string, string];
  const size = Number(bytes);
  // '=' is native; NumPy writes '<' on every little-endian machine, so treat it as such.
  const le = order !== ">";
  const readers: Record<string, (v: DataView, o: number) => number> = {
    f2: (v, o) => halfToNumber(v.getUint16(o, le)),
    f4: (v, o) => v.getFloat32(o, le),
    f8: (v, o) => v.getFloat64(o, le),
    i1: (v, o) => v.getInt8(o),
    i2: (v, o) => v.getInt16(o, le),
    i4: (v, o) => v.getInt32(o, le),
    i8: (v, o) => Number(v.getBigInt64(o, le)),
    u1: (v, o) => v.getUint8(o),
    u2: (v, o) => v.getUint16(o, le),
    u4: (v, o) => v.getUint32(o, le),
    u8: (v, o) => Number(v.getBigUint64(o, le)),
    b1: (v, o) => (v.getUint8(o) === 0 ? 0 : 1),
  };
  const read = readers[`${kind}${size}`];
  if (read === undefined) throw new NpyError(`unsupported dtype '${descr}'`);
  if ((order === "|") !== (size === 1)) {
    throw new NpyError(
      `dtype '${descr}': byte order '${order}' does not fit ${size}-byte elements`,
    );
  }
  return { size, read };
}

/** IEEE 754 binary16 to a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Reads a `.npy` file. */
export function parseNpy(bytes: Uint8Array): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new NpyError("not a .npy file (no \\x93NUMPY magic)");
  }
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new NpyError(`unsupported .npy version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new NpyError("truncated header");
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (start + headerLen > bytes.length) {
    throw new NpyError(`header length ${headerLen} exceeds the file (${bytes.length} bytes)`);
  }
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? "utf-8" : "latin1", { fatal: true }).decode(
      bytes.subarray(start, start + headerLen),
    );
  } catch {
    throw new NpyError("header is not valid UTF-8");
  }
  const header = parseLiteral(text);
  if (typeof header !== "object" || Array.isArray(header)) {
    throw new NpyError("header is not a dict");
  }
  const { descr, fortran_order: fortran, shape } = header;
  if (typeof descr !== "string") {
    throw new NpyError(
      Array.isArray(descr)
        ? "structured arrays (record dtypes) are not supported"
        : "header has no 'descr' string",
    );
  }
  if (typeof fortran !== "boolean") throw new NpyError("header has no 'fortran_order' flag");
  if (
    !Array.isArray(shape) ||
    !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new NpyError("header 'shape' must be a tuple of non-negative integers");
  }
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  if (count > MAX_ELEMENTS) throw new NpyError(`array of ${count} elements is too large`);
  const { size, read } = elementReader(descr);
  const dataStart = start + headerLen;
  const expected = count * size;
  const have = bytes.length - dataStart;
  if (have !== expected) {
    throw new NpyError(
      `data has ${have} bytes but shape (${dims.join(", ")}) of '${descr}' needs ${expected}`,
    );
  }
  const data = new Float64Array(count);
  for (let i = 0; i < count; i++) data[i] = read(view, dataStart + i * size);
  return { descr, shape: dims, data: fortran ? toCOrder(data, dims) : data };
}

/** Reorders column-major (Fortran) elements into row-major. */
function toCOrder(data: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  for (let f = 0; f < data.length; f++) {
    // idx is the multi-index of Fortran position f (first axis fastest).
    let c = 0;
    for (let a = 0; a < nd; a++) c = c * shape[a]! + idx[a]!;
    out[c] = data[f]!;
    for (let a = 0; a < nd; a++) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const U32_MAX = 0xffffffff;

/**
 * Reads the `.npy` members of a `.npz` archive, keyed by name without the `.npy` suffix
 * (`np.savez(f, logits=z)` gives the key `logits`).
 */
export function parseNpz(bytes: Uint8Array): Map<string, NpyArray> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => (o + 4 <= bytes.length ? view.getUint32(o, true) : -1);
  const u16 = (o: number) => (o + 2 <= bytes.length ? view.getUint16(o, true) : -1);
  // The end-of-central-directory record sits within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let o = bytes.length - 22; o >= Math.max(0, bytes.length - 22 - 0xffff); o--) {
    if (u32(o) === EOCD_SIG) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw new NpyError("not a .npz file (no zip end-of-central-directory record)");
  let entries = u16(eocd + 10);
  let cdOffset = u32(eocd + 16);
  if ((entries === 0xffff || cdOffset === U32_MAX) && u32(eocd - 20) === ZIP64_LOCATOR_SIG) {
    const z64 = Number(view.getBigUint64(eocd - 12, true));
    if (z64 + 56 > bytes.length || u32(z64) !== ZIP64_EOCD_SIG) {
      throw new NpyError("damaged zip64 end-of-central-directory record");
    }
    entries = Number(view.getBigUint64(z64 + 32, true));
    cdOffset = Number(view.getBigUint64(z64 + 48, true));
  }
  const out = new Map<string, NpyArray>();
  let p = cdOffset;
  for (let e = 0; e < entries; e++) {
    if (u32(p) !== CENTRAL_SIG) throw new NpyError(`damaged zip central directory (entry ${e})`);
    const method = u16(p + 10);
    let compressed = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let local = u32(p + 42);
    if (p + 46 + nameLen + extraLen > bytes.length) throw new NpyError("truncated zip directory");
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // zip64: the real sizes and offset live in extra field 0x0001, in this order.
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = u16(x);
      const len = u16(x + 2);
      if (id === 1) {
        let q = x + 4;
        const next = () => {
          const v = q + 8 <= x + 4 + len ? Number(view.getBigUint64(q, true)) : -1;
          q += 8;
          return v;
        };
        if (size === U32_MAX) size = next();
        if (compressed === U32_MAX) compressed = next();
        if (local === U32_MAX) local = next();
      }
      x += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (!name.endsWith(".npy")) continue;
    if (u32(local) !== LOCAL_SIG) throw new NpyError(`${name}: damaged zip local header`);
    const dataStart = local + 30 + u16(local + 26) + u16(local + 28);
    if (compressed < 0 || dataStart + compressed > bytes.length) {
      throw new NpyError(`${name}: zip member runs past the end of the file`);
    }
    const raw = bytes.subarray(dataStart, dataStart + compressed);
    let member: Uint8Array;
    if (method === 0) member = raw;
    else if (method === 8) {
      try {
        member = inflateRawSync(raw, { maxOutputLength: Math.max(size, 0) + 1 });
      } catch {
        throw new NpyError(`${name}: cannot inflate the compressed member`);
      }
    } else throw new NpyError(`${name}: unsupported zip compression method ${method}`);
    if (member.length !== size)
      throw new NpyError(`${name}: member size does not match the zip directory`);
    try {
      out.set(name.slice(0, -4), parseNpy(member));
    } catch (err) {
      if (err instanceof NpyError) err.message = `${name}: ${err.message}`;
      throw err;
    }
  }
  return out;
}
