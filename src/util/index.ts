/** Small shared utilities: the seeded random streams every experiment draws from. */
export * from "./random.js";
