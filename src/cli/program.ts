/**
 * The `ghosts` program, runnable in-process: `main(argv, io)` parses the arguments, runs one
 * command against the injected streams and resolves to the exit status — it never throws
 * and never calls `process.exit`.
 */
import { createRequire } from "node:module";
import { Command } from "commander";
import { COMMANDS } from "./commands/index.js";
import { EXIT_OK, EXIT_USAGE, reportError } from "./errors.js";
import { type CliIO, nodeIO } from "./io.js";

function packageVersion(): string {
  try {
    const pkg = createRequire(import.meta.url)("../../package.json") as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** Builds the commander program with every command of {@link COMMANDS} registered. */
export function buildProgram(io: CliIO): Command {
  const program = new Command("ghosts")
    .description(
      "Safe step sizes for softmax cross-entropy: Taylor convergence radii from the complex " +
        "zeros of the partition function.",
    )
    .version(packageVersion(), "-V, --version")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // errors are reported once, by main(), as "ghosts: <message>"
      outputError: () => {},
    });
  for (const command of COMMANDS) command.register(program, { io });
  return program;
}

/**
 * Runs `ghosts` with `argv` (the arguments after the program name) and returns the exit
 * status: 0 success, 1 internal error, 2 bad input or arguments. Any failure is written to
 * `io.stderr` as one line `ghosts: <message>`.
 */
export async function main(argv: readonly string[], io: CliIO = nodeIO()): Promise<number> {
  try {
    const program = buildProgram(io);
    if (argv.length === 0) {
      io.stderr.write("ghosts: missing command; see 'ghosts --help'\n");
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io.stderr);
  }
}
