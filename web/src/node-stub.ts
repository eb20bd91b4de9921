/**
 * Stand-ins for the Node built-ins some library modules import (file access, worker threads).
 * The explorer never calls those code paths; if one is reached anyway it fails with a clear
 * message instead of a missing-export error at load time.
 */
function unavailable(name: string): never {
  throw new Error(`${name} is not available in the browser`);
}

const fn =
  (name: string) =>
  (..._args: unknown[]): never =>
    unavailable(name);

export const readFileSync = fn("fs.readFileSync");
export const existsSync = (): boolean => false;
export const statSync = fn("fs.statSync");
export const readFile = fn("fs.readFile");
export const readdir = fn("fs.readdir");
export const writeFile = fn("fs.writeFile");
export const rename = fn("fs.rename");
export const unlink = fn("fs.unlink");
export const mkdir = fn("fs.mkdir");
export const access = fn("fs.access");
export const lstat = fn("fs.lstat");
export const stat = fn("fs.stat");
export const rmdir = fn("fs.rmdir");
export const constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };
export const gunzipSync = fn("zlib.gunzipSync");
export const gzipSync = fn("zlib.gzipSync");
export const inflateRawSync = fn("zlib.inflateRawSync");
export const createRequire = fn("module.createRequire");
export const randomBytes = fn("crypto.randomBytes");
export const fileURLToPath = (u: string | URL): string => String(u);
export const pathToFileURL = (p: string): URL => new URL(p, "file:///");
export const join = (...parts: string[]): string => parts.join("/").replace(/\/+/g, "/");
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, "") || "/";
export const basename = (p: string): string => p.replace(/^.*\//, "");
export const resolve = join;
export const sep = "/";
export const cpus = (): unknown[] => [];
export const availableParallelism = (): number => 1;
export const threadId = 0;
export const isMainThread = true;
export const parentPort = null;
export const workerData = null;
export const performance = globalThis.performance;
export class Worker {
  constructor() {
    unavailable("worker_threads.Worker");
  }
}
export default {};
