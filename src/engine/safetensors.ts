/**
 * The safetensors file format (https://huggingface.co/docs/safetensors), on host memory:
 * an 8-byte little-endian header length N, N bytes of JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`,
 * then the raw little-endian tensor bytes, offsets relative to the end of the header.
 *
 * The npm registry has no maintained implementation (the `safetensors` package is a 0.0.1
 * placeholder), so this is our own; it writes what PyTorch's and JAX's readers expect
 * (tensors sorted by name, data packed in that order, header padded with spaces to a
 * multiple of 8) and reads defensively: every inconsistency is a one-line {@link SafetensorsError}.
 */

/** Thrown for a file that is not valid safetensors, or a tensor that cannot be stored. */
export class SafetensorsError extends Error {
  override name = "SafetensorsError";
}

/** The element types this package reads and writes. */
export type SafetensorsDType = "F32" | "F64" | "I32";

/** One tensor: dtype, shape and its elements in row-major order. */
export interface Tensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

/** A decoded file: tensors by name and the optional string metadata. */
export interface SafetensorsFile {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDType, number> = { F32: 4, F64: 8, I32: 4 };
const VIEW = { F32: Float32Array, F64: Float64Array, I32: Int32Array } as const;
/** Headers above this size are refused (the reference implementation's limit is 100 MB). */
const MAX_HEADER = 100_000_000;

function dtypeOf(data: Tensor["data"]): SafetensorsDType {
  return data instanceof Float32Array ? "F32" : data instanceof Float64Array ? "F64" : "I32";
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Encodes tensors (and string metadata) as a safetensors file. */
export function encodeSafetensors(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    if (name === "" || name === "__metadata__") {
      throw new SafetensorsError(`invalid tensor name ${JSON.stringify(name)}`);
    }
    const t = tensors[name]!;
    if (dtypeOf(t.data) !== t.dtype) {
      throw new SafetensorsError(`tensor ${name}: dtype ${t.dtype} does not match its data`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor ${name}: bad shape [${t.shape.join(", ")}]`);
    }
    if (elementCount(t.shape) !== t.data.length) {
      throw new SafetensorsError(
        `tensor ${name}: shape [${t.shape.join(", ")}] does not hold ${t.data.length} elements`,
      );
    }
    const size = t.data.length * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name]!;
    const step = BYTES[t.dtype];
    for (let i = 0; i < t.data.length; i++, pos += step) {
      if (t.dtype === "F32") view.setFloat32(pos, t.data[i]!, true);
      else if (t.dtype === "F64") view.setFloat64(pos, t.data[i]!, true);
      else view.setInt32(pos, t.data[i]!, true);
    }
  }
  return out;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** Decodes a safetensors file; throws {@link SafetensorsError} naming the first problem. */
export function decodeSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) {
    throw new SafetensorsError(`too short for a safetensors file (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    throw new SafetensorsError(
      `header length ${headerLength} exceeds the file (${bytes.length} bytes)`,
    );
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)),
    );
  } catch {
    throw new SafetensorsError("header is not valid UTF-8 JSON");
  }
  if (!isRecord(header)) throw new SafetensorsError("header is not a JSON object");
  const metadata: Record<string, string> = {};
  const tensors: Record<string, Tensor> = {};
  const dataLength = bytes.length - dataStart;
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (!isRecord(entry) || !Object.values(entry).every((v) => typeof v === "string")) {
        throw new SafetensorsError("__metadata__ must map strings to strings");
      }
      Object.assign(metadata, entry);
      continue;
    }
    if (!isRecord(entry)) throw new SafetensorsError(`tensor ${name}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (dtype !== "F32" && dtype !== "F64" && dtype !== "I32") {
      throw new SafetensorsError(
        `tensor ${name}: unsupported dtype ${JSON.stringify(dtype)} (F32, F64 and I32 are)`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(`tensor ${name}: shape must be a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) ||
      offsets[0] > offsets[1] ||
      offsets[1] > dataLength
    ) {
      throw new SafetensorsError(
        `tensor ${name}: data_offsets must be [begin, end] within the ${dataLength} data bytes`,
      );
    }
    const [begin, end] = offsets as [number, number];
    const count = elementCount(shape as number[]);
    if (end - begin !== count * BYTES[dtype]) {
      throw new SafetensorsError(
        `tensor ${name}: ${end - begin} bytes do not hold shape [${shape.join(", ")}] of ${dtype}`,
      );
    }
    spans.push([begin, end, name]);
    const data = new VIEW[dtype](count);
    for (let i = 0, pos = dataStart + begin; i < count; i++, pos += BYTES[dtype]) {
      data[i] =
        dtype === "F32"
          ? view.getFloat32(pos, true)
          : dtype === "F64"
            ? view.getFloat64(pos, true)
            : view.getInt32(pos, true);
    }
    tensors[name] = { dtype, shape: [...(shape as number[])], data };
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) {
      throw new SafetensorsError(`tensors ${spans[i - 1]![2]} and ${spans[i]![2]} overlap`);
    }
  }
  return { tensors, metadata };
}
