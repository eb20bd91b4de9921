/**
 * Borrowing ops and {@link tidy}: how model bodies and optimizer links compute without
 * counting references (tf.js's `tidy`, for jax-js's move semantics).
 *
 * jax-js ops consume their operands (`a.mul(b)` releases `a` and `b`), so code that uses a
 * value twice or drops one has to say so with `.ref`/`.dispose()`. The functions here borrow
 * instead: `mul(a, b)` leaves `a` and `b` alone and returns a result that belongs to the
 * innermost open {@link tidy} (outside any tidy, to the caller, as the engine convention has
 * it). When the tidy's function returns, every array made inside it
 * is released except those in the returned value, which pass to the caller (or to the
 * enclosing tidy). Arguments the caller passed in are never released by the tidy.
 *
 * Rules of use, checked by the leak tests:
 * - Inside a tidy, compute with these ops only, never with jax-js methods (`x.add(y)`) on a
 *   tracked or borrowed array: those consume, and the tidy would release the array again.
 *   Reading `shape`, `ndim` and `dtype` is fine.
 * - Open the tidy inside the traced function (`jit`, `grad`, `jvp` bodies), not around the
 *   transformation: a tidy releases what it tracked when its function returns, and tracers
 *   must not outlive their trace. The adapters {@link consuming} (model forward passes) and
 *   {@link link} (optimizer links) do this for you.
 *
 * The bookkeeping is reference counting only (a `.ref` per borrowed operand, one `dispose`
 * per tracked result), so the arithmetic — the ops and their order — and therefore every
 * number is what the same code written with consuming ops computes, eagerly and in traces.
 */
import {
  type DType,
  type Array as JaxArray,
  tree as jaxTree,
  lax,
  nn,
  numpy as np,
} from "@jax-js/jax";
import * as numerics from "./numerics.js";
import {
  type ArrayTree,
  mapTree,
  treeGlobalNorm,
  treeScale,
  treeScaleByHost,
  treeZerosLike,
} from "./tree.js";

/** The dtypes code above the engine names (so that it need not import jax-js). */
export const dtypes = { float32: np.float32, float64: np.float64, int32: np.int32 } as const;

/** What an op accepts as an operand: an array (borrowed) or a JS number. */
export type Operand = JaxArray | number;

/** Open tidies, innermost last; `null` marks a {@link detached} section. */
const frames: (JaxArray[] | null)[] = [];

/** Whether `v` is a jax-js array or tracer (duck-typed: tracers are not `Array` instances). */
export function isArrayValue(v: unknown): v is JaxArray {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    (v as object).constructor !== Object &&
    "shape" in v &&
    typeof (v as { dispose?: unknown }).dispose === "function"
  );
}

/**
 * Every array leaf of a value: plain objects and lists are walked, other objects with a
 * `dispose` method are leaves, anything else is ignored. (On every link call: kept cheap.)
 */
function arrayLeaves(v: unknown, out: JaxArray[] = []): JaxArray[] {
  if (typeof v !== "object" || v === null) return out;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) arrayLeaves(v[i], out);
  } else if ((v as object).constructor === Object) {
    const o = v as Record<string, unknown>;
    for (const k in o) arrayLeaves(o[k], out);
  } else if (typeof (v as { dispose?: unknown }).dispose === "function") {
    out.push(v as JaxArray);
  }
  return out;
}

function refLeaves(v: unknown): void {
  for (const leaf of arrayLeaves(v)) leaf.ref;
}

/** Hand a new array to the innermost tidy; outside any, it is simply the caller's. */
function track<T extends JaxArray>(a: T): T {
  frames[frames.length - 1]?.push(a);
  return a;
}

function trackTree<T>(t: T): T {
  for (const leaf of arrayLeaves(t)) track(leaf);
  return t;
}

function own(x: Operand): Operand {
  return typeof x === "number" ? x : x.ref;
}

/**
 * Run `fn`; release every array the borrowing ops made during it, except those in its return
 * value, which become the caller's (or the enclosing tidy's). Returned arrays that `fn` did
 * not make (arguments passed through) are returned as new references, so the result is
 * always wholly the caller's. Everything is released when `fn` throws.
 */
export function tidy<R>(fn: () => R): R {
  return runFrame(fn, true);
}

function runFrame<R>(fn: () => R, passToOuter: boolean): R {
  const frame: JaxArray[] = [];
  frames.push(frame);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    frames.pop();
    for (let i = frame.length - 1; i >= 0; i--) frame[i]!.dispose();
    throw err;
  }
  frames.pop();
  const returned = arrayLeaves(result);
  if (returned.length === 0) {
    for (let i = frame.length - 1; i >= 0; i--) frame[i]!.dispose();
    return result;
  }
  // Count by occurrence: an op may hand back the very object it was given (a no-op cast).
  const kept = new Map<JaxArray, number>();
  for (const a of returned) kept.set(a, (kept.get(a) ?? 0) + 1);
  for (let i = frame.length - 1; i >= 0; i--) {
    const a = frame[i]!;
    const n = kept.get(a);
    if (n) kept.set(a, n - 1);
    else a.dispose();
  }
  for (const [a, n] of kept) for (let i = 0; i < n; i++) a.ref;
  const outer = frames[frames.length - 1];
  if (passToOuter && outer) outer.push(...returned);
  return result;
}

/**
 * Run a borrowing `fn` in a fresh tidy and then release `inputs`: the adapter that turns a
 * body written with borrowing ops into a function with jax-js's move semantics (what `jit`,
 * `grad` and the optimizer-link contract expect). `inputs` are the trees or arrays the caller
 * hands over (`undefined` allowed); they are released whether `fn` returns or throws. The
 * result is the caller's outright, never an enclosing tidy's: this is an ownership boundary,
 * and the place where a traced function opens its tidy.
 */
export function consuming<R>(inputs: readonly unknown[], fn: () => R): R {
  try {
    return runFrame(fn, false);
  } finally {
    for (const leaf of arrayLeaves(inputs)) leaf.dispose();
  }
}

/**
 * Run `fn` with what the ops make going to the caller, not to an enclosing tidy: for host
 * entry points that promise an owned result and may be called back from inside a link's
 * tidy (a line search evaluating a trial point). Cheaper than {@link consuming}: it keeps no
 * list, so `fn` must hand everything it makes back or release it itself (as consuming code
 * does).
 */
export function detached<R>(fn: () => R): R {
  frames.push(null);
  try {
    return fn();
  } finally {
    frames.pop();
  }
}

/**
 * A borrowing function (a layer, a model body) as a function with move semantics: every array
 * in its arguments is consumed, and what it returns is the caller's. For calling borrowing
 * code from outside a tidy, and for handing it to `jit`/`grad`/`jvp`.
 */
export function consumingFn<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return (...args: A) => consuming(args, () => fn(...args));
}

/**
 * Call a function with move semantics (a jitted function, a model's `forward`) on borrowed
 * arguments: each argument's arrays get a new reference for `fn` to consume, and what `fn`
 * returns belongs to the tidy.
 */
export function call<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
  refLeaves(args);
  return trackTree(fn(...args));
}

/** The optimizer-link contract (`optim/types.ts`), seen loosely. */
export interface LinkLike {
  init(params: never): unknown;
  update(updates: never, state: never, ...rest: never[]): unknown;
}

interface LooseLink<S> {
  init(p: ArrayTree): S;
  update(u: ArrayTree, s: ArrayTree, p: ArrayTree | undefined, x: unknown): [ArrayTree, S];
}

/**
 * Where a link made by {@link withBody} keeps its borrowing body, so that {@link initLink} and
 * {@link updateLink} run the body in a nested tidy instead of taking references for the
 * consuming wrapper to drop again (the same result, without the round trip).
 */
const BORROWING_BODY: unique symbol = Symbol("borrowing body");

/**
 * A link with the consuming contract around a borrowing `body` (`body` runs in a fresh tidy
 * and the arguments are released afterwards; `extra` is left alone). `optim`'s `link` is this.
 */
export function withBody<L extends LinkLike>(body: L): L {
  const loose = body as unknown as LooseLink<ArrayTree>;
  const wrapped = {
    init: (params: ArrayTree) => consuming([params], () => loose.init(params)),
    update: (u: ArrayTree, s: ArrayTree, p: ArrayTree | undefined, ...extra: unknown[]) =>
      consuming([u, s, p], () => loose.update(u, s, p, extra[0])),
    [BORROWING_BODY]: loose,
  };
  return wrapped as unknown as L;
}

function bodyOf(link: LinkLike): LooseLink<ArrayTree> | undefined {
  return (link as { [BORROWING_BODY]?: LooseLink<ArrayTree> })[BORROWING_BODY];
}

/** `link.init(params)` on borrowed `params`; the state belongs to the tidy. */
export function initLink<S extends ArrayTree = ArrayTree>(link: LinkLike, params: ArrayTree): S {
  const body = bodyOf(link);
  if (body) return tidy(() => body.init(params)) as S;
  refLeaves(params);
  return trackTree((link as unknown as LooseLink<S>).init(params));
}

/**
 * `link.update(updates, state, params, extra)` on borrowed trees (`extra` is passed as is,
 * borrowed like every extra); the new updates and state belong to the tidy.
 */
export function updateLink<U extends ArrayTree, S extends ArrayTree = ArrayTree>(
  link: LinkLike,
  updates: U,
  state: ArrayTree,
  params: ArrayTree | undefined,
  extra?: unknown,
): [U, S] {
  const body = bodyOf(link);
  if (body) return tidy(() => body.update(updates, state, params, extra)) as [U, S];
  const loose = link as unknown as {
    update(u: ArrayTree, s: ArrayTree, p: ArrayTree | undefined, x: unknown): [U, S];
  };
  refLeaves(updates);
  refLeaves(state);
  refLeaves(params);
  return trackTree(loose.update(updates, state, params, extra));
}

/**
 * Bring arrays a function returned to you (a new tree from an engine helper that borrows)
 * under the tidy, so that it releases them with the rest.
 */
export function adopt<T>(value: T): T {
  for (const leaf of arrayLeaves(value)) track(leaf);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Elementwise arithmetic

/** `a + b`. */
export function add(a: JaxArray, b: Operand): JaxArray {
  return track(a.ref.add(own(b)));
}

/** `a − b`. */
export function sub(a: JaxArray, b: Operand): JaxArray {
  return track(a.ref.sub(own(b)));
}

/** `a · b`. */
export function mul(a: JaxArray, b: Operand): JaxArray {
  return track(a.ref.mul(own(b)));
}

/** `a / b`. */
export function div(a: JaxArray, b: Operand): JaxArray {
  return track(a.ref.div(own(b)));
}

/** `−a`. */
export function neg(a: JaxArray): JaxArray {
  return track(a.ref.neg());
}

/** `√a`. */
export function sqrt(a: JaxArray): JaxArray {
  return track(np.sqrt(a.ref));
}

/** `a²`. */
export function square(a: JaxArray): JaxArray {
  return track(np.square(a.ref));
}

/** `1/a`. */
export function reciprocal(a: JaxArray): JaxArray {
  return track(np.reciprocal(a.ref));
}

/** `tanh(a)`. */
export function tanh(a: JaxArray): JaxArray {
  return track(np.tanh(a.ref));
}

/** `max(a, 0)`. */
export function relu(a: JaxArray): JaxArray {
  return track(nn.relu(a.ref));
}

/** `a < b`, elementwise (boolean). */
export function less(a: JaxArray, b: Operand): JaxArray {
  return track(np.less(a.ref, own(b)));
}

/** `a == b`, elementwise (boolean). */
export function equal(a: JaxArray, b: Operand): JaxArray {
  return track(np.equal(a.ref, own(b)));
}

/** `a >= b`, elementwise (boolean). */
export function greaterEqual(a: JaxArray, b: Operand): JaxArray {
  return track(np.greaterEqual(a.ref, own(b)));
}

/** `cond ? a : b`, elementwise. */
export function where(cond: JaxArray, a: Operand, b: Operand): JaxArray {
  return track(np.where(cond.ref, own(a), own(b)));
}

/** `a` cast to `dtype` (the same array, as a new reference, when it already has it). */
export function astype(a: JaxArray, dtype: DType): JaxArray {
  return track(a.ref.astype(dtype));
}

/** `a` with no gradient flowing back through it. */
export function stopGradient(a: JaxArray): JaxArray {
  return track(lax.stopGradient(a.ref));
}

// ---------------------------------------------------------------------------------------------
// Reductions, products, shapes

/** Sum over `axes` (all when omitted). */
export function sum(a: JaxArray, axes?: number | number[], keepdims = false): JaxArray {
  return track(axes === undefined ? a.ref.sum() : a.ref.sum(axes, { keepdims }));
}

/** Maximum over `axes`. */
export function max(a: JaxArray, axes: number | number[]): JaxArray {
  return track(a.ref.max(axes));
}

/** Matrix product (batched over leading axes). */
export function matmul(a: JaxArray, b: JaxArray): JaxArray {
  return track(np.matmul(a.ref, b.ref));
}

/** `a` reshaped (one axis may be −1). */
export function reshape(a: JaxArray, shape: number[]): JaxArray {
  return track(a.ref.reshape(shape));
}

/** `a` with its axes permuted. */
export function transpose(a: JaxArray, axes: number[]): JaxArray {
  return track(a.ref.transpose(axes));
}

/** Index/slice arguments of {@link slice}, as jax-js's `Array.slice` takes them. */
export type SliceArg = Parameters<JaxArray["slice"]>[number];

/** `a.slice(...index)`: ranges `[start, end]`, single indices, `[]` for a whole axis. */
export function slice(a: JaxArray, ...index: SliceArg[]): JaxArray {
  return track(a.ref.slice(...index));
}

/** `a` zero-padded by `[before, after]` per axis. */
export function pad(a: JaxArray, widths: [number, number][]): JaxArray {
  return track(np.pad(a.ref, widths));
}

/** `a` broadcast to `shape`. */
export function broadcastTo(a: JaxArray, shape: number[]): JaxArray {
  return track(np.broadcastTo(a.ref, shape));
}

/** The arrays stacked along a new axis. */
export function stack(xs: readonly JaxArray[], axis = 0): JaxArray {
  return track(
    np.stack(
      xs.map((x) => x.ref),
      axis,
    ),
  );
}

/** The arrays joined along an existing axis. */
export function concatenate(xs: readonly JaxArray[], axis = 0): JaxArray {
  return track(
    np.concatenate(
      xs.map((x) => x.ref),
      axis,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Constructors

/** A `rows × cols` matrix with ones on the diagonal. */
export function eye(rows: number, cols: number, dtype: DType): JaxArray {
  return track(np.eye(rows, cols, { dtype }));
}

/** A 0-d array holding `value`. */
export function scalar(value: number, dtype: DType): JaxArray {
  return track(np.array(value, { dtype }));
}

/** Zeros shaped like `a` (in `a`'s dtype unless given). */
export function zerosLike(a: JaxArray, dtype?: DType): JaxArray {
  return track(np.zerosLike(a.ref, dtype === undefined ? undefined : { dtype }));
}

// ---------------------------------------------------------------------------------------------
// The engine's numerics (precise in float64; see numerics.ts), borrowing

/** A scalar constant at `like`'s precision (see `numerics.constLike`); `like` is only read. */
export function constLike(like: JaxArray, value: number): Operand {
  const c = numerics.constLike(like, value);
  return typeof c === "number" ? c : track(c);
}

/** `x / c` for a number `c`, at x's precision. */
export function divConst(x: JaxArray, c: number): JaxArray {
  return track(numerics.divConst(x.ref, c));
}

/** Mean over `axes`, at x's precision. */
export function meanOver(x: JaxArray, axes: number | number[], keepdims = false): JaxArray {
  return track(numerics.meanOver(x.ref, axes, keepdims));
}

/** erf, float64-accurate for float64 inputs. */
export function erf(x: JaxArray): JaxArray {
  return track(numerics.erf(x.ref));
}

/** Max-shifted softmax along `axis`. */
export function softmax(x: JaxArray, axis = -1): JaxArray {
  return track(numerics.softmax(x.ref, axis));
}

// ---------------------------------------------------------------------------------------------
// Trees (borrowing; leaves matched by key path, as in tree.ts)

/** Map a borrowing `fn` over the leaves of trees with the same key paths. */
export function map<T extends ArrayTree>(
  fn: (...leaves: JaxArray[]) => JaxArray,
  first: T,
  ...rest: ArrayTree[]
): T {
  // mapTree hands `fn` new references to consume; the borrowing `fn` runs in a tidy whose
  // result passes to ours, and those references are dropped once it has run.
  return mapTree(
    (...leaves) =>
      tidy(() => {
        const out = fn(...leaves);
        for (const leaf of leaves) leaf.dispose();
        return out;
      }),
    first,
    ...rest,
  );
}

/** Map a borrowing `fn(leaf, index)` over a tree's leaves in flatten order (`treeLeaves`'). */
export function mapLeaves<T extends ArrayTree>(
  fn: (leaf: JaxArray, index: number) => JaxArray,
  t: T,
): T {
  const [leaves, def] = jaxTree.flatten(t);
  return jaxTree.unflatten(
    def,
    leaves.map((leaf, i) => tidy(() => fn(leaf, i))),
  ) as T;
}

/**
 * `s·t` for a host factor that changes from call to call, by one compiled call (see
 * `tree.treeScaleByHost`); eager code only, not inside `jit`.
 */
export function scaleTreeByHost<T extends ArrayTree>(t: T, s: number): T {
  return trackTree(treeScaleByHost(t, s));
}

/** `s·t`, leafwise. */
export function scaleTree<T extends ArrayTree>(t: T, s: Operand): T {
  return trackTree(treeScale(t, s));
}

/** Zeros shaped like every leaf. */
export function zerosLikeTree<T extends ArrayTree>(t: T): T {
  return trackTree(treeZerosLike(t));
}

/** Global L2 norm `sqrt(Σ leaf²)` as a 0-d array. */
export function globalNorm(t: ArrayTree): JaxArray {
  return track(treeGlobalNorm(t));
}
