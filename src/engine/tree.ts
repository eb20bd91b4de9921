/**
 * The one tree module: pytree helpers for parameter, gradient, update and state trees
 * (nested plain objects whose leaves are arrays).
 *
 * Ownership: every function here BORROWS its array and tree arguments and returns new
 * arrays/trees the caller owns (the engine convention, see `engine/index.ts`). Each helper
 * works eagerly and inside `jit` traces alike (tracers are reference-counted the same way),
 * except the `…Host` readers, which read a value back to JavaScript.
 *
 * Leaf order: {@link treeLeaves} lists leaves in flatten order (key insertion order, the
 * order `jax-js`'s `tree.flatten`/`tree.unflatten` use), so a list of leaves can be zipped
 * with a mask or rebuilt into the tree. Host layouts that must not depend on how a tree was
 * built ({@link flattenToHost}, {@link dotTree}) use {@link treeEntries}: leaves sorted by key
 * path. Binary helpers match leaves BY KEY PATH, so two trees built in a different key order
 * still line up.
 */
import {
  type DType,
  type Array as JaxArray,
  type JsTree,
  tree as jaxTree,
  jit,
  numpy as np,
} from "@jax-js/jax";
import { type FloatDType, jaxDtype, takeScalar, takeToHost, toDevice } from "./arrays.js";

/**
 * A pytree of arrays: an array, or plain objects and lists nesting arrays (jax-js's
 * `JsTree`). Parameters, gradients, updates and model state are all of this shape.
 */
export type ArrayTree = JsTree<JaxArray>;

/** An inner node of a tree, seen loosely (objects by key, lists by index). */
type Node = { [key: string]: ArrayTree };

/** jax-js's rule: plain objects and lists are tree nodes, anything else (array, tracer) a leaf. */
function isLeaf(x: ArrayTree): x is JaxArray {
  return !(Array.isArray(x) || (typeof x === "object" && x !== null && x.constructor === Object));
}

/** The child keys of a node: sorted for objects (when `sorted`), by index for lists. */
function childKeys(t: ArrayTree, sorted: boolean): string[] {
  const keys = Object.keys(t);
  return sorted && !Array.isArray(t) ? keys.sort() : keys;
}

/** Sorted key paths ("block1.attn.wq") and leaves of a tree. No reference is taken. */
export function treeEntries(t: ArrayTree, prefix = ""): [string, JaxArray][] {
  if (isLeaf(t)) return [[prefix, t]];
  const out: [string, JaxArray][] = [];
  for (const key of childKeys(t, true)) {
    out.push(...treeEntries((t as Node)[key]!, prefix ? `${prefix}.${key}` : key));
  }
  return out;
}

/**
 * Leaves in flatten order (key insertion order, as `tree.flatten`). No reference is taken:
 * the returned arrays are the tree's own.
 */
export function treeLeaves(t: ArrayTree): JaxArray[] {
  return jaxTree.leaves(t) as JaxArray[];
}

/** Leaves sorted by key path (the order of {@link treeEntries}). No reference is taken. */
export function sortedLeaves(t: ArrayTree): JaxArray[] {
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
 * Map leaves of one or more trees with the same key paths (the output has `first`'s key
 * order). `fn` receives NEW references it must consume (the jax-js op convention), so the
 * input trees are left intact.
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
  return mapMatched(fn, first, rest, "") as T;
}

function mapMatched(
  fn: (...leaves: JaxArray[]) => JaxArray,
  first: ArrayTree,
  rest: ArrayTree[],
  path: string,
): ArrayTree {
  if (isLeaf(first)) {
    if (!rest.every(isLeaf)) throw new Error(`mapTree: structure mismatch at "${path}"`);
    return fn(first.ref, ...(rest as JaxArray[]).map((o) => o.ref));
  }
  if (rest.some(isLeaf)) throw new Error(`mapTree: structure mismatch at "${path}"`);
  const out: Node = {};
  const list: ArrayTree[] = [];
  for (const key of childKeys(first, false)) {
    const others = rest.map((r, i) => {
      const o = (r as Node)[key];
      if (o === undefined) throw new Error(`mapTree: tree ${i + 1} lacks key "${key}"`);
      return o;
    });
    const v = mapMatched(fn, (first as Node)[key]!, others, path ? `${path}.${key}` : key);
    if (Array.isArray(first)) list.push(v);
    else out[key] = v;
  }
  return Array.isArray(first) ? list : out;
}

/** α·x + y, leafwise (new tree). */
export function axpyTree<T extends ArrayTree>(alpha: number, x: T, y: ArrayTree): T {
  return mapTree((a, b) => a.mul(alpha).add(b), x, y);
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
  for (const a of sortedLeaves(x)) {
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

/**
 * The per-leaf reductions of {@link normTree} (float64 Σa², sorted key-path order) and
 * {@link maxAbsTree} (max|a|, widened exactly to float64) of two trees, traced into one call
 * with one output; consumes both trees (a jit body).
 */
const leafReductions = jit((x: ArrayTree, y: ArrayTree): JaxArray => {
  const parts = sortedLeaves(x).map((a) => {
    const a64 = a.astype(np.float64);
    return np.sum(a64.ref.mul(a64));
  });
  for (const a of treeLeaves(y)) {
    if (a.size === 0) a.dispose();
    else parts.push(np.max(np.abs(a)).astype(np.float64));
  }
  return np.stack(parts);
});

/**
 * `normTree(x)` and `maxAbsTree(y)` from one device call and one host read, bit for bit the
 * same numbers (the leaf sums are added and the maxima compared on the host, in the same
 * order). For callers that need both every step: the eager versions launch a few ops and a
 * read per leaf. Borrows both trees.
 */
export function normAndMaxAbs(x: ArrayTree, y: ArrayTree): { norm: number; maxAbs: number } {
  const nx = sortedLeaves(x).length;
  if (nx + treeLeaves(y).filter((a) => a.size > 0).length === 0) return { norm: 0, maxAbs: 0 };
  const r = takeToHost(leafReductions(refTree(x), refTree(y)));
  let s = 0;
  for (let i = 0; i < nx; i++) s += r[i]!;
  let m = 0;
  for (let i = nx; i < r.length; i++) m = Math.max(m, r[i]!);
  return { norm: Math.sqrt(s), maxAbs: m };
}

/** All leaves concatenated in sorted key-path order as one float64 host vector. */
export function flattenToHost(x: ArrayTree): Float64Array {
  const leaves = sortedLeaves(x);
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
  const build = (t: ArrayTree, path: string): ArrayTree => {
    if (isLeaf(t)) {
      const o = offsets.get(path)!;
      const d = dtype ?? (t.dtype === np.float64 ? "float64" : "float32");
      const slice = Array.prototype.slice.call(values, o, o + t.size) as number[];
      return toDevice(slice, t.shape, d);
    }
    const keys = childKeys(t, false);
    const kids = keys.map((key) => build((t as Node)[key]!, path ? `${path}.${key}` : key));
    if (Array.isArray(t)) return kids;
    return Object.fromEntries(keys.map((key, i) => [key, kids[i]!]));
  };
  return build(template, "") as T;
}

/** A step factor: a JS number, or a 0-d array (borrowed). */
export type Scalar = number | JaxArray;

/** Map `fn` over the leaves of trees of the same key paths; alias of {@link mapTree}. */
export const treeMapArrays = mapTree;

/** `s·t`, leafwise, `s` a number or a borrowed 0-d array. */
export function treeScale<T extends ArrayTree>(t: T, s: Scalar): T {
  if (typeof s === "number") return mapTree((x) => x.mul(s), t);
  return mapTree((x) => x.mul(s.ref), t);
}

/** Same as {@link treeScale} with a number (the older engine name). */
export function scaleTree<T extends ArrayTree>(x: T, s: number): T {
  return treeScale(x, s);
}

type ScaleFn = (t: ArrayTree, s: JaxArray) => ArrayTree;
let scaleCompiled: ScaleFn | null = null;

/**
 * {@link treeScale} by a host factor that changes from call to call, for eager callers (the
 * ρ-controllers scale by a new factor every step). Eagerly, `x.mul(s)` bakes `s` into a kernel
 * that is generated and instantiated anew for every distinct value (about 0.6 ms per leaf on
 * the wasm backend); here `s` travels as a float64 device scalar into one compiled function,
 * rounded to each leaf's dtype as a JS constant would be, so the results are the same.
 * Not for use inside `jit` (use {@link treeScale} there).
 */
export function treeScaleByHost<T extends ArrayTree>(t: T, s: number): T {
  // jit calls consume their arguments; the trace body follows the jax-js op convention.
  scaleCompiled ??= jit((u: ArrayTree, f: JaxArray) => {
    const out = jaxTree.map((x: JaxArray) => x.mul(f.ref.astype(x.dtype)), u) as ArrayTree;
    f.dispose();
    return out;
  }) as unknown as ScaleFn;
  return scaleCompiled(refTree(t), np.array(s, { dtype: np.float64 })) as T;
}

/** Leafwise `a + b`. */
export function treeAdd<T extends ArrayTree>(a: T, b: ArrayTree): T {
  return mapTree((x, y) => x.add(y), a, b);
}

/** Leafwise `a − b`. */
export function treeSub<T extends ArrayTree>(a: T, b: ArrayTree): T {
  return mapTree((x, y) => x.sub(y), a, b);
}

/** Leafwise `a · b`. */
export function treeMul<T extends ArrayTree>(a: T, b: ArrayTree): T {
  return mapTree((x, y) => x.mul(y), a, b);
}

/** Leafwise `a + s·b` (axpy), `s` a number or a borrowed 0-d array. */
export function treeAddScaled<T extends ArrayTree>(a: T, b: ArrayTree, s: Scalar): T {
  if (typeof s === "number") return mapTree((x, y) => x.add(y.mul(s)), a, b);
  return mapTree((x, y) => x.add(y.mul(s.ref)), a, b);
}

/** Zeros with the shape and dtype of every leaf (or the given dtype). */
export function treeZerosLike<T extends ArrayTree>(t: T, dtype?: DType): T {
  return mapTree((x) => np.zerosLike(x, dtype === undefined ? undefined : { dtype }), t);
}

/** Cast a leaf to at least float32 for reductions (float16 would lose the sum). Consumes `x`. */
function asReductionFloat(x: JaxArray): JaxArray {
  return x.dtype === np.float32 || x.dtype === np.float64 ? x : x.astype(np.float32);
}

/**
 * Sum of the squares of all elements of all leaves, as a new 0-d array (`0` for an empty
 * tree), accumulated in flatten order in the leaves' dtype.
 */
export function treeSumOfSquares(t: ArrayTree): JaxArray {
  let total: JaxArray | undefined;
  for (const leaf of treeLeaves(t)) {
    const s = np.square(asReductionFloat(leaf.ref)).sum();
    total = total === undefined ? s : total.add(s);
  }
  return total ?? np.array(0, { dtype: np.float32 });
}

/** Global L2 norm `‖t‖ = sqrt(Σ leaf²)` as a new 0-d array (jit-safe). */
export function treeGlobalNorm(t: ArrayTree): JaxArray {
  return np.sqrt(treeSumOfSquares(t));
}

/** Inner product `Σ a·b` over all leaves (flatten order), as a new 0-d array. */
export function treeVdot(a: ArrayTree, b: ArrayTree): JaxArray {
  const la = treeLeaves(a);
  const lb = treeLeaves(b);
  if (la.length !== lb.length) {
    throw new Error(`treeVdot: trees have ${la.length} and ${lb.length} leaves`);
  }
  let total: JaxArray | undefined;
  for (let i = 0; i < la.length; i++) {
    const s = asReductionFloat(la[i]!.ref).mul(asReductionFloat(lb[i]!.ref)).sum();
    total = total === undefined ? s : total.add(s);
  }
  return total ?? np.array(0, { dtype: np.float32 });
}

/** Total number of elements over all leaves; alias of {@link treeSize}. */
export const treeNumel = treeSize;

/** Read a one-element array back to a JS number (synchronous; not inside `jit`). Borrows `x`. */
export function readScalar(x: JaxArray): number {
  return x.ref.item();
}

/** Asynchronous {@link readScalar}: waits for the device without blocking. Borrows `x`. */
export async function readScalarAsync(x: JaxArray): Promise<number> {
  const data = await x.ref.data();
  if (data.length !== 1)
    throw new Error(`readScalarAsync: expected one element, got ${data.length}`);
  return Number(data[0]);
}

/**
 * Global L2 norm read back to a JS number, accumulated in the leaves' dtype as optax does
 * ({@link normTree} accumulates in float64). Synchronous; not inside `jit`.
 */
export function treeGlobalNormHost(t: ArrayTree): number {
  return takeScalar(treeGlobalNorm(t));
}
