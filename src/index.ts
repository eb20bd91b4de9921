/**
 * softmax-ghosts — public entry point.
 *
 * Re-exports the closed-form theory API (also available as `softmax-ghosts/theory`).
 * Later modules (engine, probe, controllers, experiments) add their exports below.
 */
export * from "./theory/index.js";
