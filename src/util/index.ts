/** Small shared utilities: the seeded random streams every experiment draws from, and loop-based min/max. */
export * from "./extent.js";
export * from "./random.js";
