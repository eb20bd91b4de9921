/**
 * The loss information line-search-like links (Armijo backtracking, Polyak step sizes) read
 * from a chain's `extra`: unlike the ρ-controllers they need the loss at trial points, which
 * only the training loop can compute (it holds the model, the batch and the parameters).
 * The training loop in `src/train/train.ts` passes these keys on every step.
 */
import type { ArrayTree } from "../engine/tree.js";
import type { UpdateExtra } from "./types.js";

/** Per-step loss information in `extra` (all about the current mini-batch). */
export type LossExtra = {
  /** The batch loss f(θ) at the current parameters. */
  loss: number;
  /** ‖∇f(θ)‖ of the batch gradient. */
  gradNorm: number;
  /** f(θ + u) on the same batch; `u` (same tree structure as θ) is BORROWED. */
  lossAt: (u: ArrayTree) => number;
  /** ⟨∇f(θ), u⟩; `u` is BORROWED. */
  gradDot: (u: ArrayTree) => number;
};

/** What a loss-aware link (Armijo, Polyak) reads from `extra`: the loss keys (required). */
export type LossAwareExtra = UpdateExtra & LossExtra;

/**
 * The {@link LossExtra} keys of `extra`, checked at run time as well (for callers from plain
 * JavaScript; typed callers cannot omit them).
 *
 * @throws {Error} naming `who` when the training loop did not pass them.
 */
export function lossExtraFrom(
  extra: (UpdateExtra & Partial<LossExtra>) | undefined,
  who: string,
): LossExtra {
  const e: Partial<LossExtra> = extra ?? {};
  const ok =
    typeof e.loss === "number" &&
    typeof e.gradNorm === "number" &&
    typeof e.lossAt === "function" &&
    typeof e.gradDot === "function";
  if (!ok) {
    throw new Error(
      `${who}: the training loop must pass extra.loss, extra.gradNorm, extra.lossAt and extra.gradDot`,
    );
  }
  return e as LossExtra;
}
