/**
 * Leafwise arithmetic on pytrees of jax-js arrays, used by the optimizer transforms.
 *
 * All functions follow jax-js move semantics: **every array or tree argument is consumed** and the
 * result is freshly owned. Pass `tree.ref(t)` (or `x.ref`) to keep an argument alive. Scalar
 * factors may be JS numbers (baked into the kernel as constants) or 0-d device arrays (consumed),
 * which keeps every function usable inside `jit`.
 *
 * The `…Host` helpers read a value back to JavaScript synchronously; they cannot run inside `jit`
 * and force the device to finish its queued work.
 */
import { type DType, type Array as JaxArray, jit, numpy as np, tree } from "@jax-js/jax";
import type { ArrayTree } from "./types.js";

/** A step factor: a JS number, or a 0-d array (consumed by the function it is passed to). */
export type Scalar = number | JaxArray;

/** Map a function over the leaves of one or more trees of identical structure (no ownership change). */
export function treeMapArrays<T extends ArrayTree>(
  fn: (...leaves: JaxArray[]) => JaxArray,
  first: T,
  ...rest: T[]
): T {
  return tree.map(fn, first, ...rest) as T;
}

/** The leaves of a tree of arrays, in `tree.flatten` order (no ownership change). */
export function treeLeaves(t: ArrayTree): JaxArray[] {
  return tree.leaves(t) as JaxArray[];
}

/** Multiply every leaf by a scalar factor (number, or 0-d array that is consumed). Consumes `t`. */
export function treeScale<T extends ArrayTree>(t: T, s: Scalar): T {
  if (typeof s === "number") return treeMapArrays((x) => x.mul(s), t);
  const out = treeMapArrays((x) => x.mul(s.ref), t);
  s.dispose();
  return out;
}

type ScaleFn = (t: ArrayTree, s: JaxArray) => ArrayTree;
let scaleCompiled: ScaleFn | null = null;

/**
 * {@link treeScale} by a host factor that changes from call to call, for eager callers (the
 * ρ-controllers scale by a new factor every step). Eagerly, `x.mul(s)` bakes `s` into a kernel
 * that is generated and instantiated anew for every distinct value (about 0.6 ms per leaf on
 * the wasm backend); here `s` travels as a float64 device scalar into one compiled function,
 * rounded to each leaf's dtype as a JS constant would be, so the results are the same.
 * Consumes `t`; not for use inside `jit` (use {@link treeScale} there).
 */
export function treeScaleByHost<T extends ArrayTree>(t: T, s: number): T {
  scaleCompiled ??= jit((u: ArrayTree, f: JaxArray) => {
    const out = treeMapArrays((x) => x.mul(f.ref.astype(x.dtype)), u);
    f.dispose();
    return out;
  }) as unknown as ScaleFn;
  return scaleCompiled(t, np.array(s, { dtype: np.float64 })) as T;
}

/** Leafwise `a + b`. Consumes both trees. */
export function treeAdd<T extends ArrayTree>(a: T, b: T): T {
  return treeMapArrays((x, y) => x.add(y), a, b);
}

/** Leafwise `a − b`. Consumes both trees. */
export function treeSub<T extends ArrayTree>(a: T, b: T): T {
  return treeMapArrays((x, y) => x.sub(y), a, b);
}

/** Leafwise `a · b`. Consumes both trees. */
export function treeMul<T extends ArrayTree>(a: T, b: T): T {
  return treeMapArrays((x, y) => x.mul(y), a, b);
}

/** Leafwise `a + s·b` (axpy), `s` a number or a 0-d array (consumed). Consumes `a` and `b`. */
export function treeAddScaled<T extends ArrayTree>(a: T, b: T, s: Scalar): T {
  if (typeof s === "number") return treeMapArrays((x, y) => x.add(y.mul(s)), a, b);
  const out = treeMapArrays((x, y) => x.add(y.mul(s.ref)), a, b);
  s.dispose();
  return out;
}

/** Zeros with the shape and dtype of every leaf (or the given dtype). Consumes `t`. */
export function treeZerosLike<T extends ArrayTree>(t: T, dtype?: DType): T {
  return treeMapArrays((x) => np.zerosLike(x, dtype === undefined ? undefined : { dtype }), t);
}

/** Cast a leaf to at least float32 for reductions (float16 would lose the sum). Consumes `x`. */
function asReductionFloat(x: JaxArray): JaxArray {
  return x.dtype === np.float32 || x.dtype === np.float64 ? x : x.astype(np.float32);
}

/** Sum of the squares of all elements of all leaves, as a 0-d array (`0` for an empty tree). Consumes `t`. */
export function treeSumOfSquares(t: ArrayTree): JaxArray {
  let total: JaxArray | undefined;
  for (const leaf of treeLeaves(t)) {
    const s = np.square(asReductionFloat(leaf)).sum();
    total = total === undefined ? s : total.add(s);
  }
  return total ?? np.array(0, { dtype: np.float32 });
}

/** Global L2 norm `‖t‖ = sqrt(Σ leaf²)` as a 0-d device array (jit-safe). Consumes `t`. */
export function treeGlobalNorm(t: ArrayTree): JaxArray {
  return np.sqrt(treeSumOfSquares(t));
}

/** Inner product `Σ a·b` over all leaves, as a 0-d array. Consumes both trees. */
export function treeVdot<T extends ArrayTree>(a: T, b: T): JaxArray {
  const la = treeLeaves(a);
  const lb = treeLeaves(b);
  if (la.length !== lb.length) {
    tree.dispose(a);
    tree.dispose(b);
    throw new Error(`treeVdot: trees have ${la.length} and ${lb.length} leaves`);
  }
  let total: JaxArray | undefined;
  for (let i = 0; i < la.length; i++) {
    const s = asReductionFloat(la[i]).mul(asReductionFloat(lb[i])).sum();
    total = total === undefined ? s : total.add(s);
  }
  return total ?? np.array(0, { dtype: np.float32 });
}

/** Total number of elements over all leaves. Reads shapes only; does not consume `t`. */
export function treeNumel(t: ArrayTree): number {
  return treeLeaves(t).reduce((n, x) => n + x.size, 0);
}

/** Read a one-element array back to a JS number (synchronous; not usable inside `jit`). Consumes `x`. */
export function readScalar(x: JaxArray): number {
  return x.item();
}

/** Asynchronous {@link readScalar}: waits for the device without blocking. Consumes `x`. */
export async function readScalarAsync(x: JaxArray): Promise<number> {
  const data = await x.data();
  if (data.length !== 1)
    throw new Error(`readScalarAsync: expected one element, got ${data.length}`);
  return Number(data[0]);
}

/** Global L2 norm read back to a JS number (synchronous; not usable inside `jit`). Consumes `t`. */
export function treeGlobalNormHost(t: ArrayTree): number {
  return readScalar(treeGlobalNorm(t));
}
