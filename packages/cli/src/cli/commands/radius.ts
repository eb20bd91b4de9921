/**
 * `ghosts radius [file] [--quantile q]`: per-sample and set-level radii for records of
 * logits and directional slopes, one JSON line out per record in.
 */
import {
  type Aggregate,
  nearestGhost,
  rhoA,
  rhoASet,
  rhoTop2,
  spread,
} from "softmax-ghosts/theory";
import { CliError, EXIT_INTERNAL, UsageError } from "../errors.js";
import { type CliIO, jsonLine, readSource } from "../io.js";
import { type NumpySources, numpyMode, readNumpyRecord } from "../numpy-input.js";
import { type SampleRecord, splitRecords, validateRecord } from "../records.js";
import type { CliCommand } from "./types.js";

/** Per-sample output of `ghosts radius`. */
export interface SampleRadius {
  /** `max a − min a`; Infinity only when it overflows float64 (the radii are then rescaled). */
  spread: number;
  rhoA: number;
  rhoStar: number;
  /**
   * Nearest ghost, `im ≥ 0`; `null` when all slopes are equal (no ghost at all) or when the
   * ghost lies beyond the float64 range ({@link SampleRadius.beyondRange}).
   */
  ghost: { re: number; im: number } | null;
  certified: boolean;
  rhoTop2: number;
  /**
   * Present (true) only when a ghost exists but is farther than float64 can express (a
   * subnormal spread): `rhoStar`/`rhoA` "Infinity" then mean "too far to represent", not
   * "no zero".
   */
  beyondRange?: true;
}

/** Output line of `ghosts radius` for one record. */
export interface RecordRadius {
  samples: SampleRadius[];
  /** π / max spread, or π / quantile of the spreads with `--quantile`. */
  rhoA: number;
  /** Minimum per-sample ρ*. */
  rhoStar: number;
}

/** Parses `--quantile`: a number in (0, 1]. */
export function parseQuantile(text: string | undefined): Aggregate {
  if (text === undefined) return "max";
  const q = text.trim() === "" ? Number.NaN : Number(text);
  if (!(q > 0 && q <= 1)) {
    throw new UsageError(`--quantile must be a number in (0, 1], got '${text}'`);
  }
  return { quantile: q };
}

/** Radii of one validated record. */
export function radiusOfRecord(rec: SampleRecord, aggregate: Aggregate): RecordRadius {
  let rhoStar = Number.POSITIVE_INFINITY;
  const samples = rec.logits.map((z, i): SampleRadius => {
    const a = rec.slopes[i];
    const s = spread(a);
    // Equal slopes: F(t) = e^{a t}·Σ e^{z_k} never vanishes, so there is no ghost.
    const g = s === 0 ? null : nearestGhost(z, a);
    const far = g !== null && !Number.isFinite(g.modulus);
    const star = g === null ? Number.POSITIVE_INFINITY : g.modulus;
    if (star < rhoStar) rhoStar = star; // a loop: Math.min(...xs) overflows the stack
    const out: SampleRadius = {
      spread: s,
      rhoA: rhoA(a),
      rhoStar: star,
      ghost: g === null || far ? null : { re: g.re, im: g.im },
      certified: g === null ? true : g.certified,
      rhoTop2: rhoTop2(z, a, rec.labels?.[i]),
    };
    if (far) out.beyondRange = true;
    return out;
  });
  return { samples, rhoA: rhoASet(rec.slopes, { aggregate }), rhoStar };
}

async function runRadius(
  file: string | undefined,
  opts: { quantile?: string } & NumpySources,
  io: CliIO,
): Promise<void> {
  const aggregate = parseQuantile(opts.quantile);
  const mode = numpyMode(file, opts);
  if (mode !== "json") {
    const record = await readNumpyRecord(opts, mode === "npz" ? file : undefined);
    io.stdout.write(jsonLine(radiusOfRecord(record, aggregate)));
    return;
  }
  const text = await readSource(file, io);
  for (const raw of splitRecords(text)) {
    const record = validateRecord(raw);
    let line: string;
    try {
      line = jsonLine(radiusOfRecord(record, aggregate));
    } catch (err) {
      // valid input that the computation could not handle is our bug, not the user's
      const why = err instanceof Error ? err.message : String(err);
      throw new CliError(`line ${raw.line}: internal error: ${why}`, EXIT_INTERNAL);
    }
    io.stdout.write(line);
  }
}

/** `ghosts radius [file] [--quantile q]`. */
export const radiusCommand: CliCommand = {
  name: "radius",
  register(program, { io }) {
    program
      .command("radius")
      .summary("per-sample and set-level radii (ρ_a, exact ρ*, top-2) from logits and slopes")
      .description(
        [
          "Reads JSON from FILE (or stdin): one object, or JSON Lines of objects",
          '  {"logits": number[] | number[][],',
          '   "slopes": <same shape>, "labels"?: number | number[]}',
          "(a row of logits is one sample; a 1-D array is one sample). Writes one",
          "JSON line per object:",
          '  {"samples": [{"spread", "rhoA", "rhoStar", "ghost": {"re", "im"},',
          '                "certified", "rhoTop2"}, ...], "rhoA", "rhoStar"}',
          'Infinity is written as the string "Infinity"; "ghost" is null when all',
          "slopes of a sample are equal, or when the ghost lies beyond the float64",
          'range (then the sample also has "beyondRange": true). Bad input: one line',
          "on stderr naming the",
          "record's line, exit status 2; the records before it are still written.",
          "NumPy input: --logits a.npy --slopes b.npy [--labels c.npy], or one FILE.npz",
          "with arrays named logits, slopes (and labels); shape (..., K) is rows of K.",
        ].join("\n"),
      )
      .argument("[file]", "input file; stdin when absent or '-'")
      .option(
        "-q, --quantile <q>",
        "set-level rhoA from the q-quantile of the spreads instead of the max (0 < q <= 1)",
      )
      .option("--logits <file>", "logits as .npy (or .npz), shape (K,) or (..., K)")
      .option("--slopes <file>", "slopes a = J_z·v as .npy (or .npz), same shape as the logits")
      .option("--labels <file>", "class indices as .npy (or .npz), one per row (optional)")
      .action((file: string | undefined, opts: { quantile?: string } & NumpySources) =>
        runRadius(file, opts, io),
      );
  },
};
