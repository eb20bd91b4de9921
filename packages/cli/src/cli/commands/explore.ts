/**
 * `ghosts explore`: serves the ghost explorer (the static page `npm run web:build` writes to
 * `web/dist`) on localhost and opens it in the default browser. The page needs nothing else:
 * the library runs in the browser and the data are bundled.
 */
import { spawn } from "node:child_process";
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, UsageError } from "../errors.js";
import type { CliCommand } from "./types.js";

/**
 * Where the built page may be, first match wins (paths from `src/cli/commands` or
 * `dist/cli/commands` of the CLI package): the copy a packed CLI ships (`packages/cli/web`,
 * written by its `prepack`), then the repository's own build (`web/dist`), so a checkout
 * serves what `npm run web:build` just wrote without copying it.
 */
export const EXPLORER_CANDIDATES: readonly string[] = [
  fileURLToPath(new URL("../../../web/", import.meta.url)),
  fileURLToPath(new URL("../../../../../web/dist/", import.meta.url)),
];

/** The first candidate that holds an `index.html`, else the repository's `web/dist`. */
export function findExplorerDir(candidates: readonly string[] = EXPLORER_CANDIDATES): string {
  return (
    candidates.find((dir) => existsSync(join(dir, "index.html"))) ?? candidates.at(-1) ?? "web/dist"
  );
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
  ".gz": "application/gzip",
  ".csv": "text/csv; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

/** A running static server. */
export interface StaticServer {
  /** `http://host:port/` */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the files under `dir` (GET and HEAD; `/` is `index.html`; nothing outside `dir`).
 * Port 0 picks a free port.
 */
export function serveStatic(
  dir: string,
  opts: { port?: number; host?: string } = {},
): Promise<StaticServer> {
  const root = resolve(dir);
  const host = opts.host ?? "127.0.0.1";
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
    } catch {
      res.writeHead(400).end("bad path");
      return;
    }
    const file = normalize(join(root, path.endsWith("/") ? `${path}index.html` : path));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": statSync(file).size,
      "cache-control": "no-cache",
    });
    if (req.method === "HEAD") res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : opts.port;
      done({
        url: `http://${host}:${port}/`,
        close: () => new Promise<void>((ok) => server.close(() => ok())),
      });
    });
  });
}

/** Opens `url` in the platform's default browser; failures are ignored (the URL is printed). */
function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // no browser launcher: the printed URL is enough
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`--port must be an integer in 0..65535, got '${value}'`);
  }
  return n;
}

export const exploreCommand: CliCommand = {
  name: "explore",
  register(program, { io }) {
    program
      .command("explore")
      .description("serve the ghost explorer (web page) on localhost and open it in a browser")
      .option("-p, --port <n>", "port to listen on (0 = any free port)", "8123")
      .option("--host <host>", "address to bind", "127.0.0.1")
      .option("--dir <path>", "serve another build of the page", findExplorerDir())
      .option("--no-open", "print the address without opening a browser")
      .action(async (opts: { port: string; host: string; dir: string; open: boolean }) => {
        const port = parsePort(opts.port);
        if (!existsSync(join(opts.dir, "index.html"))) {
          throw new UsageError(
            `no explorer build in ${opts.dir}: run 'npm run web:build' in the package first`,
          );
        }
        let server: StaticServer;
        try {
          server = await serveStatic(opts.dir, { port, host: opts.host });
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === "EADDRINUSE") {
            throw new UsageError(`port ${port} is in use: pass --port 0 or another port`);
          }
          throw new CliError(`cannot listen on ${opts.host}:${port}: ${(e as Error).message}`);
        }
        io.stdout.write(`ghost explorer at ${server.url} (Ctrl-C to stop)\n`);
        if (opts.open) openBrowser(server.url);
        await new Promise<void>((done) => {
          const stop = () => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            void server.close().then(done);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
      });
  },
};
