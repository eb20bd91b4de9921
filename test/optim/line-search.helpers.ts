/**
 * A diagonal quadratic f(θ) = f* + ½ Σ a_i θ_i² on the SPEC test tree, and the `extra`
 * a training loop would pass for it (loss, gradient norm, loss at θ + u, ⟨∇f, u⟩), all
 * computed on the host in float64 from the float32 values the device sees.
 */
import type { ArrayTree, ControlReport } from "../../src/optim/index.js";
import type { LossExtra } from "../../src/optim/loss-extra.js";
import { fromJax, type RefTree } from "./helpers.js";

export type Quadratic = {
  /** Curvatures a_i, leaf by leaf (shaped like θ). */
  a: RefTree;
  theta: RefTree;
  fStar: number;
};

export function quadLoss(q: Quadratic, shift?: RefTree): number {
  let s = q.fStar;
  q.theta.forEach((leaf, i) => {
    leaf.forEach((v, j) => {
      const x = v + (shift ? shift[i]![j]! : 0);
      s += 0.5 * q.a[i]![j]! * x * x;
    });
  });
  return s;
}

/** ∇f = a ⊙ θ. */
export function quadGrad(q: Quadratic): RefTree {
  return q.theta.map((leaf, i) => leaf.map((v, j) => q.a[i]![j]! * v));
}

export function dot(x: RefTree, y: RefTree): number {
  let s = 0;
  x.forEach((leaf, i) => {
    leaf.forEach((v, j) => {
      s += v * y[i]![j]!;
    });
  });
  return s;
}

/** The `extra` for the quadratic, counting trial-loss evaluations and collecting reports. */
export function quadExtra(q: Quadratic): {
  extra: LossExtra & { onControl: (r: ControlReport) => void };
  trials: number[];
  reports: ControlReport[];
} {
  const g = quadGrad(q);
  const trials: number[] = [];
  const reports: ControlReport[] = [];
  const extra = {
    loss: quadLoss(q),
    gradNorm: Math.sqrt(dot(g, g)),
    lossAt: (u: ArrayTree) => {
      const f = quadLoss(q, fromJax(u));
      trials.push(f);
      return f;
    },
    gradDot: (u: ArrayTree) => dot(g, fromJax(u)),
    onControl: (r: ControlReport) => reports.push(r),
  };
  return { extra, trials, reports };
}
