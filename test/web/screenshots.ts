/**
 * Screenshots of the built explorer at desktop (1280 px) and phone (390 px) width, written to
 * `web/screenshots/` for the README. `npm run web:screenshots` (builds the page first).
 * Also prints the page's load size and the in-page training speed on Wasm (and on WebGPU
 * when headless Chromium offers an adapter with --enable-unsafe-webgpu).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { checkPrerequisites, DIST, launch, open, servePage, watch } from "./browser.js";

const OUT = fileURLToPath(new URL("../../web/screenshots/", import.meta.url));

async function trainBriefly(page: Page, steps: number): Promise<number> {
  await page.fill("#train-steps", String(steps));
  await page.fill("#train-spike-at", String(Math.floor(steps / 2)));
  await page.selectOption("#spike-multiplier", "10000");
  await page.click("#train-start");
  await page.waitForFunction(
    () => document.querySelectorAll("#train-status tr[data-done='true']").length === 2,
    null,
    { timeout: 600_000 },
  );
  await page.waitForTimeout(500);
  return Number(await page.getAttribute("#train-run-plain", "data-steps-per-second"));
}

/** What the first visit fetches: bytes as served and gzip-compressed (as a static host would). */
async function reportLoadSize(page: Page, url: string): Promise<void> {
  const paths = await page.evaluate(() =>
    [
      ...performance.getEntriesByType("navigation"),
      ...performance.getEntriesByType("resource"),
    ].map((e) => new URL(e.name).pathname),
  );
  let raw = 0;
  let gzip = 0;
  for (const path of new Set(paths)) {
    const file = `${DIST}${path === "/" ? "index.html" : path.slice(1)}`;
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  console.log(
    `page load (${new Set(paths).size} files from ${url}): ${(raw / 1024).toFixed(0)} KiB, ${(gzip / 1024).toFixed(0)} KiB gzipped`,
  );
}

async function shoot(browser: Browser, url: string, width: number, name: string): Promise<void> {
  const page = await browser.newPage({ viewport: { width, height: width > 600 ? 900 : 844 } });
  const seen = await watch(page, url);
  await open(page, url, "#plane");
  await page.waitForTimeout(800);
  if (width > 600) await reportLoadSize(page, url);
  await page.click("#preset-ten");
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${OUT}${name}-plane.png`, fullPage: true });
  await open(page, url, "#train");
  const speed = await trainBriefly(page, 100);
  console.log(
    `${name}: in-page training on Wasm, MLP + Adam, batch 64: ${speed.toFixed(1)} steps/s per run (2 runs at once)`,
  );
  await page.screenshot({ path: `${OUT}${name}-train.png`, fullPage: true });
  if (width > 600) {
    await open(page, url, "#tutorials-binary");
    await page.waitForTimeout(800);
    await page
      .locator("#tutorials-binary")
      .screenshot({ path: `${OUT}${name}-tutorial-binary.png` });
    await page.locator("#tutorials-kl").screenshot({ path: `${OUT}${name}-tutorial-kl.png` });
    await open(page, url, "#results");
    await page.selectOption("#results-bundled", { label: "lr-spike" });
    await page.click("#results-open");
    await page.waitForFunction(
      () => /^(showing|error)/.test(document.getElementById("results-status")?.textContent ?? ""),
      null,
      { timeout: 120_000 },
    );
    await page.waitForTimeout(800);
    await page.screenshot({ path: `${OUT}${name}-results.png` });
  }
  if (seen.errors.length > 0) console.log(`${name}: console errors:`, seen.errors);
  await page.close();
}

checkPrerequisites();
mkdirSync(OUT, { recursive: true });
const server = await servePage();
const browser = await launch();
try {
  await shoot(browser, server.url, 1280, "desktop");
  await shoot(browser, server.url, 390, "phone");
} finally {
  await browser.close();
  await server.close();
}
