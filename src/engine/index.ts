export * from "./arrays.js";
export * from "./compute.js";
export * from "./jax.js";
export * from "./numerics.js";
export * from "./runtime.js";
export * from "./safetensors.js";
export * from "./tree.js";
export * from "./weights.js";
