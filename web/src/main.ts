/**
 * The ghost explorer: the page's entry point. Wires the five parts (ghost plane with its
 * Taylor view, live training, tutorials, results) to the page and routes between them by
 * the URL hash, so every part has its own address and the browser's back button works.
 */
import digitsUrl from "../../data/digits.csv.gz?url";
import { $ } from "./dom.js";
import { GhostPlane, PRESETS } from "./plane.js";
import type { DirectionKind, FromWorker, RunConfig, WebModel, WebOptimizer } from "./protocol.js";
import { RunGroup } from "./runs.js";
import { setUpTutorials } from "./tutorials.js";
import "./style.css";

const SECTIONS = ["plane", "train", "tutorials", "results"];

function route(): void {
  const hash = location.hash.replace(/^#/, "");
  const top = SECTIONS.find((s) => hash === s || hash.startsWith(`${s}-`)) ?? "plane";
  for (const s of SECTIONS) $(s).hidden = s !== top;
  for (const link of document.querySelectorAll<HTMLAnchorElement>("nav.tabs a")) {
    if (link.getAttribute("href") === `#${top}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (top !== hash) document.getElementById(hash)?.scrollIntoView();
  window.dispatchEvent(new Event("resize"));
}

function setUpPlane(): void {
  const plane = new GhostPlane();
  plane.setSample(PRESETS.binary);
  $("preset-binary").addEventListener("click", () => plane.setSample(PRESETS.binary));
  $("preset-ten").addEventListener("click", () => plane.setSample(PRESETS.ten));
  let worker: Worker | null = null;
  const status = $("digit-status");
  $("digit-load").addEventListener("click", () => {
    worker ??= new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === "progress") status.textContent = m.message;
      else if (m.type === "error") status.textContent = `error: ${m.message}`;
      else if (m.type === "sample") {
        const d = m.result;
        const predicted = d.logits.indexOf(Math.max(...d.logits));
        status.textContent = `test digit #${d.index}: label ${d.label}, predicted ${predicted} (MLP test accuracy ${(100 * d.testAccuracy).toFixed(1)}%), direction: ${d.direction}`;
        drawDigit(d.pixels);
        plane.setDigit(d);
      }
    };
    status.textContent = "loading…";
    worker.postMessage({
      type: "sample",
      digitsUrl,
      index: Number(($("digit-index") as HTMLInputElement).value),
      direction: ($("digit-direction") as HTMLSelectElement).value as DirectionKind,
      seed: 0,
    });
  });
}

function drawDigit(pixels: number[]): void {
  const canvas = $("digit-canvas") as HTMLCanvasElement;
  const ctx = canvas.getContext("2d")!;
  const img = ctx.createImageData(8, 8);
  pixels.forEach((v, i) => {
    const g = 255 - Math.round(255 * v);
    img.data.set([g, g, g, 255], 4 * i);
  });
  ctx.putImageData(img, 0, 0);
}

/** The backend choice: WebGPU when asked for, or on "auto" when the browser has an adapter. */
async function chosenDevice(): Promise<"wasm" | "webgpu"> {
  const choice = ($("train-device") as HTMLSelectElement).value;
  if (choice === "wasm") return "wasm";
  if (choice === "webgpu") return "webgpu";
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  try {
    return gpu && (await gpu.requestAdapter()) !== null ? "webgpu" : "wasm";
  } catch {
    return "wasm";
  }
}

function value(id: string): number {
  return Number(($(id) as HTMLInputElement).value);
}

function setUpTraining(): void {
  const group = new RunGroup($("train-runs"), "train");
  $("train-start").addEventListener("click", async () => {
    const spikeAt = ($("train-spike-at") as HTMLInputElement).value.trim();
    const base: RunConfig = {
      model: ($("train-model") as HTMLSelectElement).value as WebModel,
      optimizer: ($("train-optimizer") as HTMLSelectElement).value as WebOptimizer,
      learningRate: value("train-lr"),
      controller: { name: "none" },
      steps: value("train-steps"),
      batchSize: value("train-batch"),
      seed: value("train-seed"),
      evalEvery: 10,
      live: true,
      device: await chosenDevice(),
      spike:
        spikeAt === ""
          ? undefined
          : {
              multiplier: value("spike-multiplier"),
              at: Number(spikeAt),
              once: ($("spike-mode") as HTMLSelectElement).value === "once",
            },
    };
    const rMax = value("train-rmax");
    group.start([
      { id: "plain", label: "plain", config: base },
      {
        id: "clip",
        label: `ρ-clip (r ≤ ${rMax})`,
        config: { ...base, controller: { name: "rho-clip", rMax } },
      },
    ]);
    pause.textContent = "Pause";
    pause.setAttribute("aria-pressed", "false");
  });
  const pause = $("train-pause");
  pause.addEventListener("click", () => {
    const paused = group.togglePause();
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
  });
  $("train-reset").addEventListener("click", () => group.reset());
  $("spike-button").addEventListener("click", () => {
    const multiplier = value("spike-multiplier");
    const once = ($("spike-mode") as HTMLSelectElement).value === "once";
    group.spike(multiplier, once);
    $("spike-status").textContent =
      `spike ×${multiplier} ${once ? "for one step" : "from now on"} sent`;
  });
}

async function setUpResults(): Promise<void> {
  const bundled = import.meta.glob("../../docs/results/*/summary.json", {
    query: "?url",
    import: "default",
    eager: true,
  }) as Record<string, string>;
  const select = $("results-bundled") as HTMLSelectElement;
  for (const [path, url] of Object.entries(bundled).sort()) {
    const id = path.split("/").at(-2) ?? path;
    const option = document.createElement("option");
    option.value = url;
    option.textContent = id;
    select.append(option);
  }
  const frame = $("results-frame") as HTMLIFrameElement;
  const status = $("results-status");
  const show = async (texts: { name: string; text: string }[]) => {
    status.textContent = "rendering…";
    try {
      const { loadResults } = await import("./results.js");
      const outcome = await loadResults(texts);
      if (!outcome.ok) {
        frame.hidden = true; // the report shown before is not the one picked now
        status.textContent = `error: ${outcome.error}`;
        return;
      }
      frame.srcdoc = outcome.html;
      frame.hidden = false;
      status.textContent = `showing ${outcome.experiments.join(", ")}`;
    } catch (e) {
      // a bug (the fuzzer looks for these), or the module failed to load
      status.textContent = `error: ${(e as Error).message}`;
    }
  };
  $("results-open").addEventListener("click", async () => {
    const url = select.value;
    const name = select.selectedOptions[0]?.textContent ?? url;
    status.textContent = "loading…";
    const response = await fetch(url);
    await show([{ name: `${name}/summary.json`, text: await response.text() }]);
  });
  $("results-file").addEventListener("change", async (e) => {
    const files = Array.from((e.target as HTMLInputElement).files ?? []);
    if (files.length === 0) return;
    await show(await Promise.all(files.map(async (f) => ({ name: f.name, text: await f.text() }))));
  });
  frame.addEventListener("load", () => {
    const doc = frame.contentDocument;
    if (doc) frame.style.height = `${Math.max(400, doc.documentElement.scrollHeight + 20)}px`;
  });
}

setUpPlane();
setUpTraining();
setUpTutorials();
void setUpResults();
window.addEventListener("hashchange", route);
route();
$("app").dataset.ready = "true";
