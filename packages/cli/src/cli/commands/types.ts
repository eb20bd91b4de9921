/** The contract every `ghosts` sub-command module implements. */
import type { Command } from "commander";
import type { CliIO } from "../io.js";

/** What a command gets besides its parsed arguments. */
export interface CommandContext {
  io: CliIO;
}

/**
 * One sub-command. `register` adds it to the program with `program.command(name)` (so it
 * inherits the error handling configured on the program) and sets an async action that
 * writes through `ctx.io` and throws a `CliError`/`UsageError` on failure — never calls
 * `process.exit`.
 */
export interface CliCommand {
  name: string;
  register(program: Command, ctx: CommandContext): void;
}
