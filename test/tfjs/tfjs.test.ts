/**
 * The tf.js adapter against our engine: the same tanh network built in tf.js and in jax-js
 * with identical weights has the same radii (tf.js: fourth-order finite differences in
 * float32; ours: the exact float64 JVP), and the fit callback and ρ-clip behave.
 */

import type { Array as JaxArray } from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { loadDigits } from "../../src/data/builtin.js";
import { toDevice } from "../../src/engine/arrays.js";
import * as op from "../../src/engine/ops.js";
import { initEngine } from "../../src/engine/runtime.js";
import { disposeTree } from "../../src/engine/tree.js";
import { makeModel, resolveConfig } from "../../src/models/common.js";
import type { Params } from "../../src/models/types.js";
import { directionalLogitDerivatives } from "../../src/probe/directional.js";
import { setRhoStar } from "../../src/probe/radius.js";
import { rTelemetry, TfRadiusProbe, TfRhoClip } from "../../src/tfjs/index.js";
import { rhoASet, spreads } from "../../src/theory/spread.js";
import { Rng } from "../../src/util/random.js";

const N = 128;
const digits = loadDigits();
const X = Float32Array.from(digits.x.subarray(0, N * 64), (v) => v / 16);
const Y = digits.y.subarray(0, N);

beforeAll(async () => {
  await initEngine();
  await tf.setBackend("cpu");
});

/** Float32-representable weights for 64 → 32 (tanh) → 10, seeded. */
function weights(seed: number) {
  const rng = new Rng(seed);
  const u = (n: number, b: number) =>
    Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * b);
  return { w1: u(64 * 32, 0.5), b1: u(32, 0.2), w2: u(32 * 10, 0.8), b2: u(10, 0.2) };
}

function tfNet(w: ReturnType<typeof weights>, softmax = false): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [64], units: 32, activation: "tanh" }),
      tf.layers.dense({ units: 10, activation: softmax ? "softmax" : "linear" }),
    ],
  });
  model.setWeights([
    tf.tensor2d(w.w1, [64, 32]),
    tf.tensor1d(w.b1),
    tf.tensor2d(w.w2, [32, 10]),
    tf.tensor1d(w.b2),
  ]);
  return model;
}

/** The same network on our engine, in float64. */
const ours = makeModel(
  "tanh-64-32-10",
  resolveConfig({ inputDim: 64, numClasses: 10, dtype: "float64" }),
  () => {
    throw new Error("weights come from the test");
  },
  (params, x) => {
    const p = params as { w1: JaxArray; b1: JaxArray; w2: JaxArray; b2: JaxArray };
    const h = op.tanh(op.add(op.matmul(x, p.w1), p.b1));
    return { logits: op.add(op.matmul(h, p.w2), p.b2) };
  },
);

function toParams(w: ReturnType<typeof weights>): Params {
  return {
    w1: toDevice(w.w1, [64, 32], "float64"),
    b1: toDevice(w.b1, [32], "float64"),
    w2: toDevice(w.w2, [32, 10], "float64"),
    b2: toDevice(w.b2, [10], "float64"),
  };
}

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe("TfRadiusProbe agrees with the engine's exact JVP", () => {
  for (const softmax of [false, true]) {
    it(`same network, same weights, 5 random directions (${softmax ? "softmax output" : "logit output"})`, () => {
      const w = weights(1);
      const model = tfNet(w, softmax);
      const x = tf.tensor2d(X, [N, 64]);
      const probe = new TfRadiusProbe(model, x, { sampleSet: "train", exact: true });
      const params = toParams(w);
      const xs = toDevice(X, [N, 64], "float64");
      let worstRho = 0;
      let worstStar = 0;
      for (let d = 0; d < 5; d++) {
        const rng = new Rng(100 + d);
        const dir = weights(200 + d);
        for (const v of Object.values(dir)) for (let i = 0; i < v.length; i++) v[i] = rng.normal();
        const tfReport = probe.radius([
          tf.tensor2d(dir.w1, [64, 32]),
          tf.tensor1d(dir.b1),
          tf.tensor2d(dir.w2, [32, 10]),
          tf.tensor1d(dir.b2),
        ]);
        const dirParams = toParams(dir);
        const exact = directionalLogitDerivatives(ours, params, {}, dirParams, xs);
        let norm = 0;
        for (const v of Object.values(dir)) for (const e of v) norm += e * e;
        norm = Math.sqrt(norm);
        for (let i = 0; i < exact.a.length; i++) exact.a[i] /= norm;
        const rho = rhoASet({ data: exact.a, n: N, k: 10 });
        const star = setRhoStar(exact, spreads({ data: exact.a, n: N, k: 10 })).rhoStar;
        worstRho = Math.max(worstRho, relDiff(tfReport.rhoA, rho));
        worstStar = Math.max(worstStar, relDiff(tfReport.rhoStar!, star));
        disposeTree(dirParams);
      }
      // The bar is 1e-3; measured ~1e-5 (see the module comment of src/tfjs).
      console.log(
        `tf.js vs engine (${softmax ? "softmax" : "logits"}): max rel. diff ρ_a ${worstRho.toExponential(2)}, ρ* ${worstStar.toExponential(2)}`,
      );
      expect(worstRho).toBeLessThan(1e-3);
      expect(worstStar).toBeLessThan(1e-3);
      disposeTree(params);
      xs.dispose();
      x.dispose();
      // the probe restores the weights exactly
      const after = model.getWeights().map((t) => Array.from(t.dataSync()));
      expect(after[0]).toEqual(Array.from(w.w1));
      expect(after[3]).toEqual(Array.from(w.b2));
      model.dispose();
    });
  }
});

describe("r telemetry and ρ-clip in tf.js", () => {
  const y = () => tf.oneHot(tf.tensor1d(Y, "int32"), 10);

  it("the fit callback measures τ/ρ_a per batch without changing the training", async () => {
    const x = tf.tensor2d(X, [N, 64]);
    const fitOnce = async (withTelemetry: boolean) => {
      const model = tfNet(weights(2));
      model.compile({ optimizer: tf.train.sgd(0.05), loss: "categoricalCrossentropy" });
      const telemetry = rTelemetry(model, x, { sampleSet: "train" });
      await model.fit(x, y(), {
        epochs: 2,
        batchSize: 32,
        shuffle: false,
        verbose: 0,
        callbacks: withTelemetry ? [telemetry.callback] : [],
      });
      const final = model.getWeights().map((t) => Array.from(t.dataSync()));
      model.dispose();
      return { final, history: telemetry.history };
    };
    const plain = await fitOnce(false);
    const measured = await fitOnce(true);
    expect(measured.final).toEqual(plain.final);
    expect(measured.history).toHaveLength(8); // 2 epochs × 4 batches
    for (const rec of measured.history) {
      expect(rec.tau).toBeGreaterThan(0);
      expect(rec.rhoA).toBeGreaterThan(0);
      expect(rec.r).toBeCloseTo(rec.tau / rec.rhoA, 12);
      expect(typeof rec.loss).toBe("number");
    }
    x.dispose();
  });

  it("ρ-clip caps a hand-written Adam loop at r = rMax and applies exactly the clipped update", () => {
    const model = tfNet(weights(3));
    const x = tf.tensor2d(X, [N, 64]);
    const labels = y();
    const optimizer = tf.train.adam(1); // far too large: every step is clipped
    const clip = new TfRhoClip(model, x, { rMax: 0.5, sampleSet: "train" });
    let clipped = 0;
    for (let step = 0; step < 5; step++) {
      const before = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
      const report = clip.step(() =>
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, model.predict(x) as tf.Tensor) as tf.Scalar,
        ),
      );
      const after = model.getWeights().map((t) => Float64Array.from(t.dataSync()));
      let applied = 0;
      for (const [i, a] of after.entries()) {
        for (const [j, v] of a.entries()) applied += (v - before[i]![j]!) ** 2;
      }
      expect(report.r).toBeLessThanOrEqual(0.5 * (1 + 1e-9));
      expect(Math.abs(Math.sqrt(applied) - report.tau) / report.tau).toBeLessThan(1e-4);
      if (report.scale < 1) clipped++;
    }
    expect(clipped).toBeGreaterThan(0);
    x.dispose();
    labels.dispose();
    model.dispose();
  });

  it("rejects a direction of the wrong shape in one line", () => {
    const model = tfNet(weights(4));
    const x = tf.tensor2d(X, [N, 64]);
    const probe = new TfRadiusProbe(model, x);
    expect(() => probe.radius([tf.zeros([64, 32])])).toThrow(
      "direction has 1 tensors but the model has 4 trainable weights",
    );
    expect(() =>
      probe.radius([tf.zeros([64, 32]), tf.zeros([32]), tf.zeros([10, 32]), tf.zeros([10])]),
    ).toThrow(/direction\[2\] has shape \[10, 32\], weight .* has \[32, 10\]/);
    x.dispose();
    model.dispose();
  });
});
