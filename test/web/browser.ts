/**
 * Shared set-up of the browser tests and the screenshot script: Debian's Chromium driven by
 * playwright-core (never a downloaded browser) against the built page (`web/dist`) served on
 * localhost by the same static server `ghosts explore` uses.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { type StaticServer, serveStatic } from "../../packages/cli/src/cli/commands/explore.js";

/** Where the page is built to. */
export const DIST = fileURLToPath(new URL("../../web/dist/", import.meta.url));
/** The system Chromium (`apt-get install -y chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Fails with the fix when Chromium or the build is missing (never skips silently). */
export function checkPrerequisites(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  if (!existsSync(`${DIST}index.html`)) {
    throw new Error("web/dist is missing: npm run web:build");
  }
}

/** Launches Chromium (a fresh profile each time); `webgpu` adds --enable-unsafe-webgpu. */
export function launch(opts: { webgpu?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: opts.webgpu ? [...ARGS, "--enable-unsafe-webgpu"] : ARGS,
  });
}

/** Serves the built page on a free localhost port. */
export function servePage(): Promise<StaticServer> {
  return serveStatic(DIST, { port: 0 });
}

/** Console errors, page errors and requests that left localhost, collected per page. */
export interface PageWatch {
  errors: string[];
  offsite: string[];
}

/** Records what `page` reports; requests to any other host are blocked and recorded. */
export async function watch(page: Page, origin: string): Promise<PageWatch> {
  const w: PageWatch = { errors: [], offsite: [] };
  page.on("console", (m) => {
    if (m.type() === "error") w.errors.push(m.text());
  });
  page.on("pageerror", (e) => w.errors.push(String(e)));
  await page.context().route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) {
      return route.continue();
    }
    w.offsite.push(url);
    return route.abort();
  });
  return w;
}

/** Opens `hash` of the page and waits until the app has wired itself up. */
export async function open(page: Page, url: string, hash = ""): Promise<void> {
  await page.goto(`${url}${hash}`);
  await page.waitForSelector("#app[data-ready='true']");
}
