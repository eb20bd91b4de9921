import { init } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { armijo, armijoSearch } from "../../src/optim/armijo.js";
import { chain, sgd } from "../../src/optim/index.js";
import { expectClose, fromJax, randomRef, rng, toJax } from "./helpers.js";
import { dot, type Quadratic, quadExtra, quadGrad, quadLoss } from "./line-search.helpers.js";

beforeAll(async () => {
  await init("wasm");
});

/** A quadratic with curvatures in [0.5, 4.5] and minimum f* = 0.3. */
function quadratic(seed: number): Quadratic {
  const u = rng(seed);
  const theta = randomRef(u);
  const a = theta.map((leaf) => leaf.map(() => 0.5 + 4 * u()));
  return { a, theta, fStar: 0.3 };
}

/** One SGD(lr) + Armijo step on the quadratic. */
function step(q: Quadratic, lr: number, opts = {}) {
  const { extra, trials, reports } = quadExtra(q);
  const opt = chain(sgd(lr), armijo(opts));
  const state = opt.init(toJax(q.theta));
  const [u] = opt.update(toJax(quadGrad(q)), state, toJax(q.theta), extra);
  return { update: fromJax(u), trials, report: reports[0]! };
}

/** The largest t with f(θ + t·p) ≤ f + c·t·⟨g, p⟩ for the quadratic: 2(1−c)(−gᵀp)/(pᵀAp). */
function armijoBound(q: Quadratic, p: Float64Array[], c: number): number {
  const g = quadGrad(q);
  const pAp = dot(
    p,
    p.map((leaf, i) => leaf.map((v, j) => q.a[i]![j]! * v)),
  );
  return (2 * (1 - c) * -dot(g, p)) / pAp;
}

describe("armijo on a quadratic", () => {
  it("accepts a short enough trial step as it is, with one loss evaluation", () => {
    const q = quadratic(1);
    const p = quadGrad(q).map((l) => l.map((v) => -0.01 * v));
    expect(armijoBound(q, p, 0.1)).toBeGreaterThan(1);
    const { update, trials, report } = step(q, 0.01);
    expectClose(update, p);
    expect(trials.length).toBe(1);
    expect(report).toMatchObject({ controller: "armijo", scale: 1 });
  });

  it("backtracks a too-long step to the largest β^k meeting sufficient decrease", () => {
    const q = quadratic(2);
    const lr = 3; // curvature up to 4.5: lr·a ≫ 2, the full step overshoots
    const c = 0.1;
    const beta = 0.5;
    const p = quadGrad(q).map((l) => l.map((v) => -lr * v));
    const bound = armijoBound(q, p, c);
    const k = Math.ceil(Math.log(bound) / Math.log(beta));
    expect(k).toBeGreaterThan(1);
    const { update, trials, report } = step(q, lr, { c, beta });
    const t = beta ** k;
    expect(report.scale).toBeCloseTo(t, 12);
    expect(trials.length).toBe(k + 1);
    expectClose(
      update,
      p.map((l) => l.map((v) => t * v)),
    );
    // The accepted step satisfies the condition; the one before it (t/β) did not.
    const f0 = quadLoss(q);
    const slope = dot(quadGrad(q), p);
    expect(quadLoss(q, update)).toBeLessThanOrEqual(f0 + c * t * slope + 1e-9);
    expect(trials[k - 1]!).toBeGreaterThan(f0 + c * (t / beta) * slope);
    expect(report.tau).toBeCloseTo(t * Math.sqrt(dot(p, p)), 4);
  });

  it("skips the step (zero update) when no trial length decreases the loss", () => {
    const q = quadratic(3);
    // An ascent direction: lr < 0 turns −lr·g into +|lr|·g.
    const { update, trials, report } = step(q, -0.5, { maxBacktracks: 4 });
    expect(trials.length).toBe(5);
    expect(report.scale).toBe(0);
    for (const leaf of update) for (const v of leaf) expect(Math.abs(v)).toBe(0); // x·0 is −0 for x < 0
  });

  it("needs the loss keys in extra", () => {
    const q = quadratic(4);
    const opt = chain(sgd(0.1), armijo());
    const state = opt.init(toJax(q.theta));
    // A compile error for typed callers; the run-time check is for plain JavaScript.
    // @ts-expect-error the chain's type requires the loss keys
    expect(() => opt.update(toJax(quadGrad(q)), state, toJax(q.theta), {})).toThrow(
      /armijo: the training loop must pass extra\.loss/,
    );
  });
});

describe("armijoSearch", () => {
  it("treats a non-finite trial loss as a failure and keeps backtracking", () => {
    const losses = [Number.NaN, Number.POSITIVE_INFINITY, 0.5];
    const r = armijoSearch((t) => losses[Math.round(Math.log2(1 / t))]!, 1, -1, { beta: 0.5 });
    expect(r).toEqual({ t: 0.25, backtracks: 2, accepted: true });
  });

  it("rejects bad options", () => {
    expect(() => armijoSearch(() => 0, 1, -1, { c: 1 })).toThrow(RangeError);
    expect(() => armijoSearch(() => 0, 1, -1, { beta: 0 })).toThrow(RangeError);
    expect(() => armijo({ maxBacktracks: -1 })).toThrow(/maxBacktracks/);
  });
});
