/**
 * The ghost plane and the Taylor view of one sample: logits z, directional slopes a and a
 * label y. Every number shown comes from the library (`rhoA`, `nearestGhost`, the binary
 * closed form, `taylorCoefficients`); the page only draws them.
 */
import {
  binaryGhost,
  lossAlongLine,
  nearestGhost,
  normalisedStep,
  regime,
  rhoA,
  rhoStarBinary,
  spread,
  taylorCoefficients,
  taylorPolynomial,
} from "../../src/theory/index.js";
import { type LiveChart, liveChart } from "./chart.js";
import { cancellationGrid, visibleZeros } from "./complex-plane.js";
import { $, fmt, make } from "./dom.js";
import type { SampleResult } from "./protocol.js";

/** The sample the plane shows. */
export interface PlaneSample {
  z: number[];
  a: number[];
  y: number;
}

const GRID = 160;
const SVG_NS = "http://www.w3.org/2000/svg";
const TAYLOR_ORDERS = [1, 2, 4, 8, 16, 32];

/** The two built-in examples: the `ghosts explain` binary case and ten seeded classes. */
export const PRESETS: Record<string, PlaneSample> = {
  binary: { z: [2, -1], a: [0.8, -0.4], y: 0 },
  ten: {
    z: [-1.6, -0.17, 0.0651, -0.756, 1.02, 5.88, 5.46, 0.936, -0.618, -3.46],
    a: [-1.46, -1.29, -0.0205, -0.591, -1.64, -0.405, 0.521, 0.673, -0.165, 1.93],
    y: 5,
  },
};

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** The ghost-plane and Taylor-view widgets, bound to the page's elements. */
export class GhostPlane {
  private sample: PlaneSample = structuredClone(PRESETS.binary);
  private tau = 1;
  private readonly canvas = $("plane-canvas") as HTMLCanvasElement;
  private readonly overlay = $("plane-overlay") as unknown as SVGSVGElement;
  private readonly tauInput = $("tau") as HTMLInputElement;
  private taylorChart: LiveChart | null = null;
  private half = 5;

  constructor() {
    this.tauInput.addEventListener("input", () => {
      this.tau = Number(this.tauInput.value);
      this.updateStep();
      this.drawOverlay();
    });
    $("taylor-label").addEventListener("change", (e) => {
      this.sample.y = Number((e.target as HTMLSelectElement).value);
      $("plane").dataset.sample = JSON.stringify(this.sample);
      this.updateTaylor();
    });
    $("taylor-order").addEventListener("change", () => this.updateTaylor());
    $("class-count").addEventListener("change", (e) => {
      const k = Number((e.target as HTMLSelectElement).value);
      this.setSample(resize(this.sample, k));
    });
    this.enableDrag();
  }

  /** Shows a sample (rebuilding the sliders). */
  setSample(s: PlaneSample): void {
    this.sample = { z: s.z.slice(), a: s.a.slice(), y: s.y };
    ($("class-count") as HTMLSelectElement).value = String(s.z.length);
    this.buildSliders();
    this.buildLabelChoice();
    const rho = rhoA(this.sample.a);
    this.tau = Number.isFinite(rho) ? Number((0.5 * rho).toPrecision(3)) : 1;
    this.update();
  }

  /** A digit from the worker: its logits, slopes along the chosen direction and label. */
  setDigit(d: SampleResult): void {
    this.setSample({ z: d.logits, a: d.slopes, y: d.label });
  }

  private buildSliders(): void {
    const box = $("sliders");
    box.replaceChildren();
    const { z, a } = this.sample;
    for (let k = 0; k < z.length; k++) {
      const row = make("div", { class: "slider-row" });
      for (const [name, arr] of [
        ["z", z],
        ["a", a],
      ] as const) {
        const id = `${name}-${k}`;
        const label = make("label", { for: id }, `${name === "z" ? "logit" : "slope"} ${name}${k}`);
        const input = make("input", {
          id,
          type: "range",
          min: name === "z" ? "-8" : "-4",
          max: name === "z" ? "8" : "4",
          step: "0.01",
          value: String(arr[k]),
        }) as HTMLInputElement;
        const out = make("output", { for: id, id: `${id}-value` }, fmt(arr[k], 3));
        input.addEventListener("input", () => {
          arr[k] = Number(input.value);
          out.textContent = fmt(arr[k], 3);
          this.scheduleUpdate();
        });
        row.append(label, input, out);
      }
      box.append(row);
    }
  }

  private buildLabelChoice(): void {
    const sel = $("taylor-label") as HTMLSelectElement;
    sel.replaceChildren(
      ...this.sample.z.map((_, k) => make("option", { value: String(k) }, `class ${k}`)),
    );
    sel.value = String(this.sample.y);
  }

  private pending = false;

  /** One redraw per animation frame however fast a slider moves. */
  private scheduleUpdate(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.update();
    });
  }

  private update(): void {
    const { z, a } = this.sample;
    // The exact numbers shown (sliders snap to their step), for tests and the curious.
    $("plane").dataset.sample = JSON.stringify(this.sample);
    const rho = rhoA(a);
    const ghost = nearestGhost(z, a);
    const finite = Number.isFinite(ghost.modulus);
    this.half = finite ? Math.max(1.6 * ghost.modulus, 1.3 * rho) : 5;
    if (!Number.isFinite(this.half) || this.half <= 0) this.half = 5;
    this.tauInput.max = String(Number((1.5 * this.half).toPrecision(3)));
    this.tauInput.step = String(Number((this.half / 500).toPrecision(2)));
    this.tauInput.value = String(this.tau);
    $("out-spread").textContent = fmt(spread(a));
    $("out-rhoA").textContent = fmt(rho);
    $("out-rhoA").dataset.value = String(rho);
    $("out-rhoStar").textContent = fmt(ghost.modulus);
    $("out-rhoStar").dataset.value = String(ghost.modulus);
    $("out-ghost").textContent = finite ? `${fmt(ghost.re)} ± ${fmt(ghost.im)}i` : "none";
    $("out-certified").textContent = ghost.certified ? "yes" : "no";
    $("out-ratio").textContent = fmt(ghost.modulus / rho);
    const binary = $("out-binary-row");
    if (z.length === 2) {
      const delta = z[0] - z[1];
      const gap = a[0] - a[1];
      const g = binaryGhost(delta, gap);
      binary.hidden = false;
      $("out-binary-row-label").hidden = false;
      $("out-binary").textContent =
        `√(δ² + π²)/|Δ| = ${fmt(rhoStarBinary(delta, gap))}, t* = ${g ? `${fmt(g.re)} + ${fmt(g.im)}i` : "none"} (δ = ${fmt(delta)}, Δ = ${fmt(gap)})`;
    } else {
      binary.hidden = true;
      $("out-binary-row-label").hidden = true;
    }
    this.drawHeat();
    this.zeros = visibleZeros(z, a, this.half, this.grid, GRID);
    this.ghost = ghost;
    this.updateStep();
    this.drawOverlay();
    this.updateTaylor();
  }

  private grid: Float64Array = new Float64Array(0);
  private zeros: { re: number; im: number }[] = [];
  private ghost: { re: number; im: number; modulus: number } = { re: 0, im: 0, modulus: 0 };

  private updateStep(): void {
    const rho = rhoA(this.sample.a);
    const r = normalisedStep(this.tau, rho);
    $("tau-value").textContent = fmt(this.tau);
    $("out-r").textContent = `${fmt(r)} (${regime(r)})`;
    $("out-r").dataset.value = String(r);
    $("out-rstar").textContent = fmt(this.tau / this.ghost.modulus);
  }

  private drawHeat(): void {
    const { z, a } = this.sample;
    this.grid = cancellationGrid(z, a, this.half, GRID);
    const ctx = this.canvas.getContext("2d")!;
    this.canvas.width = GRID;
    this.canvas.height = GRID;
    const img = ctx.createImageData(GRID, GRID);
    for (let i = 0; i < this.grid.length; i++) {
      // log10 of the cancellation ratio in [−3, 0] → light (no cancellation) to dark violet.
      const v = Math.max(-3, Math.log10(this.grid[i] + 1e-300)) / -3;
      img.data[4 * i] = 250 - 170 * v;
      img.data[4 * i + 1] = 250 - 210 * v;
      img.data[4 * i + 2] = 252 - 120 * v;
      img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }

  /** Plane coordinates (t) → overlay user units (a 0…400 square). */
  private px(re: number, im: number): [number, number] {
    return [200 + (re / this.half) * 200, 200 - (im / this.half) * 200];
  }

  private drawOverlay(): void {
    const o = this.overlay;
    o.replaceChildren();
    const scale = 200 / this.half;
    const rho = rhoA(this.sample.a);
    const band = Number.isFinite(rho) ? rho * scale : 400;
    o.append(
      svg("rect", {
        x: 0,
        y: 200 - band,
        width: 400,
        height: 2 * band,
        class: "strip",
      }),
      svg("line", { x1: 0, y1: 200, x2: 400, y2: 200, class: "axis" }),
      svg("line", { x1: 200, y1: 0, x2: 200, y2: 400, class: "axis" }),
    );
    if (Number.isFinite(rho)) {
      o.append(svg("circle", { cx: 200, cy: 200, r: rho * scale, class: "disk-a" }));
    }
    if (Number.isFinite(this.ghost.modulus)) {
      o.append(
        svg("circle", { cx: 200, cy: 200, r: this.ghost.modulus * scale, class: "disk-star" }),
      );
    }
    for (const zero of this.zeros) {
      const [x, y] = this.px(zero.re, zero.im);
      o.append(svg("circle", { cx: x, cy: y, r: 4, class: "zero" }));
    }
    if (Number.isFinite(this.ghost.modulus)) {
      for (const sign of [1, -1]) {
        const [x, y] = this.px(this.ghost.re, sign * this.ghost.im);
        o.append(svg("circle", { cx: x, cy: y, r: 6, class: "ghost" }));
      }
    }
    const [tx] = this.px(this.tau, 0);
    const handle = svg("path", {
      d: `M ${tx} ${192} L ${tx + 8} 200 L ${tx} 208 L ${tx - 8} 200 Z`,
      class: "tau-handle",
    });
    o.append(handle);
    const label = svg("text", { x: 6, y: 16, class: "plane-label" });
    label.textContent = `|Re t|, |Im t| ≤ ${fmt(this.half, 3)}`;
    o.append(label);
  }

  private enableDrag(): void {
    let dragging = false;
    const move = (e: PointerEvent) => {
      const box = this.overlay.getBoundingClientRect();
      const x = ((e.clientX - box.left) / box.width) * 400;
      this.tau = Math.max(0, Number((((x - 200) / 200) * this.half).toPrecision(4)));
      this.tauInput.value = String(this.tau);
      this.updateStep();
      this.drawOverlay();
    };
    this.overlay.addEventListener("pointerdown", (e) => {
      dragging = true;
      this.overlay.setPointerCapture(e.pointerId);
      move(e);
    });
    this.overlay.addEventListener("pointermove", (e) => {
      if (dragging) move(e);
    });
    this.overlay.addEventListener("pointerup", () => {
      dragging = false;
    });
  }

  private updateTaylor(): void {
    const { z, a, y } = this.sample;
    const maxOrder = Number(($("taylor-order") as HTMLSelectElement).value);
    const c = taylorCoefficients(z, a, y, Math.max(maxOrder, 32));
    const body = $("taylor-coeffs");
    body.replaceChildren(
      ...Array.from({ length: maxOrder + 1 }, (_, n) => {
        const value = make("td", { class: "num", "data-n": String(n), "data-value": String(c[n]) });
        value.textContent = c[n].toPrecision(8);
        return make("tr", {}, make("td", { class: "num" }, String(n)), value);
      }),
    );
    const ghost = nearestGhost(z, a).modulus;
    const rho = rhoA(a);
    const reach = Number.isFinite(ghost) ? 2 * ghost : 5;
    const rows: object[] = [];
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (let i = 0; i <= 200; i++) {
      const t = -reach + (i / 200) * 2 * reach;
      const exact = lossAlongLine(z, a, y, t);
      lo = Math.min(lo, exact);
      hi = Math.max(hi, exact);
      rows.push({ t, value: exact, curve: "exact ℓ(τ)" });
      for (const n of TAYLOR_ORDERS) {
        if (n > maxOrder) continue;
        rows.push({ t, value: taylorPolynomial(c, t, n), curve: `order ${String(n).padStart(2)}` });
      }
    }
    const pad = 0.5 * (hi - lo) + 0.5;
    const marks = [
      { t: ghost, label: "ρ*" },
      { t: -ghost, label: "−ρ*" },
      { t: rho, label: "ρ_a" },
      { t: -rho, label: "−ρ_a" },
    ].filter((m) => Number.isFinite(m.t) && Math.abs(m.t) <= reach);
    const spec = {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      height: 240,
      layer: [
        {
          data: { name: "rows" },
          mark: { type: "line", clip: true, strokeWidth: 1.6 },
          encoding: {
            x: { field: "t", type: "quantitative", title: "τ (step along the direction)" },
            y: {
              field: "value",
              type: "quantitative",
              title: "loss",
              scale: { domain: [lo - pad, hi + pad] },
            },
            color: {
              field: "curve",
              type: "nominal",
              title: null,
              legend: { orient: "bottom", columns: 4 },
              scale: {
                domain: [
                  "exact ℓ(τ)",
                  ...TAYLOR_ORDERS.map((n) => `order ${String(n).padStart(2)}`),
                ],
                range: [
                  "#111111",
                  "#4c78a8",
                  "#f58518",
                  "#54a24b",
                  "#e45756",
                  "#b279a2",
                  "#9d755d",
                ],
              },
            },
            strokeDash: {
              condition: { test: "datum.curve === 'exact ℓ(τ)'", value: [1, 0] },
              value: [5, 3],
            },
          },
        },
        {
          data: { values: marks },
          mark: { type: "rule", strokeDash: [2, 2], color: "#555" },
          encoding: { x: { field: "t", type: "quantitative" } },
        },
        {
          data: { values: marks },
          mark: { type: "text", dy: -4, baseline: "bottom", color: "#333" },
          encoding: {
            x: { field: "t", type: "quantitative" },
            y: { datum: hi + pad, type: "quantitative" },
            text: { field: "label" },
          },
        },
      ],
    };
    const el = $("taylor-chart");
    this.taylorChart?.finalize();
    this.taylorChart = liveChart(el, spec as never, "Taylor polynomials of the loss along τ");
    this.taylorChart.set(rows);
  }
}

/** The sample with `k` classes: cut, or extended with small new logits and slopes. */
function resize(s: PlaneSample, k: number): PlaneSample {
  const z = s.z.slice(0, k);
  const a = s.a.slice(0, k);
  for (let i = z.length; i < k; i++) {
    z.push(Number((Math.sin(i * 2.3) * 2).toFixed(2)));
    a.push(Number((Math.cos(i * 1.7) * 1.2).toFixed(2)));
  }
  return { z, a, y: Math.min(s.y, k - 1) };
}
