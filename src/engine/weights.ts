/**
 * Saving and loading a model's parameters and state as safetensors: tensor names are the
 * tree paths (`params.fc1.w`, `state.bn1.mean`), with shapes and dtypes, so a file is
 * readable by PyTorch (`safetensors.torch.load_file`), JAX/NumPy and any other reader.
 *
 * Ownership: saving BORROWS the trees; loading returns new trees the caller owns.
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type Array as JaxArray, numpy as np } from "@jax-js/jax";
import {
  decodeSafetensors,
  encodeSafetensors,
  SafetensorsError,
  type SafetensorsFile,
  type Tensor,
} from "./safetensors.js";
import { treeEntries } from "./tree.js";

/** A model's trainable parameters and non-trainable state (BatchNorm statistics; `{}` for none). */
export interface Weights {
  params: WeightGroup;
  state: WeightGroup;
}

/** A tree of named tensors, as models keep their params and state. */
export type WeightGroup = { [name: string]: JaxArray | WeightGroup };

/** Loaded weights, plus the string metadata stored with them. */
export interface LoadedWeights extends Weights {
  metadata: Record<string, string>;
}

const GROUPS = ["params", "state"] as const;

function tensorOf(name: string, a: JaxArray): Tensor {
  const values = a.ref.dataSync() as ArrayLike<number>;
  const shape = [...a.shape];
  const dtype = a.dtype as string;
  if (dtype === "float32") return { dtype: "F32", shape, data: Float32Array.from(values) };
  if (dtype === "float64") return { dtype: "F64", shape, data: Float64Array.from(values) };
  if (dtype === "int32") return { dtype: "I32", shape, data: Int32Array.from(values) };
  throw new SafetensorsError(`${name}: cannot store dtype ${dtype}`);
}

/** Encodes params and state as safetensors bytes (borrows both). */
export function encodeWeights(weights: Weights, metadata: Record<string, string> = {}): Uint8Array {
  const tensors: Record<string, Tensor> = {};
  for (const group of GROUPS) {
    for (const [path, leaf] of treeEntries(weights[group])) {
      if (path.split(".").some((k) => k === "")) {
        throw new SafetensorsError(`${group}.${path}: tree keys must be non-empty and dot-free`);
      }
      tensors[`${group}.${path}`] = tensorOf(`${group}.${path}`, leaf);
    }
  }
  return encodeSafetensors(tensors, metadata);
}

function upload(t: Tensor): JaxArray {
  const dtype = t.dtype === "F32" ? np.float32 : t.dtype === "F64" ? np.float64 : np.int32;
  return np.array(t.data, { shape: t.shape, dtype });
}

function insert(root: WeightGroup, path: string[], leaf: JaxArray, name: string): void {
  let node = root;
  for (const key of path.slice(0, -1)) {
    const next = node[key] ?? {};
    if (!(typeof next === "object" && (next as object).constructor === Object)) {
      throw new SafetensorsError(`${name}: ${key} is both a tensor and a group`);
    }
    node[key] = next;
    node = next as WeightGroup;
  }
  const last = path[path.length - 1]!;
  if (last in node) throw new SafetensorsError(`${name}: ${last} is both a tensor and a group`);
  node[last] = leaf;
}

/** Checks decoded tensors against a template's names, shapes and dtypes. */
function checkAgainst(file: SafetensorsFile, template: Weights): void {
  const expected = new Map<string, JaxArray>();
  for (const group of GROUPS) {
    for (const [path, leaf] of treeEntries(template[group])) expected.set(`${group}.${path}`, leaf);
  }
  for (const [name, leaf] of expected) {
    const t = file.tensors[name];
    if (t === undefined) throw new SafetensorsError(`missing tensor ${name}`);
    const want = `[${leaf.shape.join(", ")}]`;
    const got = `[${t.shape.join(", ")}]`;
    if (want !== got)
      throw new SafetensorsError(`tensor ${name} has shape ${got}, expected ${want}`);
    const dtype =
      (leaf.dtype as string) === "float64"
        ? "F64"
        : (leaf.dtype as string) === "int32"
          ? "I32"
          : "F32";
    if (t.dtype !== dtype) {
      throw new SafetensorsError(`tensor ${name} has dtype ${t.dtype}, expected ${dtype}`);
    }
  }
  const extra = Object.keys(file.tensors).find((name) => !expected.has(name));
  if (extra !== undefined) throw new SafetensorsError(`unexpected tensor ${extra}`);
}

/**
 * Decodes safetensors bytes into params and state on the device. With a `template` (e.g. a
 * fresh `model.init(0)`, borrowed) every name, shape and dtype must match it exactly.
 */
export function decodeWeights(bytes: Uint8Array, template?: Weights): LoadedWeights {
  const file = decodeSafetensors(bytes);
  for (const name of Object.keys(file.tensors)) {
    const [group, ...path] = name.split(".");
    if (!(group === "params" || group === "state") || path.length === 0 || path.includes("")) {
      throw new SafetensorsError(
        `tensor ${name}: names must be params.<path> or state.<path> (a file written by saveWeights)`,
      );
    }
  }
  if (template !== undefined) checkAgainst(file, template);
  const out: LoadedWeights = { params: {}, state: {}, metadata: file.metadata };
  for (const [name, t] of Object.entries(file.tensors).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [group, ...path] = name.split(".") as ["params" | "state", ...string[]];
    insert(out[group], path, upload(t), name);
  }
  return out;
}

/**
 * Writes params and state to `path` as safetensors (atomically: a temporary file renamed
 * into place, so a reader never sees half a file). Borrows the trees.
 */
export async function saveWeights(
  path: string,
  weights: Weights,
  metadata: Record<string, string> = {},
): Promise<void> {
  const bytes = encodeWeights(weights, metadata);
  const tmp = join(dirname(path), `.tmp-${randomBytes(6).toString("hex")}`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Reads weights written by {@link saveWeights} (see {@link decodeWeights} for `template`). */
export async function loadWeights(path: string, template?: Weights): Promise<LoadedWeights> {
  const bytes = await readFile(path);
  try {
    return decodeWeights(
      new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      template,
    );
  } catch (err) {
    if (err instanceof SafetensorsError) err.message = `${path}: ${err.message}`;
    throw err;
  }
}
