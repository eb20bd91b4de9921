import * as tf from "@tensorflow/tfjs";
import { loadDigits } from "softmax-ghosts/data";
import { rTelemetry, TfRhoClip } from "softmax-ghosts/tfjs";

const digits = loadDigits();
const x = tf.tensor2d(
  Float32Array.from(digits.x, (v) => v / 16),
  [digits.n, 64],
);
const y = tf.oneHot(tf.tensor1d(digits.y, "int32"), 10);
const probeSet = x.slice(0, 256); // the samples ρ_a is measured over
const net = () =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [64], units: 32, activation: "tanh" }),
      tf.layers.dense({ units: 10 }), // logits (a softmax last layer works too)
    ],
  });

// 1. r = τ/ρ_a of every batch of model.fit, as a callback.
const model = net();
model.compile({ optimizer: tf.train.adam(0.01), loss: tf.losses.softmaxCrossEntropy });
const telemetry = rTelemetry(model, probeSet, { sampleSet: "train" });
await model.fit(x, y, { epochs: 1, batchSize: 256, verbose: 0, callbacks: [telemetry.callback] });
const rs = telemetry.history.map((s) => s.r);
console.log(
  `fit: ${rs.length} batches, r from ${Math.min(...rs).toFixed(3)} to ${Math.max(...rs).toFixed(3)}`,
);

// 2. ρ-clip in a hand-written loop with a tf.js optimizer (here a far too large Adam step).
const custom = net();
const optimizer = tf.train.adam(1);
const clip = new TfRhoClip(custom, probeSet, { rMax: 1, sampleSet: "train" });
for (let step = 0; step < 5; step++) {
  const report = clip.step(() =>
    optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(y, custom.predict(x) as tf.Tensor) as tf.Scalar,
    ),
  );
  console.log(
    `step ${step}: proposed ${report.proposedNorm.toFixed(2)}, applied ${report.tau.toFixed(3)}, r ${report.r.toFixed(3)}`,
  );
}
