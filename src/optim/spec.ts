/**
 * Declarative optimizer and controller specs: plain JSON-able objects that the CLI, the
 * experiment grids and the training loop share, turned into chains by {@link buildOptimizer}.
 * Keeping them declarative is what lets an experiment be "a grid of specs" rather than code,
 * and lets a run's configuration be written next to its results.
 */
import { adamDirection, adamwDirection, sgdDirection } from "./alias.js";
import { chain } from "./combine.js";
import type { GradientControllerExtra } from "./controllers.js";
import { allRadii, rhoClip, rhoClipGrad, rhoSet } from "./controllers.js";
import { constantSchedule, type Schedule, spikeSchedule } from "./schedules.js";
import { clipByGlobalNorm, scaleByLearningRate } from "./transforms.js";
import type { GradientTransformation } from "./types.js";

/** A learning-rate spike: multiply the rate by `multiplier` from step `at` on (or only at `at`). */
export interface SpikeSpec {
  multiplier: number;
  at: number;
  once?: boolean;
}

/** The base optimizer. */
export interface OptimizerSpec {
  /** `sgd`, `momentum` (heavy ball), `nesterov`, `adam` or `adamw`. */
  name: "sgd" | "momentum" | "nesterov" | "adam" | "adamw";
  /** Base learning rate (ignored by the ρ-set controller, which sets its own). */
  learningRate: number;
  /** Momentum coefficient for `momentum`/`nesterov` (default 0.9). */
  momentum?: number;
  /**
   * Weight decay: decoupled for `adamw` (default 1e-4); for `sgd`/`momentum`/`nesterov` the
   * coupled L2 of PyTorch's `SGD` (added to the gradient before momentum, default 0); not
   * used by `adam`.
   */
  weightDecay?: number;
  /** Adam's β₁, β₂, ε (defaults 0.9, 0.999, 1e-8). */
  b1?: number;
  b2?: number;
  eps?: number;
  /** Optional learning-rate spike. */
  spike?: SpikeSpec;
}

/**
 * What sits around the optimizer: nothing, gradient clipping, or a ρ-controller. In set mode
 * (`rho-set`, `all-radii` set) with `adamw`, the radius is measured along Adam's direction
 * alone and the decay is applied with the controller's rate: `θ ← θ − η·(m̂/(√v̂+ε) + wd·θ)`,
 * PyTorch's AdamW whose learning rate is set every step.
 */
export type ControllerSpec =
  | { name: "none" }
  | { name: "grad-clip"; maxNorm?: number }
  | { name: "rho-clip"; rMax?: number }
  /** The published reference's ρ-clip: radius along −g/‖g‖ against lr·‖g‖ (see `rhoClipGrad`). */
  | { name: "rho-clip-grad"; rMax?: number }
  | { name: "rho-set"; rTarget: number; maxLearningRate?: number }
  | {
      name: "all-radii";
      mode: "set" | "clip";
      rTarget?: number;
      rMax?: number;
      /** `"all"` (default) or `"output-attention"`: min(ρ_out, ρ_attn), the reference's attn-out. */
      radii?: "all" | "output-attention";
    };

/** A built optimizer: the chain plus the base learning rate per step (for telemetry). */
export interface BuiltOptimizer {
  /** The whole chain: `chain(prefix, suffix)`, or `prefix` alone (needs the radius when `needsRadius`). */
  transform: GradientTransformation<GradientControllerExtra>;
  /** The device-only links (optimizer direction, clipping, learning rate): jittable. */
  prefix: GradientTransformation;
  /** The host-side controller link placed last, if any. */
  suffix: GradientTransformation<GradientControllerExtra> | null;
  /** Base learning rate the chain uses at a step (NaN for ρ-set, which has none). */
  learningRateAt: (step: number) => number;
  /** Whether the chain asks the training loop for a radius every step. */
  needsRadius: boolean;
  /** One-line description, e.g. "adam(lr=0.001) + rho-clip(rMax=1)". */
  label: string;
}

function direction(spec: OptimizerSpec): GradientTransformation {
  const adamOpts = { b1: spec.b1, b2: spec.b2, eps: spec.eps };
  switch (spec.name) {
    case "sgd":
      return sgdDirection({ weightDecay: spec.weightDecay ?? 0 });
    case "momentum":
      return sgdDirection({ momentum: spec.momentum ?? 0.9, weightDecay: spec.weightDecay ?? 0 });
    case "nesterov":
      return sgdDirection({
        momentum: spec.momentum ?? 0.9,
        nesterov: true,
        weightDecay: spec.weightDecay ?? 0,
      });
    case "adam":
      return adamDirection(adamOpts);
    case "adamw":
      return adamwDirection({ ...adamOpts, weightDecay: spec.weightDecay ?? 1e-4 });
    default:
      throw new RangeError(`unknown optimizer '${(spec as { name: string }).name}'`);
  }
}

function schedule(spec: OptimizerSpec): Schedule {
  if (!(spec.learningRate > 0) || !Number.isFinite(spec.learningRate)) {
    throw new RangeError(`learning rate must be a positive number, got ${spec.learningRate}`);
  }
  if (!spec.spike) return constantSchedule(spec.learningRate);
  const { multiplier, at, once } = spec.spike;
  if (!(multiplier > 0))
    throw new RangeError(`spike multiplier must be positive, got ${multiplier}`);
  return spikeSchedule({ base: spec.learningRate, multiplier, at, once });
}

function describe(spec: OptimizerSpec, controller: ControllerSpec): string {
  const spike = spec.spike
    ? `, spike ×${spec.spike.multiplier} ${spec.spike.once ? "at" : "from"} step ${spec.spike.at}`
    : "";
  const coupled = spec.name !== "adam" && spec.name !== "adamw" && (spec.weightDecay ?? 0) > 0;
  const wd = coupled ? `, wd=${spec.weightDecay}` : "";
  const base = `${spec.name}(lr=${spec.learningRate}${wd}${spike})`;
  switch (controller.name) {
    case "none":
      return base;
    case "grad-clip":
      return `${base} + grad-clip(${controller.maxNorm ?? 1})`;
    case "rho-clip":
      return `${base} + rho-clip(rMax=${controller.rMax ?? 1})`;
    case "rho-clip-grad":
      return `${base} + rho-clip-grad(rMax=${controller.rMax ?? 1})`;
    case "rho-set":
      return `${spec.name} direction + rho-set(r=${controller.rTarget})`;
    case "all-radii": {
      const name = controller.radii === "output-attention" ? "output-attention radii" : "all-radii";
      return controller.mode === "set"
        ? `${spec.name} direction + ${name} set(r=${controller.rTarget})`
        : `${base} + ${name} clip(rMax=${controller.rMax ?? 1})`;
    }
  }
}

/** Turns an optimizer spec and a controller spec into a chain. */
export function buildOptimizer(
  spec: OptimizerSpec,
  controller: ControllerSpec = { name: "none" },
): BuiltOptimizer {
  const label = describe(spec, controller);
  const dir = direction(spec);
  const built = (
    prefix: GradientTransformation,
    suffix: GradientTransformation<GradientControllerExtra> | null,
    learningRateAt: (step: number) => number,
  ): BuiltOptimizer => ({
    transform: suffix === null ? prefix : chain(prefix, suffix),
    prefix,
    suffix,
    learningRateAt,
    needsRadius: suffix !== null,
    label,
  });
  const setMode =
    controller.name === "rho-set" || (controller.name === "all-radii" && controller.mode === "set");
  if (setMode) {
    // AdamW under a controller: the decay follows the chosen rate, outside the probed direction
    const decay = spec.name === "adamw" ? { weightDecay: spec.weightDecay ?? 1e-4 } : {};
    const setDir = spec.name === "adamw" ? direction({ ...spec, name: "adam" }) : dir;
    const link =
      controller.name === "rho-set"
        ? rhoSet({
            rTarget: controller.rTarget,
            maxLearningRate: controller.maxLearningRate,
            ...decay,
          })
        : allRadii({
            mode: "set",
            rTarget: controller.rTarget,
            ...(controller.radii === undefined ? {} : { radii: controller.radii }),
            ...decay,
          });
    return built(setDir, link, () => Number.NaN);
  }
  const lr = schedule(spec);
  const withLr = chain(dir, scaleByLearningRate(lr));
  switch (controller.name) {
    case "none":
      return built(withLr, null, lr);
    case "grad-clip":
      return built(chain(clipByGlobalNorm(controller.maxNorm ?? 1), withLr), null, lr);
    case "rho-clip":
      return built(withLr, rhoClip({ rMax: controller.rMax }), lr);
    case "rho-clip-grad":
      return built(withLr, rhoClipGrad({ rMax: controller.rMax }), lr);
    case "all-radii":
      return built(
        withLr,
        allRadii({
          mode: "clip",
          rMax: controller.rMax,
          ...(controller.radii === undefined ? {} : { radii: controller.radii }),
        }),
        lr,
      );
    default:
      throw new RangeError(`unknown controller '${(controller as { name: string }).name}'`);
  }
}
