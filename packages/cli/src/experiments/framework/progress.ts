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

/** `12.3 s`, `4 min 05 s`, `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/**
 * A progress reporter writing to `stream`: a bar when `stream.isTTY` (or `opts.tty`) is
 * true, plain lines otherwise.
 */
export function createProgressReporter(
  stream: ProgressStream,
  opts: { tty?: boolean } = {},
): ProgressReporter {
  return (opts.tty ?? stream.isTTY === true) ? barReporter(stream) : lineReporter(stream);
}

function lineReporter(stream: ProgressStream): ProgressReporter {
  let started = 0;
  return {
    onEvent(e) {
      switch (e.type) {
        case "plan":
          started = Date.now();
          stream.write(
            `${e.experiment}: ${e.total} runs, ${e.cached} on disk, ${e.toRun} to run` +
              (e.jobs > 1 ? ` on ${e.jobs} threads` : "") +
              "\n",
          );
          break;
        case "stale":
          stream.write(`${e.experiment}: recomputing ${e.key} (${e.reason})\n`);
          break;
        case "run-done": {
          const elapsed = (Date.now() - started) / 1000;
          const eta =
            e.done < e.toRun
              ? `, ETA ${formatDuration((elapsed / e.done) * (e.toRun - e.done))}`
              : "";
          stream.write(
            `${e.experiment}: [${e.done}/${e.toRun}] ${e.key} in ${formatDuration(e.seconds)}${eta}\n`,
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

function barReporter(stream: ProgressStream): ProgressReporter {
  let bar: SingleBar | null = null;
  let done = 0;
  const fractions = new Map<number, number>();
  const value = () => done + [...fractions.values()].reduce((a, b) => a + b, 0);
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    onEvent(e) {
      switch (e.type) {
        case "plan":
          stop();
          done = 0;
          fractions.clear();
          stream.write(
            `${e.experiment}: ${e.total} runs, ${e.cached} on disk, ${e.toRun} to run` +
              (e.jobs > 1 ? ` on ${e.jobs} threads` : "") +
              "\n",
          );
          if (e.toRun > 0) {
            bar = new SingleBar({
              stream: stream as NodeJS.WritableStream,
              format: `${e.experiment} {bar} {percentage}% | {done}/{toRun} runs | ETA {eta_formatted} | {key}`,
              barsize: 30,
              hideCursor: false,
              clearOnComplete: false,
              etaBuffer: 50,
              fps: 5,
            });
            bar.start(e.toRun, 0, { done: 0, toRun: e.toRun, key: "" });
          }
          break;
        case "stale":
          if (bar === null) stream.write(`${e.experiment}: recomputing ${e.key} (${e.reason})\n`);
          break;
        case "run-start":
          bar?.update(value(), { key: e.key });
          break;
        case "run-progress":
          fractions.set(e.index, e.fraction);
          bar?.update(value());
          break;
        case "run-done":
          fractions.delete(e.index);
          done = e.done;
          bar?.update(value(), { done });
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
