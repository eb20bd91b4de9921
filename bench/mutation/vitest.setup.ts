/**
 * Setup of the mutation runs: a failing property stops at its first counterexample. Shrinking
 * it would only cost time; Stryker needs "killed", not the smallest witness.
 */
import fc from "fast-check";

fc.configureGlobal({ endOnFailure: true });
