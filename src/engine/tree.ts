/**
 * Pytree helpers for `Params`/`ModelState` trees (nested plain objects of arrays).
 *
 * Leaves are matched BY KEY PATH, not by insertion order, so two trees built in a different
 * key order still line up. Canonical order (used by `flattenToHost`) is the sorted key path.
 *
 * Ownership: every function here BORROWS its tree arguments; trees it returns are new and
 * owned by the caller (dispose them with `disposeTree`).
 */
import { type Array as JaxArray, tree as jaxTree, numpy as np } from "@jax-js/jax";
import { type FloatDType, jaxDtype, takeScalar, toDevice } from "./arrays.js";

/** A nested object whose leaves are arrays (Params and ModelState both fit). */
export type ArrayTree = { [name: string]: JaxArray | ArrayTree };

/** jax-js's rule: a plain object is a tree node, anything else (array, tracer) a leaf. */
function isLeaf(x: JaxArray | ArrayTree): x is JaxArray {
  return !(typeof x === "object" && x !== null && (x as object).constructor === Object);
}

/** Sorted key paths ("block1.attn.wq") and leaves of a tree. */
export function treeEntries(t: ArrayTree, prefix = ""): [string, JaxArray][] {
  const out: [string, JaxArray][] = [];
  for (const key of Object.keys(t).sort()) {
    const v = t[key]!;
    const path = prefix ? `${prefix}.${key}` : key;
    if (isLeaf(v)) out.push([path, v]);
    else out.push(...treeEntries(v, path));
  }
  return out;
}

/** Leaves in canonical (sorted key path) order. Borrowed: no reference is taken. */
export function treeLeaves(t: ArrayTree): JaxArray[] {
  return treeEntries(t).map(([, a]) => a);
}

/** Total number of scalars in the tree. */
export function treeSize(t: ArrayTree): number {
  let n = 0;
  for (const a of treeLeaves(t)) n += a.size;
  return n;
}

/** A new reference to every leaf (jax-js `tree.ref`). */
export function refTree<T extends ArrayTree>(t: T): T {
  return jaxTree.ref(t);
}

/** Drop one reference of every leaf (jax-js `tree.dispose`); accepts undefined. */
export function disposeTree(t: ArrayTree | undefined | null): void {
  if (t) jaxTree.dispose(t);
}

/**
 * Map leaves of one or more trees with the same key paths. `fn` receives NEW references it
 * must consume (the usual jax-js convention), so the input trees are left intact.
 */
export function mapTree<T extends ArrayTree>(
  fn: (...leaves: JaxArray[]) => JaxArray,
  first: T,
  ...rest: ArrayTree[]
): T {
  // Check the structure up front so a mismatch throws before anything is allocated.
  const paths = treeEntries(first).map(([p]) => p);
  rest.forEach((r, i) => {
    const other = new Set(treeEntries(r).map(([p]) => p));
    const missing = paths.find((p) => !other.has(p));
    if (missing !== undefined || other.size !== paths.length) {
      throw new Error(
        `mapTree: tree ${i + 1} does not match (${missing ? `lacks key "${missing}"` : "extra keys"})`,
      );
    }
  });
  return mapMatched(fn, first, rest);
}

function mapMatched<T extends ArrayTree>(
  fn: (...leaves: JaxArray[]) => JaxArray,
  first: T,
  rest: ArrayTree[],
): T {
  const out: ArrayTree = {};
  for (const key of Object.keys(first)) {
    const v = first[key]!;
    const others = rest.map((r, i) => {
      const o = r[key];
      if (o === undefined) throw new Error(`mapTree: tree ${i + 1} lacks key "${key}"`);
      return o;
    });
    if (isLeaf(v)) {
      if (!others.every(isLeaf)) throw new Error(`mapTree: structure mismatch at "${key}"`);
      out[key] = fn(v.ref, ...(others as JaxArray[]).map((o) => o.ref));
    } else {
      if (others.some(isLeaf)) throw new Error(`mapTree: structure mismatch at "${key}"`);
      out[key] = mapMatched(fn, v, others as ArrayTree[]);
    }
  }
  return out as T;
}

/** α·x + y, leafwise (new tree). */
export function axpyTree<T extends ArrayTree>(alpha: number, x: T, y: ArrayTree): T {
  return mapTree((a, b) => a.mul(alpha).add(b), x, y);
}

/** s·x, leafwise (new tree). */
export function scaleTree<T extends ArrayTree>(x: T, s: number): T {
  return mapTree((a) => a.mul(s), x);
}

/** Zeros shaped like `x` (new tree). */
export function zerosLikeTree<T extends ArrayTree>(x: T): T {
  return mapTree((a) => np.zerosLike(a), x);
}

/** Cast every leaf to a float dtype (new tree; leaves already in that dtype are re-referenced). */
export function castTree<T extends ArrayTree>(x: T, dtype: FloatDType): T {
  const d = jaxDtype(dtype);
  return mapTree((a) => (a.dtype === d ? a : a.astype(d)), x);
}

/** Σ x·y over all leaves, computed in float64 on the host side of the sum. */
export function dotTree(x: ArrayTree, y: ArrayTree): number {
  const ex = treeEntries(x);
  const ey = new Map(treeEntries(y));
  let s = 0;
  for (const [path, a] of ex) {
    const b = ey.get(path);
    if (!b) throw new Error(`dotTree: second tree lacks "${path}"`);
    s += takeScalar(np.sum(np.multiply(a.ref.astype(np.float64), b.ref.astype(np.float64))));
  }
  return s;
}

/** Euclidean norm over all leaves. */
export function normTree(x: ArrayTree): number {
  let s = 0;
  for (const a of treeLeaves(x)) {
    const a64 = a.ref.astype(np.float64);
    s += takeScalar(np.sum(a64.ref.mul(a64)));
  }
  return Math.sqrt(s);
}

/** Largest absolute leaf value over the tree (0 for an empty tree). */
export function maxAbsTree(x: ArrayTree): number {
  let m = 0;
  for (const a of treeLeaves(x)) {
    if (a.size === 0) continue;
    m = Math.max(m, takeScalar(np.max(np.abs(a.ref))));
  }
  return m;
}

/** All leaves concatenated in canonical order as one float64 host vector. */
export function flattenToHost(x: ArrayTree): Float64Array {
  const leaves = treeLeaves(x);
  const out = new Float64Array(treeSize(x));
  let off = 0;
  for (const a of leaves) {
    const d = a.ref.dataSync() as ArrayLike<number>;
    for (let i = 0; i < d.length; i++) out[off + i] = d[i]!;
    off += d.length;
  }
  return out;
}

/**
 * Inverse of `flattenToHost`: a new tree shaped like `template` holding `values`
 * (in `dtype`, default the template leaf's own dtype).
 */
export function unflattenFromHost<T extends ArrayTree>(
  template: T,
  values: ArrayLike<number>,
  dtype?: FloatDType,
): T {
  const total = treeSize(template);
  if (values.length !== total) {
    throw new Error(`unflattenFromHost: got ${values.length} values for ${total} parameters`);
  }
  const offsets = new Map<string, number>();
  let off = 0;
  for (const [path, a] of treeEntries(template)) {
    offsets.set(path, off);
    off += a.size;
  }
  const build = (t: ArrayTree, prefix: string): ArrayTree => {
    const out: ArrayTree = {};
    for (const key of Object.keys(t)) {
      const v = t[key]!;
      const path = prefix ? `${prefix}.${key}` : key;
      if (isLeaf(v)) {
        const o = offsets.get(path)!;
        const d = dtype ?? (v.dtype === np.float64 ? "float64" : "float32");
        const slice = Array.prototype.slice.call(values, o, o + v.size) as number[];
        out[key] = toDevice(slice, v.shape, d);
      } else out[key] = build(v, path);
    }
    return out;
  };
  return build(template, "") as T;
}
