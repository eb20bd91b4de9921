/**
 * Independent float64 plain-JS reference optimizers (PyTorch algorithm statements), operating on
 * {@link RefTree}s. Written from the published update equations, not from the device code.
 */
import type { RefTree } from "./helpers.js";

/** Leafwise map over reference trees. */
export function refMap(fn: (...xs: number[]) => number, ...trees: RefTree[]): RefTree {
  return trees[0].map((leaf, i) => leaf.map((_, j) => fn(...trees.map((t) => t[i][j]))));
}

/** Global L2 norm. */
export function refNorm(t: RefTree): number {
  let s = 0;
  for (const leaf of t) for (const x of leaf) s += x * x;
  return Math.sqrt(s);
}

/** optax clip_by_global_norm: unchanged below the bound, rescaled to it above. */
export function refClip(g: RefTree, maxNorm: number): RefTree {
  const n = refNorm(g);
  return n < maxNorm ? g : refMap((x) => (x * maxNorm) / n, g);
}

/** A reference optimizer: returns the update to add to θ, given g and θ. */
export interface RefOptimizer {
  step(g: RefTree, params: RefTree): RefTree;
}

/** PyTorch SGD (dampening 0): buf = μ·buf + g; d = g + μ·buf (Nesterov) or buf; θ −= lr·d. */
export function refSgd(
  lr: number | ((t: number) => number),
  momentum = 0,
  nesterov = false,
  weightDecay = 0,
): RefOptimizer {
  let buf: RefTree | null = null;
  let t = 0;
  return {
    step(raw, params) {
      const rate = typeof lr === "number" ? lr : lr(t);
      t++;
      // PyTorch SGD: the L2 term joins the gradient before momentum
      const g = weightDecay === 0 ? raw : refMap((x, p) => x + weightDecay * p, raw, params);
      let d = g;
      if (momentum !== 0) {
        buf =
          buf === null
            ? g.map((x) => Float64Array.from(x))
            : refMap((b, x) => momentum * b + x, buf, g);
        const b = buf;
        d = nesterov ? refMap((x, bb) => x + momentum * bb, g, b) : b;
      }
      return refMap((x) => -rate * x, d);
    },
  };
}

/** Options of {@link refAdam}. */
export interface RefAdamOptions {
  lr: number | ((t: number) => number);
  b1?: number;
  b2?: number;
  eps?: number;
  /** Decoupled (AdamW) weight decay. */
  weightDecay?: number;
  /** Per-leaf: decay this leaf? */
  mask?: boolean[];
}

/**
 * PyTorch Adam / AdamW: m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²;
 * θ ← θ − lr·wd·θ − lr·(m/(1−b1^t)) / (√(v/(1−b2^t)) + eps).
 */
export function refAdam({
  lr,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-8,
  weightDecay = 0,
  mask,
}: RefAdamOptions): RefOptimizer {
  let m: RefTree | null = null;
  let v: RefTree | null = null;
  let t = 0;
  return {
    step(g, params) {
      const rate = typeof lr === "number" ? lr : lr(t);
      t++;
      m = refMap((mm, x) => b1 * mm + (1 - b1) * x, m ?? refMap(() => 0, g), g);
      v = refMap((vv, x) => b2 * vv + (1 - b2) * x * x, v ?? refMap(() => 0, g), g);
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      const adamStep = refMap((mm, vv) => mm / bc1 / (Math.sqrt(vv / bc2) + eps), m, v);
      return adamStep.map((leaf, i) =>
        leaf.map((a, j) => {
          const decay = mask === undefined || mask[i] ? weightDecay * params[i][j] : 0;
          return -rate * (a + decay);
        }),
      );
    },
  };
}

/** Add an update to parameters. */
export function refApply(params: RefTree, update: RefTree): RefTree {
  return refMap((p, u) => p + u, params, update);
}
