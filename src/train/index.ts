/** The training loop and its telemetry. */
export * from "./train.js";
