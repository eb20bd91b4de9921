/**
 * From a paper's claim to a verdict, by one rule for every experiment. A claim is split into
 * parts; each part checks the summary and says what was measured. The verdict is
 *
 * - "yes" when every measured part holds;
 * - "partly" when every essential part holds and so do more than half of all parts;
 * - "no" otherwise;
 * - "n/a" when no part could be measured (e.g. the grid point was not run).
 *
 * @module
 */
import type { Verdict } from "./types.js";

/** What one part of a claim found. */
export type ClaimCheck = {
  holds: boolean;
  /** What was measured, for the sentence: "plain Adam at 1e-3 ends at 10.3%". */
  measured: string;
};

/** One part of a published claim. */
export type Claim<S> = {
  /** The part of the claim, as published: "plain Adam at 1e-3 drops to ≤ ~50%". */
  says: string;
  /** Without it the verdict cannot be "partly" (the heart of the claim). */
  essential: boolean;
  /** The check on the summary; `null` when the summary cannot answer it. */
  check: (summary: S) => ClaimCheck | null;
};

/** One part of a claim (see {@link Claim}). */
export function claim<S>(
  says: string,
  check: (summary: S) => ClaimCheck | null,
  opts: { essential?: boolean } = {},
): Claim<S> {
  return { says, check, essential: opts.essential ?? false };
}

/** The verdict of `claims` on `summary` (the rule in the module notes). */
export function verdictOf<S>(claims: readonly Claim<S>[], summary: S): Verdict {
  const checked = claims
    .map((c) => ({ claim: c, result: c.check(summary) }))
    .filter((c): c is { claim: Claim<S>; result: ClaimCheck } => c.result !== null);
  if (checked.length === 0) {
    return { reproduced: "n/a", sentence: "No part of the claim was measured by this run." };
  }
  const failed = checked.filter((c) => !c.result.holds);
  const essentialsHold = checked.every((c) => !c.claim.essential || c.result.holds);
  const reproduced: Verdict["reproduced"] =
    failed.length === 0
      ? "yes"
      : essentialsHold && 2 * (checked.length - failed.length) > checked.length
        ? "partly"
        : "no";
  const measured = checked.map((c) => c.result.measured).join("; ");
  const tail =
    failed.length === 0
      ? " — every part of the claim holds."
      : ` — not as claimed: ${failed.map((c) => c.claim.says).join("; ")}.`;
  const sentence = measured + tail;
  return { reproduced, sentence: sentence.charAt(0).toUpperCase() + sentence.slice(1) };
}
