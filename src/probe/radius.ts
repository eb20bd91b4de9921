/**
 * Set-level radii from directional logit derivatives: which samples to probe (the sample-set
 * strategies of docs/science.md §3/§5), how to aggregate their spreads, and the exact set-level ρ*.
 *
 * Nothing here touches the engine: a {@link Probe} callback turns sample indices into the
 * `a` matrix and logits, so the strategies are testable on plain arrays and reusable by any
 * model backend.
 */
import { rhoTop2 } from "../theory/binary.js";
import { nearestGhost } from "../theory/ghost.js";
import { type Aggregate, aggregateSpreads, rhoAFromSpread, spreads } from "../theory/spread.js";
import { minOf } from "../util/extent.js";
import { Rng } from "../util/random.js";

/** Directional logit derivatives and logits of a set of samples (row-major, n × k). */
export interface ProbeResult {
  /** `a = J_z(x)·v` per sample, n × k row-major. */
  a: Float64Array;
  /** Logits `z(x)` per sample, n × k row-major. */
  logits: Float64Array;
  /** Number of samples (rows). */
  n: number;
  /** Number of classes (columns). */
  k: number;
}

/**
 * Probes a set of training samples along the current direction. `indices` are rows of the
 * training split; `null` means the whole split (lets the backend keep it resident).
 */
export type Probe = (indices: Int32Array | null) => ProbeResult;

/**
 * Which samples a step's radius is computed over.
 * - `"batch"`: the current mini-batch (cheapest, least conservative);
 * - `"train"`: the whole training split (the paper's choice; the guarantee for every sample);
 * - `{random: N}`: a fresh seeded random subset of N training samples each step;
 * - `{window: W}`: the batch radius, then the minimum over the last W steps (smooths the
 *   batch-to-batch noise of the batch estimate from below);
 * - `{bottleneck: B}`: the batch plus a buffer of the B samples with the largest Δ_a seen
 *   recently; the buffer is always probed and refreshed with the current largest spreads,
 *   because the samples that bind tend to keep binding.
 */
export type SampleSet =
  | "batch"
  | "train"
  | { random: number }
  | { window: number }
  | { bottleneck: number };

/**
 * Which radius a report hands to the controller (the calibration study's question):
 * - `"rhoA"`: `π / aggregate(Δ_a)`, the guaranteed lower bound (default);
 * - `"rhoStar"`: the exact set-level ρ* (certified ghost search over the probed samples);
 * - `"top2"`: `min_i ρ_top2(x_i)` over the probed samples, the per-sample label/rival
 *   estimate — not a bound, it may exceed ρ*.
 */
export type RadiusDrive = "rhoA" | "rhoStar" | "top2";

/** Options of a {@link RadiusEstimator}. */
export interface RadiusOptions {
  /** Which samples to probe (default `"train"`). */
  sampleSet?: SampleSet;
  /** How spreads are reduced: `"max"` (the bound, default) or `{quantile: q}`. */
  aggregate?: Aggregate;
  /** Also compute the exact set-level ρ* by certified ghost search (default false). */
  exact?: boolean;
  /** Seed of the random-subset stream (default 0). */
  seed?: number;
  /** Which radius {@link RadiusReport.driven} holds (default `"rhoA"`). */
  drive?: RadiusDrive;
  /** Labels of the training split by row; `drive: "top2"` needs them (its pair is label/rival). */
  labels?: ArrayLike<number>;
}

/** What one radius evaluation found. */
export interface RadiusReport {
  /** `π / aggregate(Δ_a)` over the probed samples (after the window minimum, if any). */
  rhoA: number;
  /** The aggregated spread the radius came from (before windowing). */
  spread: number;
  /** Number of samples probed this step. */
  samples: number;
  /** Training-split index of the sample with the largest spread. */
  bindingSample: number;
  /** Exact set-level ρ* (min over probed samples of the nearest ghost), when asked for. */
  rhoStar?: number;
  /** Whether every ghost that decided {@link rhoStar} carried its certificate. */
  certified?: boolean;
  /** `min_i ρ_top2(x_i)` over the probed samples, when `drive` is `"top2"`. */
  rhoTop2?: number;
  /**
   * The radius a controller should use, per the `drive` option: {@link rhoA} (windowed as
   * usual), or the probed set's {@link rhoStar} or {@link rhoTop2} (never windowed).
   */
  driven: number;
}

/** The exact set-level radius and how it was found. */
export interface SetRhoStar {
  /** `min_i ρ*(x_i)`; Infinity when no sample has a ghost. */
  rhoStar: number;
  /** Row whose ghost is nearest (-1 when none). */
  row: number;
  /** Number of per-sample ghost searches actually run. */
  solved: number;
  /** All solved ghosts were certified. */
  certified: boolean;
}

/** First row of the probe's slopes holding a non-finite entry, or −1. */
function firstNonFiniteRow(probe: ProbeResult): number {
  for (let i = 0; i < probe.a.length; i++) {
    if (!Number.isFinite(probe.a[i])) return Math.floor(i / probe.k);
  }
  return -1;
}

/**
 * Exact set-level radius `min_i ρ*(x_i)` with exact pruning: since `ρ*(x_i) ≥ π/Δ_i`
 * (docs/science.md §2), samples visited in order of decreasing spread can stop as soon as `π/Δ_i`
 * reaches the best ρ* so far — no later sample can beat it. Usually only a handful of
 * ghost searches run even over the full training split.
 */
export function setRhoStar(probe: ProbeResult, rowSpreads?: Float64Array): SetRhoStar {
  const { n, k } = probe;
  const s = rowSpreads ?? spreads({ data: probe.a, n, k });
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => s[j] - s[i]);
  let best = Number.POSITIVE_INFINITY;
  let row = -1;
  let solved = 0;
  let certified = true;
  for (const i of order) {
    if (rhoAFromSpread(s[i]) >= best) break;
    const g = nearestGhost(
      probe.logits.subarray(i * k, (i + 1) * k),
      probe.a.subarray(i * k, (i + 1) * k),
    );
    solved++;
    certified &&= g.certified;
    if (g.modulus < best) {
      best = g.modulus;
      row = i;
    }
  }
  return { rhoStar: best, row, solved, certified };
}

function checkPositiveInt(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
}

/** Checks a {@link SampleSet} value and throws a one-line RangeError naming the problem. */
export function validateSampleSet(set: SampleSet): void {
  if (set === "batch" || set === "train") return;
  if (typeof set === "object" && set !== null) {
    const [key, value] = Object.entries(set)[0] ?? [];
    if (key === "random" || key === "window" || key === "bottleneck") {
      checkPositiveInt(value, `sampleSet.${key}`);
      return;
    }
  }
  throw new RangeError(`unknown sample set ${JSON.stringify(set)}`);
}

/** A short human-readable name of a sample set ("train", "random:256", …). */
export function sampleSetName(set: SampleSet): string {
  if (typeof set === "string") return set;
  const [key, value] = Object.entries(set)[0];
  return `${key}:${value}`;
}

/**
 * Stateful radius estimator: one instance per training run, called once per step with the
 * step's probe and batch. Holds the window history and the bottleneck buffer.
 */
export class RadiusEstimator {
  readonly sampleSet: SampleSet;
  readonly aggregate: Aggregate;
  readonly exact: boolean;
  readonly drive: RadiusDrive;
  private readonly labels: ArrayLike<number> | null;
  private readonly trainSize: number;
  private readonly rng: Rng;
  private readonly windowHistory: number[] = [];
  private buffer: Int32Array = new Int32Array(0);

  /** @param trainSize number of samples in the training split (indices are `0..trainSize-1`). */
  constructor(trainSize: number, options: RadiusOptions = {}) {
    checkPositiveInt(trainSize, "trainSize");
    this.sampleSet = options.sampleSet ?? "train";
    validateSampleSet(this.sampleSet);
    this.aggregate = options.aggregate ?? "max";
    if (typeof this.aggregate === "object") {
      const q = this.aggregate.quantile;
      if (!(q > 0 && q <= 1))
        throw new RangeError(`aggregate quantile must be in (0, 1], got ${q}`);
    }
    this.exact = options.exact ?? false;
    this.drive = options.drive ?? "rhoA";
    if (this.drive !== "rhoA" && this.drive !== "rhoStar" && this.drive !== "top2") {
      throw new RangeError(`unknown radius drive ${JSON.stringify(this.drive)}`);
    }
    this.labels = options.labels ?? null;
    if (this.drive === "top2" && (this.labels === null || this.labels.length < trainSize)) {
      throw new RangeError(`drive "top2" needs the labels of all ${trainSize} training samples`);
    }
    this.trainSize = trainSize;
    this.rng = new Rng(options.seed ?? 0).fork("radius-subset");
  }

  /** The training-split rows this step probes (`null` = the whole split). */
  private indicesFor(batch: Int32Array): Int32Array | null {
    const set = this.sampleSet;
    if (set === "train") return null;
    if (set === "batch" || "window" in set) return batch;
    if ("random" in set) {
      const m = Math.min(set.random, this.trainSize);
      return this.rng.permutation(this.trainSize).subarray(0, m).slice().sort();
    }
    // Bottleneck: the batch plus the buffer, without duplicates.
    const merged = new Set<number>(batch);
    for (const i of this.buffer) merged.add(i);
    return Int32Array.from(merged);
  }

  /**
   * Radius of one step: probes the chosen samples along the step's direction and reduces
   * their spreads. `batch` holds the step's mini-batch rows of the training split.
   */
  estimate(probe: Probe, batch: Int32Array): RadiusReport {
    const indices = this.indicesFor(batch);
    const result = probe(indices);
    const blownUp = firstNonFiniteRow(result);
    if (blownUp >= 0) {
      // Slopes that overflowed (or are NaN) along this step: no step length is safe. The
      // theory functions refuse non-finite input, so the radius is set here: 0.
      const row = indices === null ? blownUp : indices[blownUp];
      return {
        rhoA: 0,
        spread: Number.POSITIVE_INFINITY,
        samples: result.n,
        bindingSample: row,
        driven: 0,
      };
    }
    const s = spreads({ data: result.a, n: result.n, k: result.k });
    const aggregated = aggregateSpreads(s, this.aggregate);
    let argmax = 0;
    for (let i = 1; i < s.length; i++) if (s[i] > s[argmax]) argmax = i;
    const rowIndex = (i: number) => (indices === null ? i : indices[i]);
    let rho = rhoAFromSpread(aggregated);

    const set = this.sampleSet;
    if (typeof set === "object" && "window" in set) {
      this.windowHistory.push(rho);
      if (this.windowHistory.length > set.window) this.windowHistory.shift();
      rho = minOf(this.windowHistory);
    } else if (typeof set === "object" && "bottleneck" in set) {
      const order = Array.from({ length: s.length }, (_, i) => i).sort((i, j) => s[j] - s[i]);
      this.buffer = Int32Array.from(order.slice(0, set.bottleneck), rowIndex);
    }

    const report: RadiusReport = {
      rhoA: rho,
      spread: aggregated,
      samples: result.n,
      bindingSample: rowIndex(argmax),
      driven: rho,
    };
    if (this.exact || this.drive === "rhoStar") {
      const star = setRhoStar(result, s);
      report.rhoStar = star.rhoStar;
      report.certified = star.certified;
      if (this.drive === "rhoStar") report.driven = star.rhoStar;
    }
    if (this.drive === "top2") {
      const labels = this.labels as ArrayLike<number>;
      const k = result.k;
      let best = Number.POSITIVE_INFINITY;
      for (let i = 0; i < result.n; i++) {
        const z = result.logits.subarray(i * k, (i + 1) * k);
        const a = result.a.subarray(i * k, (i + 1) * k);
        best = Math.min(best, rhoTop2(z, a, labels[rowIndex(i)]));
      }
      report.rhoTop2 = best;
      report.driven = best;
    }
    return report;
  }

  /** Current bottleneck buffer (training-split rows), for telemetry and tests. */
  bufferRows(): Int32Array {
    return this.buffer.slice();
  }
}
