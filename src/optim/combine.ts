/**
 * Composition: {@link chain}, {@link applyUpdates}, and {@link findState} for reading a link's state
 * out of a chain's state.
 */
import { jit } from "../engine/jax.js";
import * as op from "../engine/ops.js";
import {
  type ArrayTree,
  type ExtraArg,
  type GradientTransformation,
  link,
  type OptState,
  type UpdateExtra,
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

/**
 * Apply the links in order: each link's output updates are the next link's input. The state is the
 * array of the links' states, in order (optax's tuple).
 *
 * `params` is handed to every link and `extra` is forwarded, unchanged and borrowed, to every link — this is the hook for
 * controller links placed last, which receive e.g. a radius callback through `extra`.
 *
 * The chain returns the final updates without applying them, so the step `p` that
 * {@link applyUpdates} will add is always available (and a controller placed last sees exactly it).
 */
export function chain<const L extends readonly GradientTransformation<never>[]>(
  ...links: L
): GradientTransformation<ChainExtra<L>> {
  return link<ChainExtra<L>>({
    init: (params) => links.map((l) => op.initLink(l, params)),
    update(updates, state, params, ...rest) {
      const extra = rest[0];
      const states = state as OptState[];
      if (!Array.isArray(states) || states.length !== links.length) {
        throw new Error(`chain: expected a state array of ${links.length} link states`);
      }
      const newStates: OptState[] = [];
      let u = updates;
      for (let i = 0; i < links.length; i++) {
        const [nextU, s] = op.updateLink(links[i]!, u, states[i]!, params, extra);
        u = nextU;
        newStates.push(s);
      }
      return [u, newStates];
    },
  });
}

/**
 * `params + updates`, leafwise (updates are cast to the parameter's dtype if they differ).
 * Consumes both trees; returns the new parameters.
 */
export function applyUpdates<P extends ArrayTree>(params: P, updates: P): P {
  return op.consuming([params, updates], () =>
    op.map((p, u) => op.add(p, u.dtype === p.dtype ? u : op.astype(u, p.dtype)), params, updates),
  );
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
 * Same arithmetic as the consuming calls. What they return is the caller's, even when called
 * from inside a tidy (a line search's loss callback applies trial steps from a link's tidy).
 */

/** `transform.init(params)` without consuming `params`. */
export function initBorrowed<E>(transform: GradientTransformation<E>, params: ArrayTree): OptState {
  return op.detached(() => op.initLink(transform, params));
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
  return op.detached(() => op.updateLink(transform, updates, state, params, extra[0]));
}

/** {@link applyUpdatesCompiled} without consuming either tree: a new parameter tree. */
export function applyBorrowed<P extends ArrayTree>(params: P, updates: ArrayTree): P {
  return op.detached(() => op.call(applyUpdatesCompiled<P>, params, updates as P));
}

/**
 * The first value stored under `key` in a (chain) state, searched depth-first in link order, or
 * `undefined`. **Borrowed**: no reference is taken; copy out what you keep beyond the next
 * `update` (which consumes the state). Typical keys: `"trace"` (momentum buffer of
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
