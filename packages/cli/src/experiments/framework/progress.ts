/**
 * Progress display of the runner's events: a cli-progress bar with ETA on a terminal,
 * one plain line per finished run otherwise (logs, CI, pipes).
 *
 * @module
 */
import { SingleBar } from "cli-progress";
import type { RunnerEvent } from "./runner.js";

/** Where progress goes: a text sink, a terminal when `isTTY` is true. */
export type ProgressStream = { write(chunk: string): unknown; isTTY?: boolean };

/** A progress display: feed it the runner's events, stop it when done or failed. */
export type ProgressReporter = {
  onEvent(event: RunnerEvent): void;
  /** Removes the bar, if one is shown (call it on failure too). */
  stop(): void;
};

/**
 * `4.2 s`, `12 s`, `4 min 05 s`, `1 h 02 min`: rounded once, to the unit shown, so no
 * `60 s` or `1 min 60 s`; `?` for a negative or non-finite number.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.round(seconds / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

/** What {@link estimateEta} knows about an invocation's runs. */
export type EtaInput = {
  /** Threads running them. */
  jobs: number;
  /** Finished runs: relative cost, and seconds they took. */
  done: readonly { cost: number; seconds: number }[];
  /** Runs in flight: relative cost, completed fraction (0..1), seconds since they started. */
  running: readonly { cost: number; fraction: number; seconds: number }[];
  /** Costs of the runs not started yet, in the order they will start. */
  waiting: readonly number[];
};

/**
 * Seconds until the last run finishes, or `null` while too little is known: no run has
 * finished and none in flight has done a tenth of its work (the first steps of a run,
 * compiling kernels, are slower than the rest, and a run that reports no progress tells
 * nothing until it ends).
 *
 * The speed is measured on the work completed so far, in units of relative cost (a run
 * that costs 4 counts as 4 runs that cost 1), per thread: thread-seconds spent over cost
 * completed, by the finished runs and by those in flight past a tenth. A run in flight
 * needs the rest of its work at that speed (or, having reported no progress, its expected
 * time less the time it has run). The waiting runs are then scheduled as the runner does —
 * each on the first thread to become free — and the estimate is when the last thread is
 * done, so a final run that keeps one thread busy while the others idle counts in full.
 */
export function estimateEta(input: EtaInput): number | null {
  const cost = (c: number) => (Number.isFinite(c) && c > 0 ? c : 1);
  const frac = (f: number) => (Number.isFinite(f) ? Math.min(1, Math.max(0, f)) : 0);
  const secs = (t: number) => (Number.isFinite(t) && t > 0 ? t : 0);
  if (input.running.length === 0 && input.waiting.length === 0) return 0;
  const measured = [
    ...input.done.map((r) => ({ work: cost(r.cost), seconds: secs(r.seconds) })),
    ...input.running
      .filter((r) => frac(r.fraction) >= 0.1)
      .map((r) => ({ work: cost(r.cost) * frac(r.fraction), seconds: secs(r.seconds) })),
  ];
  const work = measured.reduce((a, m) => a + m.work, 0);
  const busy = measured.reduce((a, m) => a + m.seconds, 0);
  if (measured.length === 0 || !(work > 0) || !(busy > 0)) return null;
  const perCost = busy / work;
  const jobs = Math.max(1, Math.floor(Number.isFinite(input.jobs) ? input.jobs : 1));
  const free = input.running.map((r) => {
    const f = frac(r.fraction);
    const whole = cost(r.cost) * perCost;
    return f > 0 ? (1 - f) * whole : Math.max(0, whole - secs(r.seconds));
  });
  while (free.length < jobs) free.push(0);
  free.sort((x, y) => x - y);
  for (const c of input.waiting) {
    // the thread that frees first takes the next run; `free` stays sorted
    const t = free.shift()! + cost(c) * perCost;
    const at = free.findIndex((x) => x > t);
    free.splice(at < 0 ? free.length : at, 0, t);
  }
  const eta = Math.max(0, ...free);
  return Number.isFinite(eta) ? eta : null;
}

/** `ETA 3 min 05 s` (`ETA < 1 s` at the end), or `ETA …` while {@link estimateEta} has no estimate yet. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return "ETA …";
  return seconds < 1 ? "ETA < 1 s" : `ETA ${formatDuration(seconds)}`;
}

/**
 * The runs in flight for the progress line: the key of a single run, else
 * `3 running: a, b, c`, cut to `maxChars` with `+N more` (the count always shows).
 */
export function formatRunning(keys: readonly string[], maxChars = 72): string {
  if (keys.length <= 1) return keys[0] ?? "";
  const head = `${keys.length} running: `;
  let text = head + keys[0];
  for (let i = 1; i < keys.length; i++) {
    const more = `, +${keys.length - i} more`;
    const next = `${text}, ${keys[i]}`;
    const rest = keys.length - i - 1;
    if (next.length + (rest > 0 ? `, +${rest} more`.length : 0) > maxChars) return text + more;
    text = next;
  }
  return text;
}

/**
 * What the progress displays know of one experiment's invocation, fed the runner's events:
 * the runs done, in flight (with their progress) and waiting, with their relative costs.
 */
export class ProgressState {
  private jobs = 1;
  private readonly cost = new Map<number, number>();
  private readonly order: number[] = [];
  private readonly finished = new Map<number, { cost: number; seconds: number }>();
  private readonly inFlight = new Map<number, { key: string; started: number; fraction: number }>();
  /** Runs finished, and to run, by this invocation. */
  done = 0;
  toRun = 0;

  /** `now` gives the time in seconds (the tests pass a fake clock). */
  constructor(private readonly now: () => number = () => performance.now() / 1000) {}

  onEvent(e: RunnerEvent): void {
    switch (e.type) {
      case "plan":
        this.jobs = e.jobs;
        this.cost.clear();
        this.order.length = 0;
        this.finished.clear();
        this.inFlight.clear();
        this.done = 0;
        this.toRun = e.toRun;
        for (const q of e.queue) {
          this.cost.set(q.index, q.cost);
          this.order.push(q.index);
        }
        break;
      case "run-start":
        this.inFlight.set(e.index, { key: e.key, started: this.now(), fraction: 0 });
        break;
      case "run-progress": {
        const r = this.inFlight.get(e.index);
        if (r !== undefined) r.fraction = e.fraction;
        break;
      }
      case "run-done":
        this.inFlight.delete(e.index);
        this.finished.set(e.index, { cost: this.costOf(e.index), seconds: e.seconds });
        this.done = e.done;
        this.toRun = e.toRun;
        break;
      case "run-failed":
        this.inFlight.delete(e.index);
        break;
      default:
        break;
    }
  }

  private costOf(index: number): number {
    return this.cost.get(index) ?? 1;
  }

  /** Total relative cost of the runs to execute, and the part completed (for the bar). */
  work(): { total: number; completed: number } {
    const queued = this.order.length > 0;
    const total = queued
      ? this.order.reduce((a, i) => a + this.costOf(i), 0)
      : Math.max(this.toRun, this.done);
    let completed = 0;
    for (const r of this.finished.values()) completed += r.cost;
    for (const [i, r] of this.inFlight) completed += this.costOf(i) * r.fraction;
    return { total, completed: Math.min(completed, total) };
  }

  /** The keys of the runs in flight, in the order they started. */
  running(): string[] {
    return [...this.inFlight.values()].map((r) => r.key);
  }

  /** {@link estimateEta} of the current state. */
  eta(): number | null {
    const t = this.now();
    const started = new Set([...this.finished.keys(), ...this.inFlight.keys()]);
    const waiting =
      this.order.length > 0
        ? this.order.filter((i) => !started.has(i)).map((i) => this.costOf(i))
        : new Array<number>(Math.max(0, this.toRun - this.done - this.inFlight.size)).fill(1);
    return estimateEta({
      jobs: this.jobs,
      done: [...this.finished.values()],
      running: [...this.inFlight].map(([i, r]) => ({
        cost: this.costOf(i),
        fraction: r.fraction,
        seconds: t - r.started,
      })),
      waiting,
    });
  }
}

/**
 * A progress reporter writing to `stream`: a bar when `stream.isTTY` (or `opts.tty`) is
 * true, plain lines otherwise. `opts.now` replaces the clock (seconds), for tests.
 */
export function createProgressReporter(
  stream: ProgressStream,
  opts: { tty?: boolean; now?: () => number } = {},
): ProgressReporter {
  const state = new ProgressState(opts.now);
  return (opts.tty ?? stream.isTTY === true)
    ? barReporter(stream, state)
    : lineReporter(stream, state);
}

function planLine(e: Extract<RunnerEvent, { type: "plan" }>): string {
  return (
    `${e.experiment}: ${e.total} runs, ${e.cached} on disk, ${e.toRun} to run` +
    (e.jobs > 1 ? ` on ${e.jobs} threads` : "") +
    "\n"
  );
}

function lineReporter(stream: ProgressStream, state: ProgressState): ProgressReporter {
  let jobs = 1;
  return {
    onEvent(e) {
      state.onEvent(e);
      switch (e.type) {
        case "plan":
          jobs = e.jobs;
          stream.write(planLine(e));
          break;
        case "stale":
          stream.write(`${e.experiment}: recomputing ${e.key} (${e.reason})\n`);
          break;
        case "run-done": {
          let tail = "";
          if (e.done < e.toRun) {
            const eta = state.eta();
            tail = eta === null ? "" : `, ${formatEta(eta)}`;
            const running = state.running();
            if (jobs > 1 && running.length > 0) tail += `; ${formatRunning(running)}`;
          }
          stream.write(
            `${e.experiment}: [${e.done}/${e.toRun}] ${e.key} in ${formatDuration(e.seconds)}${tail}\n`,
          );
          break;
        }
        case "summary":
          stream.write(`${e.experiment}: finished in ${formatDuration(e.durationSeconds)}\n`);
          break;
        default:
          break;
      }
    },
    stop() {},
  };
}

function barReporter(stream: ProgressStream, state: ProgressState): ProgressReporter {
  let bar: SingleBar | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  const refresh = () => {
    if (bar === null) return;
    const { total, completed } = state.work();
    bar.setTotal(total);
    bar.update(completed, {
      done: state.done,
      estimate: formatEta(state.eta()),
      inFlight: formatRunning(state.running()),
    });
  };
  return {
    onEvent(e) {
      state.onEvent(e);
      switch (e.type) {
        case "plan":
          stop();
          stream.write(planLine(e));
          if (e.toRun > 0) {
            // not the bar's own {eta}/{eta_formatted}: it extrapolates the latest updates of
            // the bar's value, so it reads 0 at the start and ignores threads and run costs
            bar = new SingleBar({
              stream: stream as NodeJS.WritableStream,
              format: `${e.experiment} {bar} {percentage}% | {done}/{toRun} runs | {estimate} | {inFlight}`,
              barsize: 30,
              hideCursor: false,
              clearOnComplete: false,
              fps: 5,
            });
            const { total } = state.work();
            bar.start(total, 0, {
              done: 0,
              toRun: e.toRun,
              estimate: formatEta(null),
              inFlight: "",
            });
          }
          break;
        case "stale":
          if (bar === null) stream.write(`${e.experiment}: recomputing ${e.key} (${e.reason})\n`);
          break;
        case "run-start":
        case "run-progress":
        case "run-done":
          refresh();
          break;
        case "run-failed":
        case "summary":
          stop();
          break;
      }
    },
    stop,
  };
}
