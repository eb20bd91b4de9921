/**
 * The five tutorials: the step controller with SGD, with Adam and with momentum (each a group
 * of live runs: three fixed learning rates, ρ-clip and ρ-set), the binary radius and the KL
 * remainder bound (theory only, recomputed as the sliders move).
 */
import {
  klQuadratic,
  nearestGhost,
  reverseKl,
  reverseKlRemainderBound,
  rhoA,
  rhoStarBinary,
  spread,
} from "../../src/theory/index.js";
import { type LiveChart, liveChart } from "./chart.js";
import { $, fmt } from "./dom.js";
import { PRESETS } from "./plane.js";
import type { WebOptimizer } from "./protocol.js";
import { RunGroup, type RunSpec } from "./runs.js";

/** The runs of an optimizer tutorial for base rate η: η, 10η, 100η, ρ-clip at 100η, ρ-set. */
export function controllerRuns(
  optimizer: WebOptimizer,
  eta: number,
  rMax: number,
  rTarget: number,
  steps: number,
): RunSpec[] {
  const base = {
    model: "mlp" as const,
    optimizer,
    steps,
    batchSize: 64,
    seed: 0,
    evalEvery: 10,
  };
  const fixed = [1, 10, 100].map((m) => ({
    id: `lr${m}`,
    label: `${optimizer} η=${fmt(eta * m, 3)}`,
    config: { ...base, learningRate: eta * m, controller: { name: "none" as const } },
  }));
  return [
    ...fixed,
    {
      id: "clip",
      label: `ρ-clip(r≤${rMax}) η=${fmt(eta * 100, 3)}`,
      config: { ...base, learningRate: eta * 100, controller: { name: "rho-clip", rMax } },
    },
    {
      id: "set",
      label: `ρ-set(r=${rTarget})`,
      config: { ...base, learningRate: eta, controller: { name: "rho-set", rTarget } },
    },
  ];
}

/** Wires one optimizer tutorial (`prefix` = the id prefix of its controls). */
function optimizerTutorial(prefix: string, optimizer: WebOptimizer): void {
  const group = new RunGroup($(`${prefix}-runs`), prefix);
  const value = (name: string) => Number(($(`${prefix}-${name}`) as HTMLInputElement).value);
  $(`${prefix}-start`).addEventListener("click", () => {
    group.start(
      controllerRuns(optimizer, value("lr"), value("rmax"), value("rtarget"), value("steps")),
    );
  });
  const pause = $(`${prefix}-pause`);
  pause.addEventListener("click", () => {
    const paused = group.togglePause();
    pause.textContent = paused ? "Resume" : "Pause";
    pause.setAttribute("aria-pressed", String(paused));
  });
  $(`${prefix}-reset`).addEventListener("click", () => group.reset());
}

function binaryTutorial(): LiveChart {
  const chart = liveChart(
    $("binary-chart"),
    {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      height: 220,
      layer: [
        {
          data: { name: "rows" },
          transform: [{ filter: "datum.curve !== 'this δ'" }],
          mark: { type: "line", strokeWidth: 2 },
          encoding: {
            x: { field: "delta", type: "quantitative", title: "logit gap δ" },
            y: { field: "rho", type: "quantitative", title: "radius", scale: { zero: true } },
            color: { field: "curve", type: "nominal", title: null, legend: { orient: "bottom" } },
          },
        },
        {
          data: { name: "rows" },
          transform: [{ filter: "datum.curve === 'this δ'" }],
          mark: { type: "point", filled: true, size: 80, color: "#c62828" },
          encoding: {
            x: { field: "delta", type: "quantitative" },
            y: { field: "rho", type: "quantitative" },
          },
        },
      ],
    } as never,
    "Binary radius against the logit gap",
  );
  const update = () => {
    const delta = Number(($("binary-delta") as HTMLInputElement).value);
    const gap = Number(($("binary-gap") as HTMLInputElement).value);
    $("binary-delta-value").textContent = fmt(delta);
    $("binary-gap-value").textContent = fmt(gap);
    const exact = rhoStarBinary(delta, gap);
    const bound = rhoA([gap, 0]);
    $("binary-exact").textContent = fmt(exact);
    $("binary-bound").textContent = fmt(bound);
    $("binary-ratio").textContent = fmt(exact / bound);
    $("binary-solver").textContent = fmt(nearestGhost([delta, 0], [gap, 0]).modulus);
    const rows: object[] = [];
    for (let i = 0; i <= 100; i++) {
      const d = -10 + (i / 100) * 20;
      rows.push({ delta: d, rho: rhoStarBinary(d, gap), curve: "ρ* = √(δ²+π²)/|Δ|" });
      rows.push({ delta: d, rho: rhoA([gap, 0]), curve: "ρ_a = π/|Δ|" });
    }
    rows.push({ delta, rho: exact, curve: "this δ" });
    chart.set(rows);
  };
  for (const id of ["binary-delta", "binary-gap"]) $(id).addEventListener("input", update);
  update();
  return chart;
}

function klTutorial(): LiveChart {
  const chart = liveChart(
    $("kl-chart"),
    {
      $schema: "https://vega.github.io/schema/vega-lite/v6.json",
      height: 240,
      layer: [
        {
          data: { name: "rows" },
          mark: { type: "line", strokeWidth: 2, clip: true },
          encoding: {
            x: { field: "t", type: "quantitative", title: "step t", scale: { type: "log" } },
            y: { field: "value", type: "quantitative", title: "nats", scale: { type: "log" } },
            color: { field: "curve", type: "nominal", title: null, legend: { orient: "bottom" } },
          },
        },
      ],
    } as never,
    "Exact KL against its quadratic model and the remainder bound",
  );
  const { z, a } = PRESETS.ten;
  const update = () => {
    const scale = Number(($("kl-scale") as HTMLInputElement).value);
    const t = Number(($("kl-t") as HTMLInputElement).value);
    $("kl-scale-value").textContent = fmt(scale);
    $("kl-t-value").textContent = fmt(t);
    const slopes = a.map((v) => v * scale);
    const d = spread(slopes);
    const exact = reverseKl(z, slopes, t);
    const quad = klQuadratic(z, slopes, t);
    $("kl-exact").textContent = fmt(exact);
    $("kl-quadratic").textContent = fmt(quad);
    $("kl-error").textContent = fmt(Math.abs(exact - quad));
    $("kl-bound").textContent = fmt(reverseKlRemainderBound(t, d));
    $("kl-holds").textContent =
      Math.abs(exact - quad) <= reverseKlRemainderBound(t, d) ? "yes" : "no";
    const rows: object[] = [];
    for (let i = 0; i <= 80; i++) {
      const s = 10 ** (-2 + (i / 80) * 3);
      const e = reverseKl(z, slopes, s);
      const q = klQuadratic(z, slopes, s);
      rows.push({ t: s, value: e, curve: "KL exact" });
      rows.push({ t: s, value: q, curve: "quadratic (t²/2)·Var" });
      if (Math.abs(e - q) > 0)
        rows.push({ t: s, value: Math.abs(e - q), curve: "|exact − quadratic|" });
      rows.push({ t: s, value: reverseKlRemainderBound(s, d), curve: "bound |t|³Δ³/(36√3)" });
    }
    chart.set(rows);
  };
  for (const id of ["kl-scale", "kl-t"]) $(id).addEventListener("input", update);
  update();
  return chart;
}

/** Wires all five tutorials. */
export function setUpTutorials(): LiveChart[] {
  optimizerTutorial("tut-sgd", "sgd");
  optimizerTutorial("tut-adam", "adam");
  optimizerTutorial("tut-momentum", "momentum");
  return [binaryTutorial(), klTutorial()];
}
