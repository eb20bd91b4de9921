/**
 * End-to-end tests of the ghost explorer in Debian's Chromium (playwright-core, the system
 * browser), against the built page (`npm run web:build`) on localhost. The page must agree
 * with the library run here in Node for the same inputs.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StaticServer } from "../../packages/cli/src/cli/commands/explore.js";
import { nearestGhost, rhoA, taylorCoefficients } from "../../src/theory/index.js";
import { checkPrerequisites, launch, open, type PageWatch, servePage, watch } from "./browser.js";

let server: StaticServer;
let browser: Browser;
let page: Page;
let seen: PageWatch;

beforeAll(async () => {
  checkPrerequisites();
  server = await servePage();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  seen = await watch(page, server.url);
  await open(page, server.url, "#plane");
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The exact sample the plane shows (its sliders snap to their step). */
async function planeSample(): Promise<{ z: number[]; a: number[]; y: number }> {
  return JSON.parse((await page.getAttribute("#plane", "data-sample")) ?? "null");
}

/**
 * The same float64 computation in Chromium's V8 and in Node's can differ in the last bits
 * (their Math.exp/cos are not required to round alike): equal to 1e-12, relatively.
 */
function expectSame(shown: number, library: number): void {
  expect(Math.abs(shown - library)).toBeLessThanOrEqual(1e-12 * Math.abs(library));
}

const dataValue = async (selector: string) =>
  Number(await page.getAttribute(selector, "data-value"));

describe("ghost plane", () => {
  it("shows the library's ρ_a and ρ* and follows a slope slider moved by keyboard", async () => {
    await page.click("#preset-ten");
    const before = await dataValue("#out-rhoA");
    await page.focus("#a-9");
    for (let i = 0; i < 25; i++) await page.keyboard.press("ArrowRight");
    await page.waitForFunction(
      () => JSON.parse(document.getElementById("plane")?.dataset.sample ?? "{}").a?.[9] === 2.18,
    );
    const s = await planeSample();
    expect(s.a[9]).toBeCloseTo(1.93 + 0.25, 10);
    const rho = await dataValue("#out-rhoA");
    expect(rho).not.toBe(before);
    expectSame(rho, rhoA(s.a));
    expectSame(await dataValue("#out-rhoStar"), nearestGhost(s.z, s.a).modulus);
    const tau = Number(await page.inputValue("#tau"));
    expect(await dataValue("#out-r")).toBeCloseTo(tau / rhoA(s.a), 12);
  });

  it("shows the K = 2 closed form for two classes", async () => {
    await page.click("#preset-binary");
    expect(await page.textContent("#out-binary")).toContain("√(δ² + π²)/|Δ| = 3.62");
    expect(await page.isHidden("#out-binary-row")).toBe(false);
  });

  it("Taylor view's coefficients are the library's", async () => {
    await page.click("#preset-ten");
    await page.selectOption("#taylor-order", "16");
    await page.selectOption("#taylor-label", "6");
    const s = await planeSample();
    expect(s.y).toBe(6);
    const shown = await page.$$eval("#taylor-coeffs td[data-n]", (cells) =>
      cells.map((c) => Number(c.getAttribute("data-value"))),
    );
    expect(shown).toHaveLength(17);
    const lib = taylorCoefficients(s.z, s.a, s.y, 32);
    shown.forEach((c, n) => {
      expectSame(c, lib[n]);
    });
  });

  it("puts a test digit with its gradient direction on the plane", async () => {
    await page.fill("#digit-index", "3");
    await page.selectOption("#digit-direction", "gradient");
    await page.click("#digit-load");
    await page.waitForFunction(
      () => /^(test digit|error)/.test(document.getElementById("digit-status")?.textContent ?? ""),
      null,
      { timeout: 90_000 },
    );
    expect(await page.textContent("#digit-status")).toMatch(/^test digit #3: label \d/);
    const s = await planeSample();
    expect(s.z).toHaveLength(10);
    expectSame(await dataValue("#out-rhoStar"), nearestGhost(s.z, s.a).modulus);
    // Adam's first step and a random direction: the same digit and logits, other slopes.
    for (const direction of ["adam", "random"]) {
      await page.selectOption("#digit-direction", direction);
      await page.click("#digit-load");
      await page.waitForFunction(
        (d) => {
          const t = document.getElementById("digit-status")?.textContent ?? "";
          return t.startsWith("error") || t.endsWith(`direction: ${d}`);
        },
        direction,
        { timeout: 90_000 },
      );
      expect(await page.textContent("#digit-status")).toMatch(/^test digit #3: label \d/);
      const other = await planeSample();
      expect(other.z).toEqual(s.z);
      expect(other.a).toHaveLength(10);
      expect(other.a.every(Number.isFinite)).toBe(true);
      expect(other.a).not.toEqual(s.a);
    }
  });
});

describe("live training", () => {
  it("a 10000× spike: ρ-clip keeps its accuracy while plain training's falls; pause holds", async () => {
    await open(page, server.url, "#train");
    await page.selectOption("#train-model", "mlp");
    await page.selectOption("#train-optimizer", "adam");
    await page.fill("#train-lr", "0.001");
    await page.fill("#train-steps", "100");
    await page.fill("#train-spike-at", "50");
    await page.selectOption("#spike-multiplier", "10000");
    await page.selectOption("#spike-mode", "on");
    await page.click("#train-start");
    const steps = (id: string) =>
      page.getAttribute(`#train-run-${id}`, "data-steps").then((v) => Number(v));
    await page.waitForFunction(
      () => Number(document.getElementById("train-run-plain")?.dataset.steps) >= 5,
      null,
      { timeout: 90_000 },
    );
    await page.click("#train-pause");
    expect(await page.getAttribute("#train-pause", "aria-pressed")).toBe("true");
    await page.waitForTimeout(400); // in-flight steps land
    const held = await steps("plain");
    await page.waitForTimeout(1500);
    expect(await steps("plain")).toBe(held);
    await page.click("#train-pause");
    await page.waitForFunction(
      () => document.querySelectorAll("#train-status tr[data-done='true']").length === 2,
      null,
      { timeout: 240_000 },
    );
    const accuracy = (id: string) =>
      page.getAttribute(`#train-run-${id}`, "data-accuracy").then((v) => Number(v));
    const plain = await accuracy("plain");
    const clip = await accuracy("clip");
    const speed = await page.getAttribute("#train-run-plain", "data-steps-per-second");
    console.log(`in-page training (Wasm): ${Number(speed).toFixed(1)} steps/s per run, 2 runs`);
    expect(await page.getAttribute("#train-run-plain", "data-device")).toBe("wasm");
    expect(clip).toBeGreaterThan(0.8);
    expect(plain).toBeLessThan(0.3);
    expect(await page.locator("#train-chart-3 svg path").count()).toBeGreaterThan(0);
  });

  it("reset stops the runs and clears the table", async () => {
    await page.click("#train-reset");
    expect(await page.locator("#train-status tr").count()).toBe(0);
  });
});

describe("results", () => {
  const summary = fileURLToPath(
    new URL("../../docs/results/natural-instability/summary.json", import.meta.url),
  );

  it("opens a bundled summary.json and shows the report's tables and figures", async () => {
    await open(page, server.url, "#results");
    await page.selectOption("#results-bundled", { label: "natural-instability" });
    await page.click("#results-open");
    await page.waitForFunction(
      () => /^(showing|error)/.test(document.getElementById("results-status")?.textContent ?? ""),
      null,
      { timeout: 60_000 },
    );
    expect(await page.textContent("#results-status")).toBe("showing natural-instability");
    const frame = page.frameLocator("#results-frame");
    expect(await frame.locator("table").count()).toBeGreaterThan(1);
    expect(await frame.locator("figure svg").count()).toBeGreaterThan(0);
  });

  it("opens a file from the picker, and names a bad one", async () => {
    await page.setInputFiles("#results-file", summary);
    await page.waitForFunction(
      () =>
        document.getElementById("results-status")?.textContent === "showing natural-instability",
    );
    await page.setInputFiles("#results-file", {
      name: "broken.json",
      mimeType: "application/json",
      buffer: Buffer.from("{not json"),
    });
    await page.waitForFunction(() =>
      /^error/.test(document.getElementById("results-status")?.textContent ?? ""),
    );
    expect(await page.textContent("#results-status")).toMatch(
      /^error: broken\.json: not valid JSON/,
    );
  });
});

describe("results: damaged files through the file picker", () => {
  const good = readFileSync(
    fileURLToPath(new URL("../../docs/results/natural-instability/summary.json", import.meta.url)),
    "utf8",
  );
  const edited = (change: Record<string, unknown>) =>
    JSON.stringify({ ...JSON.parse(good), ...change });
  const cases: { name: string; bytes: Buffer; line: RegExp }[] = [
    {
      name: "cut.json",
      bytes: Buffer.from(good.slice(0, 4000)),
      line: /^error: cut\.json: not valid JSON \(.+\)$/,
    },
    {
      name: "seeds.json",
      bytes: Buffer.from(edited({ seeds: "all of them" })),
      line: /^error: seeds\.json: not a valid summary \(.*seeds.*\)$/,
    },
    {
      name: "runs.json",
      bytes: Buffer.from(edited({ runs: -3 })),
      line: /^error: runs\.json: not a valid summary \(.*runs.*\)$/,
    },
    {
      name: "latin1.json",
      bytes: Buffer.from([0x7b, 0xff, 0xfe, 0x22, 0xe9, 0x22, 0x7d]),
      line: /^error: latin1\.json: not valid JSON \(.+\)$/,
    },
    {
      name: "<b>list</b>.json",
      bytes: Buffer.from("[1, 2]"),
      line: /^error: <b>list<\/b>\.json: a summary\.json holds one JSON object$/,
    },
  ];

  it("shows one error line naming each bad file, hides the old report, logs no error", async () => {
    await open(page, server.url, "#results");
    const errorsBefore = seen.errors.length;
    for (const c of cases) {
      await page.setInputFiles("#results-file", {
        name: c.name,
        mimeType: "application/json",
        buffer: c.bytes,
      });
      await page.waitForFunction(
        (name) =>
          document.getElementById("results-status")?.textContent?.startsWith(`error: ${name}: `),
        c.name,
      );
      const status = (await page.textContent("#results-status")) ?? "";
      expect(status, c.name).toMatch(c.line);
      expect(status).not.toMatch(/\n|TypeError|undefined|is not a function/);
      // the name is text, not markup
      expect(await page.locator("#results-status b").count()).toBe(0);
      expect(await page.isHidden("#results-frame")).toBe(true);
    }
    expect(seen.errors.slice(errorsBefore)).toEqual([]);
  });
});

describe("the page as a whole", () => {
  it("labels every control and fits a phone's width", async () => {
    for (const section of ["#plane", "#train", "#tutorials", "#results"]) {
      await open(page, server.url, section);
      const unlabelled = await page.$$eval("input, select, button", (els) =>
        els
          .filter((e) => (e as HTMLElement).offsetParent !== null)
          .filter((e) => {
            const labels = (e as HTMLInputElement).labels;
            const named =
              (labels && labels.length > 0) ||
              e.getAttribute("aria-label") ||
              (e.tagName === "BUTTON" && e.textContent?.trim());
            return !named;
          })
          .map((e) => e.id || e.outerHTML.slice(0, 60)),
      );
      expect(unlabelled, section).toEqual([]);
    }
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    try {
      const phoneSeen = await watch(phone, server.url);
      for (const section of ["#plane", "#train", "#tutorials", "#results"]) {
        await open(phone, server.url, section);
        const overflow = await phone.evaluate(
          () => document.documentElement.scrollWidth - window.innerWidth,
        );
        expect(overflow, section).toBeLessThanOrEqual(0);
      }
      expect(phoneSeen.errors).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it("runs on Wasm without WebGPU, logs no console errors and makes no off-site requests", async () => {
    const adapter = await page.evaluate(async () => {
      const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
      return gpu ? (await gpu.requestAdapter()) !== null : false;
    });
    expect(adapter).toBe(false);
    expect(seen.errors).toEqual([]);
    expect(seen.offsite).toEqual([]);
  });
});
