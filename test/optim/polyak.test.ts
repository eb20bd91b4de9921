import { init } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import { chain, sgd } from "../../src/optim/index.js";
import { polyak, polyakFactor } from "../../src/optim/polyak.js";
import { expectClose, fromJax, randomRef, rng, toJax } from "./helpers.js";
import { dot, type Quadratic, quadExtra, quadGrad, quadLoss } from "./line-search.helpers.js";

beforeAll(async () => {
  await init("wasm");
});

function quadratic(seed: number, isotropic: number | null, fStar = 0): Quadratic {
  const u = rng(seed);
  const theta = randomRef(u);
  const a = theta.map((leaf) => leaf.map(() => isotropic ?? 0.5 + 4 * u()));
  return { a, theta, fStar };
}

function step(q: Quadratic, lr: number, opts = {}) {
  const { extra, reports } = quadExtra(q);
  const opt = chain(sgd(lr), polyak(opts));
  const state = opt.init(toJax(q.theta));
  const [u] = opt.update(toJax(quadGrad(q)), state, toJax(q.theta), extra);
  return { update: fromJax(u), report: reports[0]! };
}

describe("polyak on a quadratic with a known minimum", () => {
  it("isotropic f = f* + ½a‖θ‖²: η = 1/(2a), so the step halves θ (length ‖θ‖/2)", () => {
    const a = 2.5;
    const q = quadratic(1, a, 0.7);
    const { update, report } = step(q, 100, { fStar: 0.7 });
    expectClose(
      update,
      q.theta.map((l) => l.map((v) => -v / 2)),
    );
    expect(Math.sqrt(dot(update, update))).toBeCloseTo(Math.sqrt(dot(q.theta, q.theta)) / 2, 5);
    expect(report.scale).toBeCloseTo(1 / (2 * a) / 100, 8);
    // Along the gradient of an isotropic quadratic the linear model reaches f* exactly there.
    expect(quadLoss(q) + dot(quadGrad(q), update)).toBeCloseTo(0.7, 5);
  });

  it("general curvature: η = (f − f*)/‖∇f‖², and c = 0.5 doubles it", () => {
    const q = quadratic(2, null);
    const g = quadGrad(q);
    const eta = quadLoss(q) / dot(g, g);
    expectClose(
      step(q, 100).update,
      g.map((l) => l.map((v) => -eta * v)),
    );
    expectClose(
      step(q, 100, { c: 0.5 }).update,
      g.map((l) => l.map((v) => -2 * eta * v)),
    );
  });

  it("the learning rate caps the step: a smaller lr passes unchanged", () => {
    const q = quadratic(3, null);
    const g = quadGrad(q);
    const lr = (0.5 * quadLoss(q)) / dot(g, g);
    const { update, report } = step(q, lr);
    expectClose(
      update,
      g.map((l) => l.map((v) => -lr * v)),
    );
    expect(report.scale).toBe(1);
  });
});

describe("polyakFactor", () => {
  it("is min(1, (f − f*)/(c·(−slope))), 1 for a non-descent step and 0 at f ≤ f*", () => {
    expect(polyakFactor(2, -8)).toBe(0.25);
    expect(polyakFactor(2, -8, { fStar: 1, c: 0.5 })).toBe(0.25);
    expect(polyakFactor(2, -1)).toBe(1);
    expect(polyakFactor(2, 0.3)).toBe(1);
    expect(polyakFactor(1, -1, { fStar: 1 })).toBe(0);
    expect(() => polyakFactor(1, -1, { c: 0 })).toThrow(RangeError);
  });
});
