/**
 * A chain whose device-only prefix runs as one compiled function.
 *
 * Eagerly, every op of an optimizer link is a separate kernel launch plus JavaScript graph
 * building (Adam on a small MLP: ~40 launches and several ms per step). Links that only do
 * array arithmetic — the optimizer direction, weight decay, schedules with device twins,
 * gradient clipping — compile into one `jit`. Links that need the host (the ρ-controllers
 * read a radius; Armijo and Polyak read losses) stay eager after it. The compiled prefix also
 * returns ‖u‖², handed to the host links as `extra.updateNorm`, so they need not recompute
 * it op by op. Without host links the caller gets the final length through
 * `extra.onUpdateNorm(norm)` when given.
 */
import {
  type Array as JaxArray,
  type JsTree,
  jit,
  numpy as np,
  type OwnedFunction,
  tree,
} from "@jax-js/jax";
import { treeLeaves } from "../engine/tree.js";
import type { ArrayTree, GradientTransformation, OptState, UpdateExtra } from "./types.js";

/** A {@link GradientTransformation} holding compiled code: `dispose()` frees it. */
export interface FusedTransformation<E = UpdateExtra> extends GradientTransformation<E> {
  /** Frees the compiled function and its captured constants. */
  dispose(): void;
}

function sumOfSquares(t: ArrayTree): JaxArray {
  let total: JaxArray | null = null;
  for (const leaf of treeLeaves(t)) {
    const sq = leaf.ref.mul(leaf.ref).sum();
    total = total === null ? sq : total.add(sq);
  }
  tree.dispose(t);
  return total ?? np.array(0, { dtype: np.float32 });
}

/** A link's `update` seen without its extra type. */
type LooseUpdate = (
  u: ArrayTree,
  s: OptState,
  p?: ArrayTree,
  extra?: unknown,
) => [ArrayTree, OptState];

type Compiled = (u: ArrayTree, s: OptState, p: ArrayTree) => JsTree<JaxArray>;

/**
 * Same behaviour and the same state layout as `chain(prefix, suffix)` (or `chain(prefix)`),
 * with `prefix.update` compiled. `prefix` must be jittable: no host reads, schedules with
 * device twins. Updates without `params` fall back to the eager prefix.
 */
export function jitChain<E extends UpdateExtra = UpdateExtra>(
  prefix: GradientTransformation,
  suffix: GradientTransformation<E> | null = null,
): FusedTransformation<E> {
  let compiled: OwnedFunction<Compiled> | null = jit((u, s, p) => {
    const [next, state] = prefix.update(u, s, p);
    return [next, state, sumOfSquares(tree.ref(next) as ArrayTree)];
  });
  return {
    init(params) {
      if (suffix === null) return [prefix.init(params)];
      return [prefix.init(tree.ref(params)), suffix.init(params)];
    },
    update(updates, state, params, ...rest) {
      const extra = rest[0] as E | undefined;
      const states = state as OptState[];
      let next: ArrayTree;
      let prefixState: OptState;
      let norm: number | undefined;
      if (params === undefined || compiled === null) {
        [next, prefixState] = prefix.update(updates, states[0], params);
      } else {
        const keep = suffix === null ? undefined : tree.ref(params);
        const [u, s, sq] = compiled(updates, states[0], params) as [ArrayTree, OptState, JaxArray];
        next = u;
        prefixState = s;
        norm = Math.sqrt(sq.item());
        if (suffix === null) {
          // The returned update is the prefix's: its length is already known.
          extra?.onUpdateNorm?.(norm);
          return [next as typeof updates, [prefixState]];
        }
        const withNorm = { ...extra, updateNorm: norm } as E;
        const [out, suffixState] = (suffix.update as LooseUpdate).call(
          suffix,
          next,
          states[1]!,
          keep,
          withNorm,
        );
        return [out as typeof updates, [prefixState, suffixState]];
      }
      if (suffix === null) return [next as typeof updates, [prefixState]];
      const [out, suffixState] = (suffix.update as LooseUpdate).call(
        suffix,
        next,
        states[1]!,
        params,
        extra,
      );
      return [out as typeof updates, [prefixState, suffixState]];
    },
    dispose() {
      compiled?.dispose();
      compiled = null;
    },
  };
}
