import { grad, type Array as JaxArray, jit, lax, numpy as np } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { type FloatDType, takeToHost, toDevice } from "../../src/engine/arrays.js";
import { consumingFn } from "../../src/engine/ops.js";
import { initEngine } from "../../src/engine/runtime.js";
import * as layers from "../../src/models/layers.js";
import type { Params } from "../../src/models/types.js";
import { erfReference, lcg, maxAbsDiff } from "../engine/helpers.js";

beforeAll(async () => {
  await initEngine();
});

function randArray(n: number, seed: number, scale = 1): Float64Array {
  const r = lcg(seed);
  return Float64Array.from({ length: n }, () => (2 * r() - 1) * scale);
}

// The layers borrow inside a tidy; these forms consume their arguments, as jax-js ops do.
const batchNorm1d = consumingFn(layers.batchNorm1d);
const conv1dSame = consumingFn(layers.conv1dSame);
const conv2dSame = consumingFn(layers.conv2dSame);
const dense = consumingFn(layers.dense);
const gelu = consumingFn(layers.gelu);
const layerNorm = consumingFn(layers.layerNorm);
const maxPool2 = consumingFn(layers.maxPool2);
const selfAttention = consumingFn(layers.selfAttention);

const dev = (data: ArrayLike<number>, shape: number[], dtype: FloatDType = "float64") =>
  toDevice(data, shape, dtype);

describe("gelu", () => {
  const xs = Float64Array.from({ length: 301 }, (_, i) => -7.5 + i * 0.05 + 1e-3);
  const want = Array.from(xs, (x) => x * 0.5 * (1 + erfReference(x / Math.SQRT2)));

  it("equals x·Φ(x) with an independent erf to 1e-12 in float64 (eager and jit)", () => {
    expect(maxAbsDiff(takeToHost(gelu(dev(xs, [301]))), want)).toBeLessThan(1e-12);
    const jitted = jit(gelu);
    expect(maxAbsDiff(takeToHost(jitted(dev(xs, [301]))), want)).toBeLessThan(1e-12);
    jitted.dispose();
  });

  it("equals x·Φ(x) to 1e-6 in float32 (jax-js's own erf)", () => {
    const got = takeToHost(gelu(dev(xs, [301], "float32")));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-6);
  });

  it("is the exact GELU, not the tanh approximation", () => {
    // At x = 3 the two differ by ~1.2e-4.
    const tanhApprox = (x: number) =>
      0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    const got = takeToHost(gelu(dev([3, -2.5], [2])));
    expect(Math.abs(got[0]! - tanhApprox(3))).toBeGreaterThan(1e-5);
    expect(Math.abs(got[0]! - 3 * 0.5 * (1 + erfReference(3 / Math.SQRT2)))).toBeLessThan(1e-12);
  });
});

describe("layerNorm", () => {
  it("matches a plain-JS reference (biased variance, eps 1e-5, γ and β)", () => {
    const rows = 3;
    const d = 5;
    const x = randArray(rows * d, 1, 3);
    const gamma = randArray(d, 2);
    const beta = randArray(d, 3);
    const want: number[] = [];
    for (let r = 0; r < rows; r++) {
      const row = Array.from(x.slice(r * d, r * d + d));
      const mean = row.reduce((a, b) => a + b, 0) / d;
      const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
      for (let j = 0; j < d; j++) {
        want.push(((row[j]! - mean) / Math.sqrt(v + 1e-5)) * gamma[j]! + beta[j]!);
      }
    }
    const p: Params = { gamma: dev(gamma, [d]), beta: dev(beta, [d]) };
    expect(maxAbsDiff(takeToHost(layerNorm(p, dev(x, [rows, d]))), want)).toBeLessThan(1e-13);
    const jitted = jit((pp: Params, xx: JaxArray) => layerNorm(pp, xx));
    const p2: Params = { gamma: dev(gamma, [d]), beta: dev(beta, [d]) };
    expect(maxAbsDiff(takeToHost(jitted(p2, dev(x, [rows, d]))), want)).toBeLessThan(1e-13);
    jitted.dispose();
  });
});

describe("batchNorm1d", () => {
  const b = 4;
  const c = 3;
  const l = 5;
  const x = randArray(b * c * l, 7, 2);
  const gamma = randArray(c, 8);
  const beta = randArray(c, 9);
  const runMean = randArray(c, 10);
  const runVar = Float64Array.from(randArray(c, 11), (v) => 0.5 + Math.abs(v));
  const at = (i: number, ch: number, j: number) => x[(i * c + ch) * l + j]!;
  const params = (): Params => ({ gamma: dev(gamma, [c]), beta: dev(beta, [c]) });
  const state = (): Params => ({ mean: dev(runMean, [c]), var: dev(runVar, [c]) });

  it("train mode: batch statistics, and running stats updated with momentum 0.1 (unbiased var)", () => {
    const out = batchNorm1d(params(), state(), dev(x, [b, c, l]), "train");
    const y = takeToHost(out.y);
    const wantY: number[] = new Array(b * c * l);
    const wantMean: number[] = [];
    const wantVar: number[] = [];
    for (let ch = 0; ch < c; ch++) {
      const vals: number[] = [];
      for (let i = 0; i < b; i++) for (let j = 0; j < l; j++) vals.push(at(i, ch, j));
      const m = vals.reduce((s, v) => s + v, 0) / vals.length;
      const ss = vals.reduce((s, v) => s + (v - m) ** 2, 0);
      const biased = ss / vals.length;
      const unbiased = ss / (vals.length - 1);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < l; j++) {
          wantY[(i * c + ch) * l + j] =
            ((at(i, ch, j) - m) / Math.sqrt(biased + 1e-5)) * gamma[ch]! + beta[ch]!;
        }
      }
      wantMean.push(0.9 * runMean[ch]! + 0.1 * m);
      wantVar.push(0.9 * runVar[ch]! + 0.1 * unbiased);
    }
    expect(maxAbsDiff(y, wantY)).toBeLessThan(1e-13);
    const st = out.state as { mean: JaxArray; var: JaxArray };
    expect(maxAbsDiff(takeToHost(st.mean), wantMean)).toBeLessThan(1e-14);
    expect(maxAbsDiff(takeToHost(st.var), wantVar)).toBeLessThan(1e-14);
  });

  it("eval mode: running statistics, and no state returned", () => {
    const out = batchNorm1d(params(), state(), dev(x, [b, c, l]), "eval");
    expect(out.state).toBeUndefined();
    const want: number[] = [];
    for (let i = 0; i < b; i++) {
      for (let ch = 0; ch < c; ch++) {
        for (let j = 0; j < l; j++) {
          const z = (at(i, ch, j) - runMean[ch]!) / Math.sqrt(runVar[ch]! + 1e-5);
          want.push(z * gamma[ch]! + beta[ch]!);
        }
      }
    }
    expect(maxAbsDiff(takeToHost(out.y), want)).toBeLessThan(1e-13);
  });
});

describe("convolutions", () => {
  function refConv(
    xs: Float64Array,
    ws: Float64Array,
    bs: Float64Array,
    shape: { b: number; ci: number; co: number; sp: number[]; k: number[] },
  ): Float64Array {
    const { b, ci, co, sp, k } = shape;
    const h = sp[0]!;
    const w = sp[1] ?? 1;
    const kh = k[0]!;
    const kw = k[1] ?? 1;
    const out = new Float64Array(b * co * h * w);
    for (let n = 0; n < b; n++) {
      for (let o = 0; o < co; o++) {
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            let s = bs[o]!;
            for (let cc = 0; cc < ci; cc++) {
              for (let di = 0; di < kh; di++) {
                for (let dj = 0; dj < kw; dj++) {
                  const ii = i + di - Math.floor((kh - 1) / 2);
                  const jj = j + dj - Math.floor((kw - 1) / 2);
                  if (ii < 0 || ii >= h || jj < 0 || jj >= w) continue;
                  s +=
                    xs[((n * ci + cc) * h + ii) * w + jj]! *
                    ws[((o * ci + cc) * kh + di) * kw + dj]!;
                }
              }
            }
            out[((n * co + o) * h + i) * w + j] = s;
          }
        }
      }
    }
    return out;
  }

  it("2-D same convolution matches a plain-JS cross-correlation and lax.conv", () => {
    const shape = { b: 2, ci: 3, co: 4, sp: [6, 6], k: [3, 3] };
    const xs = randArray(2 * 3 * 36, 21);
    const ws = randArray(4 * 3 * 9, 22);
    const bs = randArray(4, 23);
    const p: Params = { w: dev(ws, [4, 3, 3, 3]), b: dev(bs, [4]) };
    const got = takeToHost(conv2dSame(p, dev(xs, [2, 3, 6, 6])));
    expect(maxAbsDiff(got, refConv(xs, ws, bs, shape))).toBeLessThan(1e-12);
    const viaLax = takeToHost(
      lax.conv(dev(xs, [2, 3, 6, 6]), dev(ws, [4, 3, 3, 3]), [1, 1], "SAME"),
    ).map((v, i) => v + bs[Math.floor(i / 36) % 4]!);
    expect(maxAbsDiff(got, viaLax)).toBeLessThan(1e-12);
  });

  it("1-D same convolution matches a plain-JS reference", () => {
    const shape = { b: 3, ci: 2, co: 5, sp: [7], k: [3] };
    const xs = randArray(3 * 2 * 7, 31);
    const ws = randArray(5 * 2 * 3, 32);
    const bs = randArray(5, 33);
    const p: Params = { w: dev(ws, [5, 2, 3]), b: dev(bs, [5]) };
    const got = takeToHost(conv1dSame(p, dev(xs, [3, 2, 7])));
    expect(maxAbsDiff(got, refConv(xs, ws, bs, shape))).toBeLessThan(1e-12);
  });
});

describe("maxPool2", () => {
  it("takes the max of each 2×2 block", () => {
    const xs = randArray(2 * 3 * 4 * 4, 41);
    const got = takeToHost(maxPool2(dev(xs, [2, 3, 4, 4])));
    const want: number[] = [];
    for (let n = 0; n < 6; n++) {
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          const at = (a: number, b: number) => xs[n * 16 + (2 * i + a) * 4 + (2 * j + b)]!;
          want.push(Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1)));
        }
      }
    }
    expect(maxAbsDiff(got, want)).toBe(0);
  });
});

describe("selfAttention", () => {
  it("matches a plain-JS multi-head attention and returns QKᵀ/√d_head", () => {
    const bsz = 2;
    const t = 3;
    const d = 4;
    const heads = 2;
    const dh = d / heads;
    const x = randArray(bsz * t * d, 51);
    const mats = [52, 53, 54, 55].map((s) => randArray(d * d, s, 0.5));
    const biases = [56, 57, 58, 59].map((s) => randArray(d, s, 0.1));
    const p: Params = {};
    ["q", "k", "v", "o"].forEach((name, i) => {
      p[name] = { w: dev(mats[i]!, [d, d]), b: dev(biases[i]!, [d]) };
    });
    const { y, scores } = selfAttention(p, dev(x, [bsz, t, d]), heads);
    const gotY = takeToHost(y);
    const gotS = takeToHost(scores);
    const lin = (m: number, row: number[]) =>
      Array.from({ length: d }, (_, o) => {
        let s = biases[m]![o]!;
        for (let i = 0; i < d; i++) s += row[i]! * mats[m]![i * d + o]!;
        return s;
      });
    const wantY: number[] = [];
    const wantS: number[] = new Array(bsz * heads * t * t);
    for (let n = 0; n < bsz; n++) {
      const rows = Array.from({ length: t }, (_, i) =>
        Array.from(x.slice((n * t + i) * d, (n * t + i + 1) * d)),
      );
      const q = rows.map((r) => lin(0, r));
      const k = rows.map((r) => lin(1, r));
      const v = rows.map((r) => lin(2, r));
      const ctx = rows.map(() => new Array<number>(d).fill(0));
      for (let h = 0; h < heads; h++) {
        for (let i = 0; i < t; i++) {
          const s = Array.from({ length: t }, (_, j) => {
            let dot = 0;
            for (let e = 0; e < dh; e++) dot += q[i]![h * dh + e]! * k[j]![h * dh + e]!;
            return dot / Math.sqrt(dh);
          });
          s.forEach((val, j) => {
            wantS[((n * heads + h) * t + i) * t + j] = val;
          });
          const m = Math.max(...s);
          const e = s.map((val) => Math.exp(val - m));
          const z = e.reduce((a, b) => a + b, 0);
          for (let j = 0; j < t; j++) {
            for (let f = 0; f < dh; f++) ctx[i]![h * dh + f]! += (e[j]! / z) * v[j]![h * dh + f]!;
          }
        }
      }
      for (let i = 0; i < t; i++) wantY.push(...lin(3, ctx[i]!));
    }
    expect(maxAbsDiff(gotS, wantS)).toBeLessThan(1e-13);
    expect(maxAbsDiff(gotY, wantY)).toBeLessThan(1e-12);
  });
});

describe("dense", () => {
  // Widths that are not a multiple of 4 take the widened path; the result must be the plain
  // x·W + b bit for bit, eagerly, under jit, and in its gradient.
  const plain = (x: JaxArray, w: JaxArray, b: JaxArray) => np.matmul(x, w).add(b);
  for (const out of [10, 7, 12]) {
    it(`width ${out}: equals np.matmul(x, W) + b exactly (float32)`, () => {
      const x = () => dev(randArray(37 * 24, 1), [37, 24], "float32");
      const w = () => dev(randArray(24 * out, 2), [24, out], "float32");
      const b = () => dev(randArray(out, 3), [out], "float32");
      const expected = takeToHost(plain(x(), w(), b()));
      expect(takeToHost(dense({ w: w(), b: b() }, x()))).toEqual(expected);
      const jitted = jit((p: Params, xx: JaxArray) => dense(p, xx));
      expect(takeToHost(jitted({ w: w(), b: b() }, x()))).toEqual(expected);
      jitted.dispose();
    });
  }

  it("width 10: the gradient through the widened path equals the plain one", () => {
    const x = dev(randArray(16 * 8, 4), [16, 8], "float32");
    const w = dev(randArray(8 * 10, 5), [8, 10], "float32");
    const b = dev(randArray(10, 6), [10], "float32");
    const loss = (f: (p: Params, xx: JaxArray) => JaxArray) => (p: Params, xx: JaxArray) => {
      const y = f(p, xx);
      return y.ref.mul(y).sum();
    };
    const viaDense = grad(loss((p, xx) => dense(p, xx)))({ w: w.ref, b: b.ref }, x.ref) as Params;
    const viaPlain = grad(loss((p, xx) => plain(xx, p.w as JaxArray, p.b as JaxArray)))(
      { w, b },
      x,
    ) as Params;
    for (const key of ["w", "b"]) {
      const got = takeToHost(viaDense[key] as JaxArray);
      const want = takeToHost(viaPlain[key] as JaxArray);
      expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    }
  });
});

describe("jax-js behaviours the layers work around (regression guards)", () => {
  it("np.matmul of a 2-D lhs with a 3-D rhs does not broadcast like NumPy", () => {
    // If this starts failing, jax-js fixed the bug and convSame's extra batch axis can go.
    const out = np.matmul(np.ones([2, 3]), np.ones([4, 3, 5]));
    const shape = out.shape;
    out.dispose();
    expect(shape).toEqual([2, 4, 5]);
  });
});
