/**
 * A group of training runs shown side by side: one Web Worker per run (the library's
 * `train()` inside), live charts of loss, test accuracy, τ vs ρ_a and r, and a status table.
 * The training tab and the optimizer tutorials are each one group.
 */
import digitsUrl from "../../data/digits.csv.gz?url";
import { type LiveChart, liveChart } from "./chart.js";
import { fmt, make } from "./dom.js";
import type { FromWorker, RunConfig, StepMessage, ToWorker } from "./protocol.js";

/** One run of a group: a short name (used in ids), a legend label and its configuration. */
export interface RunSpec {
  id: string;
  label: string;
  config: RunConfig;
}

interface RunState {
  spec: RunSpec;
  worker: Worker | null;
  records: StepMessage[];
  stepsPerSecond: number;
  done: boolean;
  finalAccuracy: number;
  error: string | null;
  device: string;
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function lineSpec(y: string, opts: { log?: boolean; rule?: number; dash?: boolean } = {}) {
  const layers: object[] = [
    {
      data: { name: "rows" },
      mark: { type: "line", strokeWidth: 1.5, clip: true },
      encoding: {
        x: { field: "step", type: "quantitative", title: "step" },
        y: {
          field: "value",
          type: "quantitative",
          title: y,
          scale: opts.log ? { type: "log" } : { zero: false },
        },
        color: { field: "run", type: "nominal", title: null, legend: { orient: "bottom" } },
        ...(opts.dash
          ? {
              strokeDash: {
                field: "quantity",
                type: "nominal",
                title: null,
                legend: { orient: "bottom" },
                scale: {
                  domain: ["τ", "ρ_a"],
                  range: [
                    [1, 0],
                    [5, 3],
                  ],
                },
              },
            }
          : {}),
      },
    },
  ];
  if (opts.rule !== undefined) {
    layers.push({
      data: { values: [{ y: opts.rule }] },
      mark: { type: "rule", color: "#b00020", strokeDash: [4, 3] },
      encoding: { y: { field: "y", type: "quantitative" } },
    });
  }
  return {
    $schema: SCHEMA,
    height: 170,
    layer: layers,
  };
}

/** A group of runs rendered into `root`. `prefix` keeps element ids unique on the page. */
export class RunGroup {
  private runs: RunState[] = [];
  private charts: LiveChart[] = [];
  private readonly status: HTMLElement;
  private paused = false;
  private readonly chartBoxes: HTMLElement[];

  constructor(
    root: HTMLElement,
    private readonly prefix: string,
    private readonly onChange: () => void = () => {},
  ) {
    const table = make(
      "table",
      { class: "status" },
      make(
        "thead",
        {},
        make(
          "tr",
          {},
          ...["run", "step", "loss", "test accuracy", "r", "steps/s", "device"].map((h) =>
            make("th", { scope: "col" }, h),
          ),
        ),
      ),
    );
    this.status = make("tbody", { id: `${prefix}-status` });
    table.append(this.status);
    const titles = [
      "Batch loss",
      "Test accuracy",
      "Step τ (solid) vs radius ρ_a (dashed)",
      "r = τ/ρ_a",
    ];
    this.chartBoxes = titles.map((t, i) =>
      make(
        "figure",
        { class: "chart" },
        make("figcaption", {}, t),
        make("div", { id: `${prefix}-chart-${i}` }),
      ),
    );
    root.replaceChildren(
      make("div", { class: "table-wrap" }, table),
      make("div", { class: "charts" }, ...this.chartBoxes),
    );
  }

  /** Starts `specs` (stopping whatever ran before). */
  start(specs: RunSpec[]): void {
    this.reset();
    this.paused = false;
    this.runs = specs.map((spec) => ({
      spec,
      worker: null,
      records: [],
      stepsPerSecond: Number.NaN,
      done: false,
      finalAccuracy: Number.NaN,
      error: null,
      device: "",
    }));
    this.ensureCharts();
    for (const run of this.runs) {
      const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
      run.worker = worker;
      worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(run, e.data);
      worker.onerror = (e) => {
        run.error = e.message || "the worker failed";
        this.render();
      };
      this.send(run, { type: "train", config: run.spec.config, digitsUrl });
    }
    this.render();
  }

  private send(run: RunState, m: ToWorker): void {
    run.worker?.postMessage(m);
  }

  private receive(run: RunState, m: FromWorker): void {
    switch (m.type) {
      case "started":
        run.device = m.device;
        break;
      case "steps":
        run.records.push(...m.records);
        run.stepsPerSecond = m.stepsPerSecond;
        break;
      case "done":
        run.done = true;
        run.finalAccuracy = m.finalTestAccuracy;
        run.stepsPerSecond = m.stepsPerSecond;
        break;
      case "error":
        run.error = m.message;
        break;
      default:
        return;
    }
    this.render();
    this.onChange();
  }

  /** Pauses or resumes every run; returns whether the group is now paused. */
  togglePause(): boolean {
    this.paused = !this.paused;
    for (const run of this.runs) this.send(run, { type: this.paused ? "pause" : "resume" });
    return this.paused;
  }

  /** Multiplies every run's learning rate by `multiplier` from its next step (or for one step). */
  spike(multiplier: number, once: boolean): void {
    for (const run of this.runs) this.send(run, { type: "spike", multiplier, once });
  }

  /** Stops every run and clears the curves. */
  reset(): void {
    for (const run of this.runs) run.worker?.terminate();
    this.runs = [];
    this.render();
  }

  /** Whether every run has finished. */
  get finished(): boolean {
    return this.runs.length > 0 && this.runs.every((r) => r.done || r.error !== null);
  }

  private ensureCharts(): void {
    if (this.charts.length > 0) return;
    const specs = [
      lineSpec("loss", { log: true }),
      lineSpec("accuracy"),
      lineSpec("length", { log: true, dash: true }),
      lineSpec("r", { log: true, rule: 1 }),
    ];
    this.charts = specs.map((s, i) =>
      liveChart(
        this.chartBoxes[i].querySelector("div")!,
        s as never,
        this.chartBoxes[i].textContent ?? "",
      ),
    );
  }

  private render(): void {
    this.status.replaceChildren(
      ...this.runs.map((run) => {
        const last = run.records.at(-1);
        const acc = [...run.records]
          .reverse()
          .find((r) => r.testAccuracy !== undefined)?.testAccuracy;
        const cells = [
          run.spec.label,
          last ? String(last.step + 1) : "0",
          fmt(last?.loss),
          run.error ? `error: ${run.error}` : fmt(acc),
          fmt(last?.r),
          fmt(run.stepsPerSecond, 3),
          run.device,
        ];
        const tr = make("tr", { id: `${this.prefix}-run-${run.spec.id}` });
        tr.dataset.steps = last ? String(last.step + 1) : "0";
        tr.dataset.accuracy = acc === undefined ? "" : String(acc);
        tr.dataset.done = String(run.done);
        tr.dataset.stepsPerSecond = String(run.stepsPerSecond);
        tr.dataset.device = run.device;
        cells.forEach((c, i) => {
          tr.append(make(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : { class: "num" }, c));
        });
        return tr;
      }),
    );
    if (this.charts.length === 0) return;
    const loss: object[] = [];
    const acc: object[] = [];
    const lengths: object[] = [];
    const ratio: object[] = [];
    for (const run of this.runs) {
      const name = run.spec.label;
      for (const r of run.records) {
        if (r.skipped) continue;
        if (r.loss > 0 && Number.isFinite(r.loss))
          loss.push({ step: r.step, value: r.loss, run: name });
        if (r.testAccuracy !== undefined)
          acc.push({ step: r.step, value: r.testAccuracy, run: name });
        if (r.tau > 0) lengths.push({ step: r.step, value: r.tau, run: name, quantity: "τ" });
        if (r.rhoA > 0 && Number.isFinite(r.rhoA))
          lengths.push({ step: r.step, value: r.rhoA, run: name, quantity: "ρ_a" });
        if (r.r > 0 && Number.isFinite(r.r)) ratio.push({ step: r.step, value: r.r, run: name });
      }
    }
    [loss, acc, lengths, ratio].forEach((rows, i) => {
      this.charts[i].set(rows);
    });
  }
}
