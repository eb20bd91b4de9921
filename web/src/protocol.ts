/**
 * Messages between the page and its training worker (`worker.ts`). Plain structured-clone
 * data only; the worker owns every jax-js array.
 */
import type { StepRecord } from "../../src/train/index.js";

/** The models the page trains on digits. */
export type WebModel = "mlp" | "transformer";
/** The optimizers the page offers. */
export type WebOptimizer = "sgd" | "momentum" | "adam";
/** The step-size controller of a run. */
export type WebController =
  | { name: "none" }
  | { name: "rho-clip"; rMax: number }
  | { name: "rho-set"; rTarget: number };

/** One training run. */
export interface RunConfig {
  model: WebModel;
  optimizer: WebOptimizer;
  learningRate: number;
  controller: WebController;
  steps: number;
  batchSize: number;
  seed: number;
  /** Evaluate on the test split every this many steps. */
  evalEvery: number;
  /** A spike scheduled in advance: ×multiplier from step `at` on (or only at `at`). */
  spike?: { multiplier: number; at: number; once: boolean };
  /**
   * Accept spikes injected while training (the training tab). Such runs build the chain
   * link by link with a host-side learning-rate schedule; others use the library's
   * declarative specs, whose device links are compiled into one function (faster).
   */
  live?: boolean;
  /** Engine device: Wasm (default) or WebGPU where the browser offers an adapter. */
  device?: "wasm" | "webgpu";
}

/** Where a digit's direction comes from, for the ghost plane. */
export type DirectionKind = "gradient" | "adam" | "random";

/** Page → worker. */
export type ToWorker =
  | { type: "train"; config: RunConfig; digitsUrl: string }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "spike"; multiplier: number; once: boolean }
  | { type: "sample"; digitsUrl: string; index: number; direction: DirectionKind; seed: number };

/** The telemetry of a step, as the page plots it. */
export type StepMessage = Pick<
  StepRecord,
  "step" | "loss" | "testAccuracy" | "tau" | "rhoA" | "r" | "skipped" | "effectiveLearningRate"
>;

/** A digit, its logits and its slopes along a unit direction of the trained MLP. */
export interface SampleResult {
  index: number;
  label: number;
  pixels: number[];
  logits: number[];
  slopes: number[];
  direction: DirectionKind;
  testAccuracy: number;
}

/** Worker → page. */
export type FromWorker =
  | { type: "started"; device: string; trainSize: number; testSize: number }
  | { type: "steps"; records: StepMessage[]; stepsPerSecond: number }
  | {
      type: "done";
      finalTestAccuracy: number;
      skippedSteps: number;
      /** Over the last steps (compiled, steady). */
      stepsPerSecond: number;
      /** Over the whole run, start-up and compilation included. */
      overallStepsPerSecond: number;
    }
  | { type: "sample"; result: SampleResult }
  | { type: "progress"; message: string }
  | { type: "error"; message: string };
