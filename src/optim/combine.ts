/**
 * Composition: {@link chain}, {@link applyUpdates}, and {@link findState} for reading a link's state
 * out of a chain's state.
 */
import { type Array as JaxArray, jit, tree } from "@jax-js/jax";
import type {
  ArrayTree,
  ExtraArg,
  GradientTransformation,
  OptState,
  UpdateExtra,
} from "./types.js";

/** The extra type a link declares. */
export type ExtraOf<L> = L extends GradientTransformation<infer E> ? E : never;

/** `A | B | …` → `A & B & …`. */
type Intersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/** The extra a chain of links needs: everything any of its links needs. */
export type ChainExtra<L extends readonly GradientTransformation<never>[]> = UpdateExtra &
  Intersection<ExtraOf<L[number]>>;

/** A link's `update` seen without its extra type (the chain forwards one object to all). */
type LooseUpdate = (
  u: ArrayTree,
  s: OptState,
  p?: ArrayTree,
  extra?: unknown,
) => [ArrayTree, OptState];

/**
 * Apply the links in order: each link's output updates are the next link's input. The state is the
 * array of the links' states, in order (optax's tuple).
 *
 * `params` is handed to every link (each gets its own reference; the chain consumes the caller's
 * one) and `extra` is forwarded, unchanged and borrowed, to every link — this is the hook for
 * controller links placed last, which receive e.g. a radius callback through `extra`.
 *
 * The chain returns the final updates without applying them, so the step `p` that
 * {@link applyUpdates} will add is always available (and a controller placed last sees exactly it).
 */
export function chain<const L extends readonly GradientTransformation<never>[]>(
  ...links: L
): GradientTransformation<ChainExtra<L>> {
  return {
    init(params) {
      if (links.length === 0) {
        tree.dispose(params);
        return [];
      }
      return links.map((link, i) => link.init(i === links.length - 1 ? params : tree.ref(params)));
    },
    update(updates, state, params, ...rest) {
      const extra = rest[0];
      const states = state as OptState[];
      if (!Array.isArray(states) || states.length !== links.length) {
        tree.dispose(updates);
        tree.dispose(state);
        tree.dispose(params);
        throw new Error(`chain: expected a state array of ${links.length} link states`);
      }
      const newStates: OptState[] = [];
      let u = updates;
      for (let i = 0; i < links.length; i++) {
        const last = i === links.length - 1;
        const p = params === undefined || last ? params : tree.ref(params);
        const link = links[i]!;
        const [nextU, s] = (link.update as LooseUpdate).call(link, u, states[i]!, p, extra);
        u = nextU as typeof updates;
        newStates.push(s);
      }
      if (links.length === 0) tree.dispose(params);
      return [u, newStates];
    },
  };
}

/**
 * `params + updates`, leafwise (updates are cast to the parameter's dtype if they differ).
 * Consumes both trees; returns the new parameters.
 */
export function applyUpdates<P extends ArrayTree>(params: P, updates: P): P {
  return tree.map(
    (p: JaxArray, u: JaxArray) => p.add(u.dtype === p.dtype ? u : u.astype(p.dtype)),
    params,
    updates,
  ) as P;
}

type ApplyFn = (params: ArrayTree, updates: ArrayTree) => ArrayTree;
let applyCompiled: ApplyFn | null = null;

/**
 * {@link applyUpdates} as one compiled call, for eager training loops: one launch instead of a
 * kernel per leaf, same arithmetic. Consumes both trees; not for use inside `jit`.
 */
export function applyUpdatesCompiled<P extends ArrayTree>(params: P, updates: P): P {
  applyCompiled ??= jit(applyUpdates) as unknown as ApplyFn;
  return applyCompiled(params, updates) as P;
}

/**
 * Borrowing forms of the link contract, for host-side training loops (which then never take
 * references themselves): {@link initBorrowed}, {@link updateBorrowed}, {@link applyBorrowed}.
 * Same arithmetic as the consuming calls.
 */

/** `transform.init(params)` without consuming `params`. */
export function initBorrowed<E>(transform: GradientTransformation<E>, params: ArrayTree): OptState {
  return transform.init(tree.ref(params));
}

/**
 * `transform.update(updates, state, params, extra)` without consuming `updates`, `state` or
 * `params`: returns the new updates and the new state, both owned by the caller.
 */
export function updateBorrowed<E, U extends ArrayTree>(
  transform: GradientTransformation<E>,
  updates: U,
  state: OptState,
  params: U,
  ...extra: ExtraArg<E>
): [U, OptState] {
  return transform.update(tree.ref(updates), tree.ref(state), tree.ref(params), ...extra);
}

/** {@link applyUpdatesCompiled} without consuming either tree: a new parameter tree. */
export function applyBorrowed<P extends ArrayTree>(params: P, updates: ArrayTree): P {
  return applyUpdatesCompiled(tree.ref(params), tree.ref(updates) as P);
}

/**
 * The first value stored under `key` in a (chain) state, searched depth-first in link order, or
 * `undefined`. **Borrowed**: no reference is taken; `.ref`/`tree.ref` what you keep beyond the
 * next `update` (which consumes the state). Typical keys: `"trace"` (momentum buffer of
 * {@link trace}), `"mu"`/`"nu"`/`"count"` (moments of `scaleByAdam`).
 */
export function findState(state: OptState, key: string): OptState | undefined {
  if (state === null || typeof state !== "object" || isArrayLeaf(state)) return undefined;
  if (Array.isArray(state)) {
    for (const s of state) {
      const found = findState(s, key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const obj = state as { [k: string]: OptState };
  if (Object.hasOwn(obj, key)) return obj[key];
  for (const s of Object.values(obj)) {
    const found = findState(s, key);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Whether a state node is an array leaf rather than a container. */
function isArrayLeaf(x: object): boolean {
  return "shape" in x && "dispose" in x;
}
