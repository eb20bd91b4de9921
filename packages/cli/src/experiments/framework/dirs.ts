/**
 * The results folder and the files in it, with file-system failures turned into one-line
 * errors that name the path and the reason (a user's problem, not a bug): a parent that is
 * a file, a dangling symbolic link, a file system that refuses folders (procfs, sysfs), no
 * permission, a full disk.
 *
 * Node's `mkdir(…, {recursive: true})` is not used: on procfs it loops forever on ENOENT.
 * Folders are created one level at a time instead, below the deepest one that exists.
 *
 * @module
 */
import { constants } from "node:fs";
import { access, lstat, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

/** The results folder or a file in it cannot be created, read or written. */
export class OutputError extends Error {
  override name = "OutputError";
}

/** A short reason for a failed file-system call, from its error code. */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EROFS":
      return "read-only file system";
    case "ENOTDIR":
      return "a parent is not a directory";
    case "EISDIR":
      return "is a directory";
    case "ENOSPC":
      return "no space left on device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EEXIST":
      return "already exists";
    case "ENAMETOOLONG":
      return "name too long";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return code ?? (err instanceof Error ? err.message : String(err));
  }
}

/**
 * Makes sure `path` is a writable directory, creating it (and missing parents) if needed.
 *
 * @throws {OutputError} naming the path and the reason, at once (never hangs).
 */
export async function ensureDirectory(path: string): Promise<void> {
  if (path.trim() === "") throw new OutputError("the results folder must not be empty");
  const target = resolve(path);
  const missing: string[] = [];
  let cur = target;
  for (;;) {
    let isDir: boolean;
    try {
      const st = await lstat(cur);
      if (st.isSymbolicLink()) {
        try {
          isDir = (await stat(cur)).isDirectory();
        } catch (err) {
          throw new OutputError(`${path}: ${cur} is a symbolic link to nothing (${fsReason(err)})`);
        }
      } else {
        isDir = st.isDirectory();
      }
    } catch (err) {
      if (err instanceof OutputError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const parent = dirname(cur);
      if ((code === "ENOENT" || code === "ENOTDIR") && parent !== cur) {
        if (code === "ENOENT") missing.unshift(cur);
        cur = parent;
        continue;
      }
      throw new OutputError(`${path}: cannot use ${cur}: ${fsReason(err)}`);
    }
    if (!isDir) {
      throw new OutputError(
        cur === target
          ? `${path}: is a file, not a directory`
          : `${path}: ${cur} is a file, not a directory`,
      );
    }
    break;
  }
  // a path below a file: ENOTDIR skipped it above, so what is "missing" may hang off a file
  for (const dir of missing) {
    try {
      await mkdir(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" && (await stat(dir).catch(() => null))?.isDirectory()) continue;
      // ENOENT from mkdir below an existing folder: a file system without folders (procfs)
      const why = code === "ENOENT" ? "the file system there does not allow it" : fsReason(err);
      throw new OutputError(`${path}: cannot create ${dir}: ${why}`);
    }
  }
  try {
    await access(target, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new OutputError(`${path}: cannot write there: ${fsReason(err)}`);
  }
}
