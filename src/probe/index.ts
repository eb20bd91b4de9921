/** The probe: directional logit derivatives (JVP or finite differences), set-level radii, directional curvature. */
export * from "./curvature.js";
export * from "./directional.js";
export * from "./network.js";
export * from "./radius.js";
export * from "./radius-callback.js";
export * from "./step-slopes.js";
