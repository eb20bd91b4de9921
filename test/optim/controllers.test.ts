import { init } from "@jax-js/jax";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type ArrayTree,
  adamDirection,
  allRadii,
  bindingRadius,
  buildOptimizer,
  type ControlReport,
  chain,
  findState,
  type RadiusCallback,
  type RadiusKind,
  rhoClip,
  rhoClipGrad,
  rhoSet,
  scale,
  sgd,
} from "../../src/optim/index.js";
import { fromJax, randomRef, rng, toJax } from "./helpers.js";

beforeAll(async () => {
  await init("wasm");
});

function norm(ref: Float64Array[]): number {
  let s = 0;
  for (const leaf of ref) for (const v of leaf) s += v * v;
  return Math.sqrt(s);
}

/** A radius callback with a fixed ρ that records what it was called with. */
function fixedRadius(rho: number): { cb: RadiusCallback; calls: number[] } {
  const calls: number[] = [];
  const cb: RadiusCallback = (_p, n) => {
    calls.push(n);
    return { rho, binding: "output" };
  };
  return { cb, calls };
}

describe("rhoClip", () => {
  it("scales a step longer than rMax·ρ down to exactly rMax·ρ, keeping its direction", () => {
    const g = randomRef(rng(1));
    const lr = 0.5;
    const { cb, calls } = fixedRadius(0.1);
    const reports: ControlReport[] = [];
    const opt = chain(sgd(lr), rhoClip({ rMax: 0.5 }));
    const state = opt.init(toJax(randomRef(rng(2))));
    const [u] = opt.update(toJax(g), state, undefined, {
      radius: cb,
      onControl: (r: ControlReport) => reports.push(r),
    });
    const out = fromJax(u);
    const proposed = lr * norm(g);
    expect(calls[0]).toBeCloseTo(proposed, 5);
    expect(norm(out)).toBeCloseTo(0.05, 5);
    const s = 0.05 / proposed;
    out.forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        expect(v).toBeCloseTo(-lr * s * g[i][j], 5);
      });
    });
    expect(reports[0].scale).toBeCloseTo(s, 6);
    expect(reports[0].tau).toBeCloseTo(0.05, 6);
  });

  it("leaves a step inside the radius untouched", () => {
    const g = randomRef(rng(3));
    const { cb } = fixedRadius(1e6);
    const opt = chain(sgd(0.1), rhoClip());
    const [u] = opt.update(toJax(g), opt.init(toJax(randomRef(rng(4)))), undefined, { radius: cb });
    fromJax(u).forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        expect(v).toBeCloseTo(-0.1 * g[i][j], 6);
      });
    });
  });

  it("does not touch the optimizer's moments", () => {
    const g = randomRef(rng(5));
    const clipped = chain(sgd(1, { momentum: 0.9 }), rhoClip());
    const plain = sgd(1, { momentum: 0.9 });
    let sc = clipped.init(toJax(randomRef(rng(6))));
    let sp = plain.init(toJax(randomRef(rng(6))));
    const { cb } = fixedRadius(1e-3);
    for (let i = 0; i < 3; i++) {
      [, sc] = clipped.update(toJax(g), sc, undefined, { radius: cb });
      [, sp] = plain.update(toJax(g), sp, undefined);
    }
    const bufClipped = fromJax(findState(sc, "trace") as ArrayTree);
    const bufPlain = fromJax(findState(sp, "trace") as ArrayTree);
    expect(bufClipped).toEqual(bufPlain);
  });

  it("passes a zero update through without asking for a radius", () => {
    const zero = randomRef(rng(7)).map((l) => l.map(() => 0));
    const { cb, calls } = fixedRadius(1);
    const opt = rhoClip();
    const [u] = opt.update(toJax(zero), opt.init(toJax(zero)), undefined, { radius: cb });
    expect(calls).toHaveLength(0);
    expect(norm(fromJax(u))).toBe(0);
  });

  it("treats an infinite radius (all slopes equal) as no clip", () => {
    const g = randomRef(rng(8));
    const opt = rhoClip();
    const [u] = opt.update(toJax(g), opt.init(toJax(g)), undefined, {
      radius: fixedRadius(Number.POSITIVE_INFINITY).cb,
    });
    expect(norm(fromJax(u))).toBeCloseTo(norm(g), 5);
  });

  it("says what is missing when the loop passes no radius", () => {
    const g = randomRef(rng(9));
    const opt = rhoClip();
    // A typed caller cannot get here (a missing radius is a compile error); plain JS can.
    // @ts-expect-error extra.radius is required by rhoClip's type
    expect(() => opt.update(toJax(g), opt.init(toJax(g)), undefined, {})).toThrow(
      "rhoClip: the training loop must pass extra.radius (a RadiusCallback)",
    );
    expect(() => rhoClip({ rMax: 0 })).toThrow(
      "rhoClip: rMax must be a positive finite number, got 0",
    );
  });
});

describe("rhoSet", () => {
  it("makes the applied step exactly rTarget·ρ long, against the Adam direction", () => {
    const g = randomRef(rng(10));
    const { cb } = fixedRadius(0.2);
    const reports: ControlReport[] = [];
    const opt = chain(adamDirection(), rhoSet({ rTarget: 2 }));
    const [u] = opt.update(toJax(g), opt.init(toJax(randomRef(rng(11)))), undefined, {
      radius: cb,
      onControl: (r: ControlReport) => reports.push(r),
    });
    const out = fromJax(u);
    expect(norm(out)).toBeCloseTo(0.4, 5);
    // First Adam step: m̂/(√v̂+ε) = g/(|g|+ε) ≈ sign(g); the step points against it.
    out.forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        if (Math.abs(g[i][j]) > 1e-3) expect(Math.sign(v)).toBe(-Math.sign(g[i][j]));
      });
    });
    expect(reports[0].tau).toBeCloseTo(0.4, 6);
  });

  it("takes a zero step when the radius is infinite and no cap is set", () => {
    const g = randomRef(rng(12));
    const opt = rhoSet({ rTarget: 1 });
    const [u] = opt.update(toJax(g), opt.init(toJax(g)), undefined, {
      radius: fixedRadius(Number.POSITIVE_INFINITY).cb,
    });
    expect(norm(fromJax(u))).toBe(0);
  });

  it("respects maxLearningRate", () => {
    const g = randomRef(rng(13));
    const opt = rhoSet({ rTarget: 1, maxLearningRate: 0.01 });
    const [u] = opt.update(toJax(g), opt.init(toJax(g)), undefined, {
      radius: fixedRadius(1e9).cb,
    });
    expect(norm(fromJax(u))).toBeCloseTo(0.01 * norm(g), 5);
  });
});

describe("rhoClipGrad (the published controller)", () => {
  /** Adam's first update by hand: m̂ = g, v̂ = g², so p = −lr·g/(|g| + ε). */
  const firstAdamStep = (g: Float64Array[], lr: number) =>
    g.map((leaf) => leaf.map((x) => (-lr * x) / (Math.abs(x) + 1e-8)));

  it("measures ρ along the gradient, compares it with lr·‖g‖ and rescales Adam's update", () => {
    // small gradients, as late in training: Adam's step (≈ lr·√26) is ≈ 10× lr·‖g‖
    const g = randomRef(rng(21), undefined, 0.1);
    const lr = 0.4;
    const gNorm = norm(g);
    const rho = 0.05;
    const seen: { p: Float64Array[]; norm: number }[] = [];
    const reports: ControlReport[] = [];
    const opt = chain(adamDirection(), scale(-lr), rhoClipGrad({ rMax: 0.5 }));
    const gDev = toJax(g);
    const [u] = opt.update(toJax(g), opt.init(toJax(randomRef(rng(22)))), undefined, {
      radius: (p, n) => {
        seen.push({ p: fromJax(p), norm: n });
        return { rho, binding: "output" };
      },
      onControl: (r: ControlReport) => reports.push(r),
      grad: gDev,
      gradNorm: gNorm,
      learningRate: lr,
    });
    // the radius was asked along g (with ‖g‖), not along Adam's update
    expect(seen).toHaveLength(1);
    expect(seen[0].norm).toBe(gNorm);
    expect(seen[0].p).toEqual(g);
    const s = (0.5 * rho) / (lr * gNorm);
    expect(s).toBeLessThan(1);
    const adamStep = firstAdamStep(g, lr);
    const out = fromJax(u);
    out.forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        expect(v).toBeCloseTo(s * adamStep[i][j], 6);
      });
    });
    expect(reports[0].controller).toBe("rhoClipGrad");
    expect(reports[0].scale).toBeCloseTo(s, 9);
    expect(reports[0].gradientStep).toBeCloseTo(lr * gNorm, 9);
    // the applied step is s·‖Adam's step‖, which is NOT rMax·ρ: the published clip does not
    // bound the step it takes (here ‖p‖/(lr·‖g‖) ≈ √26/‖g‖ times longer than rMax·ρ)
    expect(reports[0].tau).toBeCloseTo(s * norm(adamStep), 6);
    expect(reports[0].tau).toBeGreaterThan(5 * 0.5 * rho);
  });

  it("leaves the update alone while lr·‖g‖ ≤ rMax·ρ, even when Adam's step is longer than ρ", () => {
    const g = randomRef(rng(23), undefined, 1e-3);
    const lr = 0.1;
    const gNorm = norm(g);
    const rho = 2 * lr * gNorm; // ρ above τ_g but far below Adam's ‖p‖ ≈ lr·√dim
    const opt = chain(adamDirection(), scale(-lr), rhoClipGrad());
    const [u] = opt.update(toJax(g), opt.init(toJax(g)), undefined, {
      radius: fixedRadius(rho).cb,
      grad: toJax(g),
      gradNorm: gNorm,
      learningRate: lr,
    });
    const adamStep = firstAdamStep(g, lr);
    expect(norm(adamStep)).toBeGreaterThan(rho);
    fromJax(u).forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        expect(v).toBeCloseTo(adamStep[i][j], 6);
      });
    });
  });

  it("passes a zero gradient through and names what the loop must pass", () => {
    const zero = randomRef(rng(24)).map((l) => l.map(() => 0));
    const { cb, calls } = fixedRadius(1);
    const opt = rhoClipGrad();
    const [u] = opt.update(toJax(zero), opt.init(toJax(zero)), undefined, {
      radius: cb,
      grad: toJax(zero),
      gradNorm: 0,
      learningRate: 0.1,
    });
    expect(calls).toHaveLength(0);
    expect(norm(fromJax(u))).toBe(0);
    const g = randomRef(rng(25));
    expect(() =>
      opt.update(toJax(g), opt.init(toJax(g)), undefined, {
        radius: cb,
        grad: toJax(g),
        gradNorm: 1,
        learningRate: Number.NaN,
      }),
    ).toThrow("rhoClipGrad: needs extra.learningRate, a positive learning rate");
    // @ts-expect-error extra.grad is required by rhoClipGrad's type
    expect(() => opt.update(toJax(g), opt.init(toJax(g)), undefined, { radius: cb })).toThrow(
      "rhoClipGrad: the training loop must pass extra.grad and extra.gradNorm",
    );
    expect(() => rhoClipGrad({ rMax: -1 })).toThrow(
      "rhoClipGrad: rMax must be a positive finite number, got -1",
    );
  });
});

describe("rhoSet with decoupled weight decay", () => {
  it("probes along u alone and applies −η·(u + wd·θ), η = r·ρ(u)/‖u‖ (PyTorch AdamW at rate η)", () => {
    const u = randomRef(rng(20));
    const theta = randomRef(rng(21));
    const wd = 0.3;
    const seen: number[] = [];
    const cb: RadiusCallback = (_p, n) => {
      seen.push(n);
      return { rho: 0.2, binding: "output" };
    };
    const reports: ControlReport[] = [];
    const opt = rhoSet({ rTarget: 1.5, weightDecay: wd });
    const [out] = opt.update(toJax(u), opt.init(toJax(theta)), toJax(theta), {
      radius: cb,
      onControl: (r: ControlReport) => reports.push(r),
    });
    // the radius was asked along u itself, not u + wd·θ
    expect(Math.abs(seen[0]! / norm(u) - 1)).toBeLessThan(1e-6); // float32 leaves
    const eta = (1.5 * 0.2) / seen[0]!;
    expect(reports[0].scale).toBeCloseTo(eta, 12);
    fromJax(out).forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        expect(v).toBeCloseTo(-eta * (u[i][j] + wd * theta[i][j]), 5);
      });
    });
  });

  it("is what buildOptimizer makes of adamw under ρ-set: Adam's direction probed, the decay at rate η", () => {
    const g = randomRef(rng(24));
    const theta = randomRef(rng(25));
    const seen: number[] = [];
    const cb: RadiusCallback = (_p, n) => {
      seen.push(n);
      return { rho: 0.5, binding: "output" };
    };
    const built = buildOptimizer(
      { name: "adamw", learningRate: 1, weightDecay: 0.3 },
      { name: "rho-set", rTarget: 1 },
    );
    const [out] = built.transform.update(
      toJax(g),
      built.transform.init(toJax(theta)),
      toJax(theta),
      // the loop passes the gradient to every built chain (only rho-clip-grad reads it)
      { radius: cb, grad: toJax(g), gradNorm: 1, learningRate: 1 },
    );
    // first Adam step: u = g/(|g|+ε) ≈ sign(g), so ‖u‖² ≈ the number of entries
    const size = g.reduce((n, leaf) => n + leaf.length, 0);
    expect(seen[0]!).toBeCloseTo(Math.sqrt(size), 3);
    const eta = 0.5 / seen[0]!;
    fromJax(out).forEach((leaf, i) => {
      leaf.forEach((v, j) => {
        const u = g[i][j] / (Math.abs(g[i][j]) + 1e-8);
        expect(v).toBeCloseTo(-eta * (u + 0.3 * theta[i][j]), 4);
      });
    });
  });

  it("needs the parameters, and rejects a negative decay", () => {
    const g = randomRef(rng(22));
    const opt = rhoSet({ rTarget: 1, weightDecay: 1e-4 });
    expect(() =>
      opt.update(toJax(g), opt.init(toJax(g)), undefined, { radius: fixedRadius(1).cb }),
    ).toThrow(/weightDecay needs the parameters/);
    expect(() => rhoSet({ rTarget: 1, weightDecay: -1 })).toThrow(RangeError);
  });
});

describe("the radii a controller asks for", () => {
  const radii = { output: 3, attention: 2, ffn: 1 };
  it("binds by the smallest radius of its kind (attn-out: output and attention only)", () => {
    expect(bindingRadius("all", radii)).toEqual(["ffn", 1]);
    expect(bindingRadius("output-attention", radii)).toEqual(["attention", 2]);
    expect(bindingRadius("output", radii)).toEqual(["output", 3]);
    expect(bindingRadius("output-attention", { output: 1, attention: 2, ffn: 0.5 })).toEqual([
      "output",
      1,
    ]);
    // ties go to the output radius; an unmeasured radius never binds
    expect(bindingRadius("all", { output: 1, attention: 1 })).toEqual(["output", 1]);
  });

  it("allRadii with radii 'output-attention' asks for that kind and rescales by min(ρ_out, ρ_attn)", () => {
    const g = randomRef(rng(23));
    const kinds: RadiusKind[] = [];
    const cb: RadiusCallback = (_p, _n, kind) => {
      kinds.push(kind);
      const [binding, rho] = bindingRadius(kind, { output: 0.5, attention: 0.25, ffn: 0.01 });
      return { rho, binding };
    };
    const opt = allRadii({ mode: "set", rTarget: 1, radii: "output-attention" });
    const [u] = opt.update(toJax(g), opt.init(toJax(g)), undefined, { radius: cb });
    expect(kinds).toEqual(["output-attention"]);
    expect(norm(fromJax(u))).toBeCloseTo(0.25, 6);
    const all = allRadii({ mode: "clip", rMax: 1 });
    const [v] = all.update(toJax(g), all.init(toJax(g)), undefined, { radius: cb });
    expect(kinds[1]).toBe("all");
    expect(norm(fromJax(v))).toBeCloseTo(Math.min(norm(g), 0.01), 6);
    expect(() => allRadii({ mode: "set", rTarget: 1, radii: "ffn" as "all" })).toThrow(
      /radii must be/,
    );
  });
});
