/**
 * Lifetimes for code above the engine, so that it never counts references itself.
 *
 * - A {@link Scope} owns the arrays and trees created during one span of work (a training
 *   step, a probe) and releases them together — an explicit form of tf.js's `tidy`.
 * - A {@link Holder} owns one long-lived value that is replaced over time (parameters, model
 *   state, optimizer state): setting a new value releases the old one.
 *
 * Both follow the engine convention (see `engine/index.ts`): what you `own` must be yours (a
 * value some call returned to you); what you read back with `get` is borrowed.
 */
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

  /** Adopt `value` (yours). */
  constructor(value: T) {
    this.#value = value;
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
