/**
 * Injectable input/output for the CLI, so commands run in-process in tests and against the
 * real process streams in the binary.
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "./errors.js";

/** Something text can be written to (process.stdout, a test buffer). */
export interface TextSink {
  write(chunk: string): unknown;
}

/** The streams a command may use. */
export interface CliIO {
  /** The whole of standard input as text; only called by commands that read stdin. */
  readStdin(): Promise<string>;
  stdout: TextSink;
  stderr: TextSink;
}

/** The real process streams. Refuses to wait on an interactive terminal for stdin. */
export function nodeIO(): CliIO {
  return {
    async readStdin() {
      if (process.stdin.isTTY) {
        throw new UsageError("no input: give a file or pipe JSON into standard input");
      }
      process.stdin.setEncoding("utf8");
      let text = "";
      for await (const chunk of process.stdin) text += chunk;
      return text;
    },
    stdout: process.stdout,
    stderr: process.stderr,
  };
}

/** Reads a command's input: the file `path`, or stdin when `path` is absent or "-". */
export async function readSource(path: string | undefined, io: CliIO): Promise<string> {
  if (path === undefined || path === "-") return io.readStdin();
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : code === "EACCES"
            ? "permission denied"
            : (err as Error).message;
    throw new UsageError(`cannot read ${path}: ${why}`);
  }
}

/**
 * One JSON line. Infinity is written as the string "Infinity" (JSON has no such number);
 * a NaN anywhere is a bug and throws.
 */
export function jsonLine(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v) => {
      if (typeof v === "number" && !Number.isFinite(v)) {
        if (Number.isNaN(v)) throw new Error("NaN in output");
        return v > 0 ? "Infinity" : "-Infinity";
      }
      return v;
    }) + "\n"
  );
}
