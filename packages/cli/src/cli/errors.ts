/**
 * Error and exit-code conventions shared by every `ghosts` command.
 *
 * Nothing ever prints a stack trace: each failure becomes one line `ghosts: <message>` on
 * stderr. Exit codes: 0 success, 1 internal error (a bug), 2 bad input or arguments.
 */
import { CommanderError } from "commander";

/** Exit status: success. */
export const EXIT_OK = 0;
/** Exit status: internal error (a bug in ghosts, not in the input). */
export const EXIT_INTERNAL = 1;
/** Exit status: bad input, bad arguments or an unreadable file. */
export const EXIT_USAGE = 2;

/** An expected failure with a message meant for the user and an exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_USAGE,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Bad input or arguments (exit 2). Throw it from any command. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = "UsageError";
  }
}

/** Collapses a message onto one line (commander adds "(Did you mean …?)" on a new line). */
function oneLine(message: string): string {
  return message.replace(/\s*\r?\n\s*/g, " ").trim();
}

/**
 * Maps any thrown value to the one-line message and the exit status: `CliError` keeps its
 * own; commander's parse errors are usage errors (exit 2) minus their "error: " prefix, and
 * help/version displays exit 0 with no message; anything else is an internal error (exit 1).
 */
export function describeError(err: unknown): { message: string | null; exitCode: number } {
  if (err instanceof CliError) return { message: oneLine(err.message), exitCode: err.exitCode };
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return { message: null, exitCode: EXIT_OK };
    if (err.code === "commander.help" || err.code === "commander.executeSubCommandAsync") {
      return { message: "missing command; see 'ghosts --help'", exitCode: EXIT_USAGE };
    }
    return { message: oneLine(err.message.replace(/^error:\s*/, "")), exitCode: EXIT_USAGE };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${oneLine(text)}`, exitCode: EXIT_INTERNAL };
}

/** Writes the one-line report of `err` to `stderr` and returns its exit status. */
export function reportError(err: unknown, stderr: { write(chunk: string): unknown }): number {
  const { message, exitCode } = describeError(err);
  if (message !== null) stderr.write(`ghosts: ${message}\n`);
  return exitCode;
}
