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
import type { DeviceArray as JaxArray } from "../engine/arrays.js";
import type { JsTree } from "../engine/jax.js";
import * as op from "../engine/ops.js";
import { CompiledFunction } from "../engine/scope.js";
import { readScalar, treeLeaves } from "../engine/tree.js";
import {
  type ArrayTree,
  type GradientTransformation,
  link,
  type OptState,
  type UpdateExtra,
} from "./types.js";

/** A {@link GradientTransformation} holding compiled code: `close()` frees it. */
export interface FusedTransformation<E = UpdateExtra> extends GradientTransformation<E> {
  /**
   * Frees the compiled function and its captured constants. The chain stays usable: later
   * updates run the prefix op by op (same numbers).
   */
  close(): void;
}

function sumOfSquares(t: ArrayTree): JaxArray {
  let total: JaxArray | null = null;
  for (const leaf of treeLeaves(t)) {
    const sq = op.sum(op.mul(leaf, leaf));
    total = total === null ? sq : op.add(total, sq);
  }
  return total ?? op.scalar(0, op.dtypes.float32);
}

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
  const compiled = new CompiledFunction<Compiled>((u, s, p) =>
    op.consuming([u, s, p], () => {
      const [next, state] = op.updateLink(prefix, u, s, p);
      return [next, state, sumOfSquares(next)];
    }),
  );
  const fused = link<E>({
    init(params) {
      if (suffix === null) return [op.initLink(prefix, params)];
      return [op.initLink(prefix, params), op.initLink(suffix, params)];
    },
    update(updates, state, params, ...rest) {
      const extra = rest[0] as E | undefined;
      const states = state as OptState[];
      const fn = compiled.fn;
      if (params === undefined || fn === null) {
        const [next, prefixState] = op.updateLink(prefix, updates, states[0]!, params);
        if (suffix === null) return [next, [prefixState]];
        const [out, suffixState] = op.updateLink(suffix, next, states[1]!, params, extra);
        return [out, [prefixState, suffixState]];
      }
      const [next, prefixState, sq] = op.call(fn, updates, states[0]!, params) as [
        typeof updates,
        OptState,
        JaxArray,
      ];
      const norm = Math.sqrt(readScalar(sq));
      if (suffix === null) {
        // The returned update is the prefix's: its length is already known.
        extra?.onUpdateNorm?.(norm);
        return [next, [prefixState]];
      }
      const withNorm = { ...extra, updateNorm: norm } as E;
      const [out, suffixState] = op.updateLink(suffix, next, states[1]!, params, withNorm);
      return [out, [prefixState, suffixState]];
    },
  });
  return { ...fused, close: () => compiled.close() };
}
