/**
 * softmax-ghosts — public entry point: the closed-form theory and the training loop.
 *
 * Each layer is also a subpath of its own (`softmax-ghosts/theory`, `/data`, `/engine`,
 * `/models`, `/optim`, `/probe`, `/train`); import from there for the rest of the API
 * (optimizer links, models, probes), which keeps names such as `ArrayTree` unambiguous.
 */
export * from "./theory/index.js";
export * from "./train/index.js";
