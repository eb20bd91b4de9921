/**
 * NumPy input of `ghosts radius`: `--logits a.npy --slopes b.npy [--labels c.npy]`, the
 * same options pointing into `.npz` archives, or one `.npz` holding arrays named `logits`,
 * `slopes` and optionally `labels` (`np.savez("batch.npz", logits=z, slopes=a)`).
 *
 * An array of shape (..., K) is a stack of samples of K classes (every leading axis is
 * flattened into rows, so per-token logits of shape (batch, tokens, K) work as they are).
 * Every problem is one UsageError line naming the file.
 */
import { readFile } from "node:fs/promises";
import { type NpyArray, NpyError, parseNpy, parseNpz } from "softmax-ghosts/data";
import { UsageError } from "./errors.js";
import type { SampleRecord } from "./records.js";

/** Which files hold the arrays (`--logits`, `--slopes`, `--labels`). */
export interface NumpySources {
  logits?: string;
  slopes?: string;
  labels?: string;
}

type Role = "logits" | "slopes" | "labels";

/** True when the bytes start like a zip archive (an `.npz`). */
function isZip(bytes: Uint8Array): boolean {
  return bytes[0] === 0x50 && bytes[1] === 0x4b;
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
}

/** Parses a file as `.npz` or `.npy` (by content), prefixing problems with its name. */
function parseFile(path: string, bytes: Uint8Array): Map<string, NpyArray> | NpyArray {
  try {
    return isZip(bytes) ? parseNpz(bytes) : parseNpy(bytes);
  } catch (err) {
    if (err instanceof NpyError) throw new UsageError(`${path}: ${err.message}`);
    throw err;
  }
}

/** The array for `role` in an archive: the one named so, or the only one. */
function pick(archive: Map<string, NpyArray>, role: Role): NpyArray | undefined {
  const named = archive.get(role);
  if (named !== undefined) return named;
  if (archive.size === 1 && role !== "labels") return [...archive.values()][0];
  return undefined;
}

function shapeText(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

function indexText(flat: number, shape: readonly number[]): string {
  const idx: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(flat % shape[a]!);
    flat = Math.floor(flat / shape[a]!);
  }
  return `[${idx.join(", ")}]`;
}

/** Rows of K from an array of shape (..., K), checking every element is finite. */
function rowsOf(where: string, a: NpyArray): number[][] {
  if (a.shape.length === 0) {
    throw new UsageError(`${where}: is a scalar; expected shape (K,) or (N, K)`);
  }
  const k = a.shape[a.shape.length - 1]!;
  if (k < 2) {
    throw new UsageError(
      `${where}: shape ${shapeText(a.shape)} has ${k} class${k === 1 ? "" : "es"}; a sample needs at least 2`,
    );
  }
  const n = a.data.length / k;
  if (n === 0) throw new UsageError(`${where}: shape ${shapeText(a.shape)} holds no samples`);
  for (let i = 0; i < a.data.length; i++) {
    if (!Number.isFinite(a.data[i]!)) {
      throw new UsageError(
        `${where}: element ${indexText(i, a.shape)} is ${a.data[i]}, not a finite number`,
      );
    }
  }
  return Array.from({ length: n }, (_, i) => Array.from(a.data.subarray(i * k, (i + 1) * k)));
}

function labelsOf(where: string, a: NpyArray, n: number, k: number): number[] {
  if (a.data.length !== n) {
    throw new UsageError(
      `${where}: shape ${shapeText(a.shape)} gives ${a.data.length} labels for ${n} samples`,
    );
  }
  return Array.from(a.data, (y, i) => {
    if (!Number.isInteger(y) || y < 0 || y >= k) {
      throw new UsageError(
        `${where}: label ${indexText(i, a.shape)} is ${y}, not a class index in 0..${k - 1}`,
      );
    }
    return y;
  });
}

/**
 * Reads the NumPy input: either `npz` (one archive with `logits`, `slopes`, `labels?`) or
 * the option files. Returns one record for `radiusOfRecord`.
 */
export async function readNumpyRecord(sources: NumpySources, npz?: string): Promise<SampleRecord> {
  const arrays: Partial<Record<Role, { where: string; array: NpyArray }>> = {};
  const cache = new Map<string, Map<string, NpyArray> | NpyArray>();
  const load = async (path: string) => {
    let parsed = cache.get(path);
    if (parsed === undefined) {
      parsed = parseFile(path, await readBytes(path));
      cache.set(path, parsed);
    }
    return parsed;
  };
  const roles: Role[] = ["logits", "slopes", "labels"];
  for (const role of roles) {
    const path = npz ?? sources[role];
    if (path === undefined) continue;
    const parsed = await load(path);
    if (parsed instanceof Map) {
      const array = pick(parsed, role);
      if (array === undefined) {
        if (role === "labels" && sources.labels === undefined) continue;
        const has = [...parsed.keys()].join(", ") || "no arrays";
        throw new UsageError(`${path}: no array named '${role}' (has: ${has})`);
      }
      arrays[role] = { where: `${path}:${role}`, array };
    } else {
      arrays[role] = { where: path, array: parsed };
    }
  }
  const logits = arrays.logits!;
  const slopes = arrays.slopes!;
  if (logits.array.shape.join(",") !== slopes.array.shape.join(",")) {
    throw new UsageError(
      `logits ${logits.where} has shape ${shapeText(logits.array.shape)} but slopes ${slopes.where} has ${shapeText(slopes.array.shape)}`,
    );
  }
  const record: SampleRecord = {
    line: 1,
    logits: rowsOf(logits.where, logits.array),
    slopes: rowsOf(slopes.where, slopes.array),
  };
  if (arrays.labels !== undefined) {
    const k = logits.array.shape[logits.array.shape.length - 1]!;
    record.labels = labelsOf(arrays.labels.where, arrays.labels.array, record.logits.length, k);
  }
  return record;
}

/** Checks the combination of NumPy options and the positional file. */
export function numpyMode(
  file: string | undefined,
  sources: NumpySources,
): "json" | "npz" | "files" {
  const any =
    sources.logits !== undefined || sources.slopes !== undefined || sources.labels !== undefined;
  if (any) {
    if (file !== undefined) {
      throw new UsageError("give either a FILE or --logits/--slopes, not both");
    }
    if (sources.logits === undefined || sources.slopes === undefined) {
      throw new UsageError("--logits and --slopes go together: give both");
    }
    return "files";
  }
  const lower = file?.toLowerCase() ?? "";
  if (lower.endsWith(".npy")) {
    throw new UsageError(
      `${file}: a .npy file holds one array; use --logits FILE.npy --slopes FILE.npy`,
    );
  }
  return lower.endsWith(".npz") ? "npz" : "json";
}
