/**
 * probeNetwork (the all-radii probe): ρ_attn is π over the largest attention-score spread of
 * ANY sample, block, head and query, ρ_ffn the 1% quantile of |h|/|ḣ| over all of them, and
 * both are expressed for the unit direction although the probe gets an unnormalised one.
 * Checked against the host differences of test/probe/internals.helpers.ts.
 */
import type { Array as JaxArray } from "@jax-js/jax";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toDevice } from "../../src/engine/arrays.js";
import { initEngine } from "../../src/engine/runtime.js";
import {
  disposeTree,
  normTree,
  scaleTree,
  treeSize,
  unflattenFromHost,
} from "../../src/engine/tree.js";
import { buildModel } from "../../src/models/index.js";
import type { Params } from "../../src/models/types.js";
import { directionalLogitDerivatives, quantileOf } from "../../src/probe/directional.js";
import { hasInternals, probeNetwork } from "../../src/probe/network.js";
import { quantile } from "../../src/theory/spread.js";
import { digitsLike, lcg, maxAbsDiff } from "../engine/helpers.js";
import { hostInternals } from "./internals.helpers.js";

const n = 8;
const config = { inputDim: 64, numClasses: 10, dtype: "float64" as const };
const model = buildModel("transformer", config);
let x: JaxArray;
let params: Params;
let state: Params;
let unit: Params;
let p: Params;
const NORM = 3;

beforeAll(async () => {
  await initEngine();
  x = toDevice(digitsLike(n, 64, 21), [n, 64], "float64");
  ({ params, state } = model.init(2));
  const r = lcg(8);
  const raw = unflattenFromHost(
    params,
    Float64Array.from({ length: treeSize(params) }, () => 2 * r() - 1),
  );
  unit = scaleTree(raw, 1 / normTree(raw));
  p = scaleTree(unit, NORM);
  disposeTree(raw);
});

afterAll(() => {
  x.dispose();
  for (const t of [params, state, unit, p]) disposeTree(t);
});

describe("probeNetwork", () => {
  it("ρ_attn = π / max spread over every sample, block, head and query (unit direction)", () => {
    const host = hostInternals(model, params, unit, x, n);
    const largest = Math.max(...host.spread);
    const probe = probeNetwork(model, params, state, p, NORM, x);
    expect(Math.abs(probe.rhoAttention / (Math.PI / largest) - 1)).toBeLessThan(1e-6);
    // the per-sample maxima differ, so a maximum over part of the set would be larger
    expect(Math.min(...host.spread)).toBeLessThan(largest * 0.999);
  });

  it("does not depend on where in the batch the widest sample sits", () => {
    const host = hostInternals(model, params, unit, x, n);
    const widest = host.spread.indexOf(Math.max(...host.spread));
    // move the widest sample to the front and to the back
    const rows = digitsLike(n, 64, 21);
    const order = (first: boolean) => {
      const idx = Array.from({ length: n }, (_, i) => i).filter((i) => i !== widest);
      return first ? [widest, ...idx] : [...idx, widest];
    };
    const want = Math.PI / host.spread[widest]!;
    for (const first of [true, false]) {
      const permuted = Float64Array.from(
        order(first).flatMap((i) => Array.from(rows.subarray(i * 64, i * 64 + 64))),
      );
      const xp = toDevice(permuted, [n, 64], "float64");
      const probe = probeNetwork(model, params, state, p, NORM, xp);
      expect(Math.abs(probe.rhoAttention / want - 1), `widest first: ${first}`).toBeLessThan(1e-6);
      xp.dispose();
    }
  });

  it("ρ_ffn is the 1% quantile of |h|/|ḣ| and the output slopes are per unit length", () => {
    const host = hostInternals(model, params, unit, x, n);
    const probe = probeNetwork(model, params, state, p, NORM, x);
    const q = quantileOf(Float64Array.from(host.ratios), 0.01);
    expect(Math.abs(probe.rhoFfn / q - 1)).toBeLessThan(1e-5);
    const ref = directionalLogitDerivatives(model, params, state, unit, x);
    expect(maxAbsDiff(probe.output.a, ref.a)).toBeLessThan(1e-12);
    expect(maxAbsDiff(probe.output.logits, ref.logits)).toBe(0);
    expect([probe.output.n, probe.output.k]).toEqual([n, 10]);
    const half = probeNetwork(model, params, state, p, NORM, x, { ffnQuantile: 0.5 });
    expect(
      Math.abs(half.rhoFfn / quantileOf(Float64Array.from(host.ratios), 0.5) - 1),
    ).toBeLessThan(1e-5);
  });

  it("ffnQuantileMethod 'linear' interpolates the quantile of the host ratios (the reference's ρ_ffn)", () => {
    const host = hostInternals(model, params, unit, x, n);
    const linear = probeNetwork(model, params, state, p, NORM, x, {
      ffnQuantileMethod: "linear",
    });
    const want = quantile(
      Float64Array.from(host.ratios, (v) => (Number.isNaN(v) ? Infinity : v)),
      0.01,
    );
    expect(Math.abs(linear.rhoFfn / want - 1)).toBeLessThan(1e-5);
    expect(() =>
      probeNetwork(model, params, state, p, NORM, x, {
        ffnQuantileMethod: "nearest" as "linear",
      }),
    ).toThrow(/ffnQuantileMethod/);
  });

  it("only the transformer exposes internals", () => {
    expect(hasInternals(model)).toBe(true);
    expect(hasInternals(buildModel("mlp", config))).toBe(false);
  });
});
