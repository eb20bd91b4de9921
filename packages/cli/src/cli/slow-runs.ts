/**
 * Progress lines for long runs when stderr is not a terminal (logs, CI, pipes), where the
 * runner's display prints one line per *finished* run: on a large data set a single run can
 * take many minutes, and nothing would be said meanwhile. From the run's own progress
 * events (the fraction of its steps done) this measures the pace of the run on the actual
 * data and model (over the later half of the run so far, so compilation and warm-up in the
 * first steps do not count), then prints the time the run is expected to need, and a line at most
 * every `intervalSeconds` while it runs — or, for a run that reports no fraction, that it is
 * still running.
 *
 * @module
 */
import { formatDuration, type RunnerEvent } from "../experiments/framework/index.js";

/** Options of {@link createSlowRunNotes}. */
export type SlowRunNotesOptions = {
  /** Note every run (set for large data sets); otherwise only runs expected to be slow. */
  always?: boolean;
  /** Without `always`: a run is slow when it is expected to take at least this (default 60 s). */
  minSeconds?: number;
  /** Seconds between two lines about one run, and of silence before "still running" (default 30). */
  intervalSeconds?: number;
  /** Milliseconds since some origin (default `performance.now`); tests pass a fake clock. */
  now?: () => number;
  /** Starts a timer calling {@link SlowRunNotes.tick} every `intervalSeconds` (default true). */
  timer?: boolean;
};

/** Feed it the runner's events; `tick` checks for silent runs; `stop` ends the timer. */
export type SlowRunNotes = {
  onEvent(event: RunnerEvent): void;
  /** Writes "still running" for runs silent for `intervalSeconds` (the timer calls it). */
  tick(): void;
  stop(): void;
};

/**
 * A pace is only trusted once measured over this much of the run, this long, and over at
 * least two intervals between progress reports (the first interval often holds one-off
 * work: compilation, a first evaluation).
 */
const MIN_FRACTION = 0.005;
const MIN_SECONDS = 1;
const MIN_INTERVALS = 2;
/** Reports kept per run; beyond it every other one is dropped. */
const MAX_POINTS = 512;

type Running = {
  key: string;
  startedAt: number;
  /** First progress report: the pace is measured from it, so set-up time is left out. */
  first: { t: number; f: number } | null;
  last: { t: number; f: number } | null;
  /** Progress reports after the first. */
  intervals: number;
  /** Reports so far (thinned when long): the pace is that of the later half of them. */
  points: { t: number; f: number }[];
  /** Seconds per whole run at the measured pace (once measured). */
  perRun: number | null;
  noted: boolean;
  lastLine: number;
};

type Plan = { toRun: number; done: number; jobs: number };

/**
 * Slow-run notes written to `stream`, one line each, prefixed by the experiment id:
 *
 * `lr-spike: s0-plain: 4% after 1 min 02 s; at the measured 2.3 s per 1% this run needs
 * about 3 min 41 s more, the 5 runs waiting about 19 min 10 s more`
 */
export function createSlowRunNotes(
  stream: { write(chunk: string): unknown },
  opts: SlowRunNotesOptions = {},
): SlowRunNotes {
  const now = opts.now ?? (() => performance.now());
  const interval = (opts.intervalSeconds ?? 30) * 1000;
  const minSeconds = opts.minSeconds ?? 60;
  const runs = new Map<string, Map<number, Running>>();
  const plans = new Map<string, Plan>();
  const runsOf = (id: string) => {
    const m = runs.get(id) ?? new Map<number, Running>();
    runs.set(id, m);
    return m;
  };

  const paceLine = (id: string, r: Running, t: number): string => {
    const last = r.last!;
    const per = r.perRun!;
    const pct = Math.floor(last.f * 100);
    const left = (1 - last.f) * per;
    const plan = plans.get(id);
    const running = runsOf(id).size;
    const waiting = plan === undefined ? 0 : Math.max(0, plan.toRun - plan.done - running);
    const rest =
      waiting > 0
        ? `, the ${waiting} run${waiting === 1 ? "" : "s"} waiting about ${formatDuration((waiting * per) / Math.max(1, plan?.jobs ?? 1))} more if they cost the same`
        : "";
    return (
      `${id}: ${r.key}: ${pct}% after ${formatDuration((t - r.startedAt) / 1000)}; ` +
      `at the measured ${formatDuration(per / 100)} per 1% this run needs about ${formatDuration(left)} more${rest}\n`
    );
  };

  const onProgress = (id: string, index: number, fraction: number) => {
    const r = runsOf(id).get(index);
    if (r === undefined) return;
    const t = now();
    if (r.first === null) {
      r.first = { t, f: fraction };
      r.last = r.first;
      r.points.push(r.first);
      return;
    }
    r.last = { t, f: fraction };
    r.intervals++;
    r.points.push(r.last);
    if (r.points.length > MAX_POINTS) r.points = r.points.filter((_, i) => i % 2 === 0);
    const df = fraction - r.first.f;
    const dt = (t - r.first.t) / 1000;
    if (df < MIN_FRACTION || dt < MIN_SECONDS || r.intervals < MIN_INTERVALS || fraction >= 1)
      return;
    // the later half: early steps can be slower (compilation, warm-up) or the load change
    const from = r.points[Math.floor((r.points.length - 1) / 2)]!;
    const wf = fraction - from.f;
    const wt = (t - from.t) / 1000;
    r.perRun = wf > 0 && wt > 0 ? wt / wf : dt / df;
    const slow = opts.always === true || r.perRun >= minSeconds;
    if (!slow) return;
    if (!r.noted || t - r.lastLine >= interval) {
      stream.write(paceLine(id, r, t));
      r.noted = true;
      r.lastLine = t;
    }
  };

  const tick = () => {
    const t = now();
    for (const [id, m] of runs) {
      for (const r of m.values()) {
        if (t - r.lastLine < interval) continue;
        r.lastLine = t;
        if (r.perRun !== null && (opts.always === true || r.perRun >= minSeconds)) {
          stream.write(paceLine(id, r, t));
        } else if (r.perRun === null) {
          const pct = r.last === null ? "no step timed yet" : `${Math.floor(r.last.f * 100)}% done`;
          stream.write(
            `${id}: ${r.key}: still running after ${formatDuration((t - r.startedAt) / 1000)} (${pct})\n`,
          );
        }
      }
    }
  };

  const handle =
    opts.timer === false
      ? null
      : setInterval(tick, Math.max(1000, Math.min(interval, 10_000))).unref();

  return {
    onEvent(e) {
      switch (e.type) {
        case "plan":
          plans.set(e.experiment, { toRun: e.toRun, done: 0, jobs: e.jobs });
          break;
        case "run-start": {
          const t = now();
          runsOf(e.experiment).set(e.index, {
            key: e.key,
            startedAt: t,
            first: null,
            last: null,
            intervals: 0,
            points: [],
            perRun: null,
            noted: false,
            lastLine: t,
          });
          break;
        }
        case "run-progress":
          onProgress(e.experiment, e.index, e.fraction);
          break;
        case "run-done": {
          runsOf(e.experiment).delete(e.index);
          const p = plans.get(e.experiment);
          if (p !== undefined) p.done = e.done;
          break;
        }
        case "run-failed":
          runsOf(e.experiment).delete(e.index);
          break;
        default:
          break;
      }
    },
    tick,
    stop() {
      if (handle !== null) clearInterval(handle);
    },
  };
}
