/**
 * The `ghosts` program, runnable in-process: `main(argv, io)` parses the arguments, runs one
 * command against the injected streams and resolves to the exit status — it never throws
 * and never calls `process.exit`.
 */
import { createRequire } from "node:module";
import { Command } from "commander";
import { COMMANDS } from "./commands/index.js";
import { releaseDevice } from "./device.js";
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

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

/** `unknown command 'nosuch' (commands: radius, explain, …)`, or with a close match a suggestion. */
function unknownCommand(name: string, names: string[]): string {
  const best = names.map((n) => ({ n, d: editDistance(name, n) })).sort((a, b) => a.d - b.d)[0];
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  if (best !== undefined && best.d <= Math.max(1, Math.floor(best.n.length / 3))) {
    return `unknown command ${shown}; did you mean '${best.n}'?`;
  }
  return `unknown command ${shown}; commands: ${names.join(", ")}`;
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
      // commander writes to stderr only the help it shows on an error (a missing command);
      // main() reports that error as one line instead
      writeErr: () => {},
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
    if (argv[0] === "help" && argv.length > 1) {
      const names = program.commands.map((c) => c.name());
      if (!names.includes(argv[1])) {
        io.stderr.write(`ghosts: ${unknownCommand(argv[1], names)}\n`);
        return EXIT_USAGE;
      }
    }
    await program.parseAsync([...argv], { from: "user" });
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io.stderr);
  } finally {
    releaseDevice();
  }
}
