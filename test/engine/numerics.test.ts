import { type Array as JaxArray, jit, jvp, numpy as np, vjp } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { takeToHost, toDevice } from "../../src/engine/arrays.js";
import {
  constLike,
  erf,
  exp,
  log,
  logSoftmax,
  meanOver,
  softmax,
} from "../../src/engine/numerics.js";
import { initEngine } from "../../src/engine/runtime.js";
import { erfReference, maxAbsDiff } from "./helpers.js";

beforeAll(async () => {
  await initEngine();
});

const f64 = (data: ArrayLike<number>) => toDevice(data, [data.length], "float64");

function maxRelErr(got: ArrayLike<number>, want: (i: number) => number): number {
  let m = 0;
  for (let i = 0; i < got.length; i++) {
    const w = want(i);
    m = Math.max(m, Math.abs(got[i]! - w) / Math.abs(w));
  }
  return m;
}

describe("float64 transcendentals (jax-js's own are float32-accurate on wasm)", () => {
  const xs = Float64Array.from({ length: 400 }, (_, i) => -700 + i * 3.52 + 0.123);

  it("exp: relative error below 1e-12 over the float64 range, also under jit", () => {
    expect(maxRelErr(takeToHost(exp(f64(xs))), (i) => Math.exp(xs[i]!))).toBeLessThan(1e-12);
    const j = jit(exp);
    expect(maxRelErr(takeToHost(j(f64(xs))), (i) => Math.exp(xs[i]!))).toBeLessThan(1e-12);
    j.dispose();
    // The built-in is far worse in float64 (regression guard for the workaround's reason).
    const builtin = takeToHost(np.exp(f64(xs.map((v) => v / 40))));
    expect(maxRelErr(builtin, (i) => Math.exp(xs[i]! / 40))).toBeGreaterThan(1e-9);
  });

  it("exp overflows and underflows like Math.exp; log of 0 and negatives like Math.log", () => {
    expect(Array.from(takeToHost(exp(f64([800, -800, 0]))))).toEqual([Infinity, 0, 1]);
    const l = Array.from(takeToHost(log(f64([0, -1, 1, Number.MIN_VALUE]))));
    expect(l.slice(0, 3)).toEqual([-Infinity, Number.NaN, 0]);
    expect(Math.abs(l[3]! - Math.log(Number.MIN_VALUE))).toBeLessThan(1e-9);
  });

  it("log: absolute error below 1e-12 from 1e-13 to 1e13", () => {
    const pos = Float64Array.from({ length: 300 }, (_, i) => Math.exp(-30 + i * 0.2 + 0.01));
    const got = takeToHost(log(f64(pos)));
    expect(maxAbsDiff(got, Array.from(pos, Math.log))).toBeLessThan(1e-12);
  });

  it("erf: absolute error below 1e-12 against an independent quadrature", () => {
    const us = Float64Array.from({ length: 300 }, (_, i) => -7 + i * (14 / 299) + 1e-3);
    const got = takeToHost(jit(erf)(f64(us)));
    expect(
      maxAbsDiff(
        got,
        Array.from(us, (u) => erfReference(u)),
      ),
    ).toBeLessThan(1e-12);
  });

  it("first derivatives are exact under jvp and vjp", () => {
    const us = Float64Array.from({ length: 200 }, (_, i) => -4 + i * 0.04 + 1e-3);
    const [, dErf] = jvp(erf, [f64(us)], [np.ones([200], { dtype: np.float64 })]);
    const want = Array.from(us, (u) => (2 / Math.sqrt(Math.PI)) * Math.exp(-u * u));
    expect(maxAbsDiff(takeToHost(dErf), want)).toBeLessThan(1e-12);
    const [y, back] = vjp(exp, [f64(us)]);
    const [g] = back(np.ones([200], { dtype: np.float64 })) as JaxArray[];
    back.dispose();
    y.dispose();
    expect(maxRelErr(takeToHost(g!), (i) => Math.exp(us[i]!))).toBeLessThan(1e-12);
    const [, dLog] = jvp(log, [f64(us.map((u) => u + 5))], [np.ones([200], { dtype: np.float64 })]);
    expect(maxRelErr(takeToHost(dLog), (i) => 1 / (us[i]! + 5))).toBeLessThan(1e-12);
  });

  it("softmax and logSoftmax match plain JS in float64", () => {
    const z = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i * 1.7) * 30);
    const want: number[] = [];
    const wantLog: number[] = [];
    for (let r = 0; r < 3; r++) {
      const row = Array.from(z.slice(r * 10, r * 10 + 10));
      const m = Math.max(...row);
      const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
      for (const v of row) {
        want.push(Math.exp(v - m) / s);
        wantLog.push(v - m - Math.log(s));
      }
    }
    const x = () => toDevice(z, [3, 10], "float64");
    expect(maxAbsDiff(takeToHost(softmax(x())), want)).toBeLessThan(1e-14);
    expect(maxAbsDiff(takeToHost(logSoftmax(x())), wantLog)).toBeLessThan(1e-12);
  });

  it("float32 inputs use jax-js's built-ins and stay float32", () => {
    const x = toDevice([0.5, 1, 2], [3], "float32");
    const y = erf(x);
    expect(y.dtype).toBe("float32");
    expect(
      maxAbsDiff(
        takeToHost(y),
        [0.5, 1, 2].map((u) => erfReference(u)),
      ),
    ).toBeLessThan(2e-7);
  });
});

describe("constants under jit (jax-js rounds weak JS-number constants to float32)", () => {
  const xs = Float64Array.from({ length: 300 }, (_, i) => 1 + i / 1000);

  it("constLike keeps full precision where a plain number does not", () => {
    const plain = jit((a: JaxArray) => a.mul(1 / 3));
    const viaConst = jit((a: JaxArray) => a.mul(constLike(a, 1 / 3)));
    const want = (i: number) => xs[i]! / 3;
    expect(maxRelErr(takeToHost(plain(f64(xs))), want)).toBeGreaterThan(1e-9);
    expect(maxRelErr(takeToHost(viaConst(f64(xs))), want)).toBeLessThan(1e-15);
    plain.dispose();
    viaConst.dispose();
    expect(constLike(f64(xs), 0.5)).toBe(0.5);
  });

  it("meanOver is exact where jax-js's mean is not", () => {
    const m = toDevice(xs, [3, 100], "float64");
    const want = [0, 1, 2].map(
      (r) => xs.slice(r * 100, r * 100 + 100).reduce((a, v) => a + v, 0) / 100,
    );
    const ours = jit((a: JaxArray) => meanOver(a, 1));
    expect(maxRelErr(takeToHost(ours(m.ref)), (i) => want[i]!)).toBeLessThan(1e-15);
    ours.dispose();
    m.dispose();
  });
});
