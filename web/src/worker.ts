/**
 * The training worker: runs the library's `train()` on the embedded digits so the page stays
 * responsive. One worker per run; the page resets a run by terminating its worker.
 *
 * Live control goes through `train()`'s awaitable `onStep`: after every step the worker yields
 * to its event loop (reading pause, resume and spike messages) and, while paused, waits.
 * A spike multiplies the learning rate through a host-side schedule the chain reads each step.
 */
import type { Split } from "../../src/data/index.js";
import { initEngine } from "../../src/engine/index.js";
import { buildModel } from "../../src/models/index.js";
import {
  adamDirection,
  type ControllerSpec,
  chain,
  type GradientTransformation,
  type OptimizerSpec,
  rhoClip,
  rhoSet,
  type Schedule,
  scaleByLearningRate,
  sgdDirection,
} from "../../src/optim/index.js";
import { sampleStepSlopes } from "../../src/probe/index.js";
import { type StepRecord, type TrainResult, train } from "../../src/train/index.js";
import { loadDigitsSplit } from "./digits.js";
import type { FromWorker, RunConfig, SampleResult, StepMessage, ToWorker } from "./protocol.js";

/** The worker's global scope, typed without the WebWorker lib (the page's tsconfig has DOM). */
const scope = globalThis as unknown as {
  postMessage(message: FromWorker): void;
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
};
/** Steps the reported speed is measured over. */
const SPEED_WINDOW = 20;
const post = (m: FromWorker): void => scope.postMessage(m);

let paused = false;
let resumeWaiter: (() => void) | null = null;
/** Learning-rate multiplier from a live spike, and whether it lasts one step only. */
let liveSpike: { multiplier: number; once: boolean; from: number } | null = null;
let currentStep = 0;

/** Yields one macrotask (so queued messages are handled) without timer clamping. */
function yieldToEvents(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

let splitPromise: Promise<Split> | null = null;
function digits(url: string): Promise<Split> {
  splitPromise ??= loadDigitsSplit(url);
  return splitPromise;
}

/** The learning rate at a step: the base rate, a scheduled spike, and a live spike. */
function learningRateSchedule(config: RunConfig): Schedule {
  return (step: number) => {
    let lr = config.learningRate;
    const s = config.spike;
    if (s && (s.once ? step === s.at : step >= s.at)) lr *= s.multiplier;
    const live = liveSpike;
    if (live && (live.once ? step === live.from : step >= live.from)) lr *= live.multiplier;
    return lr;
  };
}

/** The declarative optimizer and controller specs of a run without live spikes. */
function optimizerSpecs(config: RunConfig): {
  optimizer: OptimizerSpec;
  controller: ControllerSpec;
} {
  const c = config.controller;
  return {
    optimizer: { name: config.optimizer, learningRate: config.learningRate, spike: config.spike },
    controller:
      c.name === "rho-clip"
        ? { name: "rho-clip", rMax: c.rMax }
        : c.name === "rho-set"
          ? { name: "rho-set", rTarget: c.rTarget }
          : { name: "none" },
  };
}

function optimizerChain(config: RunConfig): GradientTransformation {
  const direction =
    config.optimizer === "adam"
      ? adamDirection()
      : sgdDirection(config.optimizer === "momentum" ? { momentum: 0.9 } : {});
  const c = config.controller;
  if (c.name === "rho-set") return chain(direction, rhoSet({ rTarget: c.rTarget }));
  const withLr = chain(direction, scaleByLearningRate(learningRateSchedule(config)));
  return c.name === "rho-clip" ? chain(withLr, rhoClip({ rMax: c.rMax })) : withLr;
}

function toMessage(r: StepRecord): StepMessage {
  return {
    step: r.step,
    loss: r.loss,
    testAccuracy: r.testAccuracy,
    tau: r.tau,
    rhoA: r.rhoA,
    r: r.r,
    skipped: r.skipped,
    effectiveLearningRate: r.effectiveLearningRate,
  };
}

async function runTraining(config: RunConfig, digitsUrl: string): Promise<void> {
  const split = await digits(digitsUrl);
  let device = "wasm";
  if (config.device === "webgpu") {
    try {
      await initEngine("webgpu");
      device = "webgpu";
    } catch (e) {
      post({
        type: "progress",
        message: `WebGPU unavailable (${(e as Error).message}); using Wasm`,
      });
    }
  }
  post({ type: "started", device, trainSize: split.train.n, testSize: split.test.n });
  const model = buildModel(config.model, { inputDim: split.train.d, numClasses: 10 });
  let pending: StepMessage[] = [];
  let lastFlush = performance.now();
  const t0 = performance.now();
  // Steps per second over the last SPEED_WINDOW steps: the steady rate, once compiled.
  const stamps: number[] = [t0];
  const recentSpeed = () => (1000 * (stamps.length - 1)) / (stamps[stamps.length - 1] - stamps[0]);
  const result = await train({
    model,
    data: split,
    ...(config.live ? { optimizer: optimizerChain(config) } : optimizerSpecs(config)),
    steps: config.steps,
    batchSize: config.batchSize,
    evalEvery: config.evalEvery,
    seed: config.seed,
    onStep: async (record) => {
      currentStep = record.step + 1;
      pending.push(toMessage(record));
      const now = performance.now();
      stamps.push(now);
      if (stamps.length > SPEED_WINDOW + 1) stamps.shift();
      if (now - lastFlush > 100 || record.step === config.steps - 1) {
        post({ type: "steps", records: pending, stepsPerSecond: recentSpeed() });
        pending = [];
        lastFlush = now;
      }
      await yieldToEvents();
      while (paused) {
        await new Promise<void>((resolve) => {
          resumeWaiter = resolve;
        });
      }
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  result.release();
  post({
    type: "done",
    finalTestAccuracy: result.finalTestAccuracy,
    skippedSteps: result.skippedSteps,
    stepsPerSecond: recentSpeed(),
    overallStepsPerSecond: config.steps / seconds,
  });
}

/**
 * The ghost plane's model: an MLP trained once per worker with Adam. The training result is
 * kept whole (it owns the trained params and state) for as long as the worker samples from
 * it, so it is never released: the worker ends with the page or with a reset.
 */
let trained: Promise<{ result: TrainResult; split: Split }> | null = null;
const planeModel = buildModel("mlp", { inputDim: 64, numClasses: 10 });

function trainedModel(url: string) {
  trained ??= (async () => {
    const split = await digits(url);
    post({ type: "progress", message: "training the MLP (300 Adam steps)…" });
    const result = await train({
      model: planeModel,
      data: split,
      optimizer: { name: "adam", learningRate: 3e-3 },
      steps: 300,
      batchSize: 64,
      evalEvery: 0,
      probe: { every: 0 },
    });
    return { result, split };
  })();
  return trained;
}

async function sample(
  url: string,
  index: number,
  kind: SampleResult["direction"],
  seed: number,
): Promise<SampleResult> {
  const { result, split } = await trainedModel(url);
  const test = split.test;
  const i = Math.max(0, Math.min(test.n - 1, Math.floor(index)));
  const pixels = Array.from(test.x.subarray(i * test.d, (i + 1) * test.d));
  // The direction a training step would take from here (the training-split gradient as SGD
  // or as Adam's first step) or a seeded random one; unit length, descending.
  const probe = sampleStepSlopes(planeModel, result.params, result.state, pixels, {
    direction: kind === "gradient" ? "sgd" : kind,
    gradientSet: split.train,
    seed,
  });
  return {
    index: i,
    label: test.y[i],
    pixels,
    logits: Array.from(probe.logits),
    slopes: Array.from(probe.slopes),
    direction: kind,
    testAccuracy: result.finalTestAccuracy,
  };
}

scope.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  const fail = (e: unknown) => post({ type: "error", message: (e as Error).message ?? String(e) });
  switch (m.type) {
    case "train":
      runTraining(m.config, m.digitsUrl).catch(fail);
      break;
    case "pause":
      paused = true;
      break;
    case "resume":
      paused = false;
      resumeWaiter?.();
      resumeWaiter = null;
      break;
    case "spike":
      liveSpike = { multiplier: m.multiplier, once: m.once, from: currentStep };
      break;
    case "sample":
      sample(m.digitsUrl, m.index, m.direction, m.seed)
        .then((result) => post({ type: "sample", result }))
        .catch(fail);
      break;
  }
};
