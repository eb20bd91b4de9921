/**
 * Lifetimes for code above the engine, so that it never counts references itself.
 *
 * - A {@link Scope} owns the arrays and trees created during one span of work (a training
 *   step, a probe) and releases them together — an explicit form of tf.js's `tidy`.
 * - A {@link Holder} owns one long-lived value that is replaced over time (parameters, model
 *   state, optimizer state): setting a new value releases the old one.
 * - A {@link Resident} owns a value made on first use and kept for reuse (a sample set kept on
 *   the device across probes): `release` frees it, and the next `get` makes it again.
 * - A {@link CompiledFunction} owns a `jit`-compiled function and the constants it captured
 *   until {@link CompiledFunction.close}.
 *
 * Both follow the engine convention (see `engine/index.ts`): what you `own` must be yours (a
 * value some call returned to you); what you read back with `get` is borrowed.
 */
import { type Array as JaxArray, type JsTree, jit } from "@jax-js/jax";
import { type ArrayTree, disposeTree, refTree } from "./tree.js";

/** Owns arrays and trees until {@link Scope.release}. */
export class Scope {
  #owned: ArrayTree[] = [];

  /** Adopt a value you own; it is released with the scope. Returns it. */
  own<T extends ArrayTree>(value: T): T {
    this.#owned.push(value);
    return value;
  }

  /** Keep a borrowed value alive until the scope is released (takes a new reference). */
  hold<T extends ArrayTree>(value: T): T {
    return this.own(refTree(value));
  }

  /** Release everything adopted, newest first. The scope can be reused afterwards. */
  release(): void {
    const owned = this.#owned;
    this.#owned = [];
    for (let i = owned.length - 1; i >= 0; i--) disposeTree(owned[i]);
  }
}

/** Run `fn` with a fresh scope, released when `fn` returns or throws. */
export function scoped<R>(fn: (scope: Scope) => R): R {
  const scope = new Scope();
  try {
    return fn(scope);
  } finally {
    scope.release();
  }
}

/** Owns one value that is replaced over time. */
export class Holder<T extends ArrayTree> {
  #value: T | null;

  /** Adopt `value` (yours); without one the holder starts empty. */
  constructor(value: T | null = null) {
    this.#value = value;
  }

  /** Whether it holds a value now. */
  get held(): boolean {
    return this.#value !== null;
  }

  /** The current value, borrowed: valid until the next `set`, `take` or `release`. */
  get(): T {
    if (this.#value === null) throw new Error("Holder: the value was taken or released");
    return this.#value;
  }

  /** Adopt `next` (yours) and release the previous value. */
  set(next: T): void {
    const prev = this.#value;
    this.#value = next;
    if (prev !== null && prev !== next) disposeTree(prev);
  }

  /**
   * Keep a borrowed value alive in place of the previous one (takes a new reference to it,
   * then releases the previous value).
   */
  hold(borrowed: T): void {
    this.set(refTree(borrowed));
  }

  /** Hand the value to the caller, who owns it from now on; the holder is left empty. */
  take(): T {
    const v = this.get();
    this.#value = null;
    return v;
  }

  /** Release the value (no-op when empty). */
  release(): void {
    const prev = this.#value;
    this.#value = null;
    if (prev !== null) disposeTree(prev);
  }
}

/** Owns a value made on first use and kept until released; made again when next asked for. */
export class Resident<T extends ArrayTree> {
  readonly #make: () => T;
  #value: T | null = null;

  /** `make` returns a value the resident then owns (called on the first `get`). */
  constructor(make: () => T) {
    this.#make = make;
  }

  /** The value, borrowed (made now if not held): valid until the next `release`. */
  get(): T {
    this.#value ??= this.#make();
    return this.#value;
  }

  /** Whether a value is held now. */
  get held(): boolean {
    return this.#value !== null;
  }

  /** Release the value (no-op when none is held); a later `get` makes a new one. */
  release(): void {
    const prev = this.#value;
    this.#value = null;
    if (prev !== null) disposeTree(prev);
  }
}

/** {@link CompiledFunction}s made and not yet closed. */
let openCompiled = 0;

/**
 * How many {@link CompiledFunction}s are open (made and not closed): compiled code holds no
 * device buffer of its own, so leak tests count these beside the live buffers.
 */
export function openCompiledFunctions(): number {
  return openCompiled;
}

/**
 * Owns a function compiled with `jit` (its traces and the constants they captured). The
 * compiled function keeps jax-js's move semantics: call it through `op.call` from a tidy, or
 * hand it arguments you own.
 */
// biome-ignore lint/suspicious/noExplicitAny: any function signature can be compiled.
export class CompiledFunction<F extends (...args: any[]) => JsTree<JaxArray>> {
  #fn: (F & { dispose: () => void }) | null;

  /** Compiles `fn` (lazily: jax-js traces on the first call per input shape). */
  constructor(fn: F) {
    // jit widens the parameters to accept host numbers too; the arrays-only signature is kept.
    this.#fn = jit(fn) as unknown as F & { dispose: () => void };
    openCompiled++;
  }

  /** The compiled function, or `null` once {@link close}d. Borrowed: do not keep it past `close`. */
  get fn(): F | null {
    return this.#fn;
  }

  /** Frees the compiled function and its captured constants (a second call does nothing). */
  close(): void {
    const fn = this.#fn;
    if (fn === null) return;
    this.#fn = null;
    openCompiled--;
    fn.dispose();
  }
}
