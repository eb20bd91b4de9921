/**
 * Live charts: a Vega-Lite spec compiled once into a Vega view (SVG renderer), whose named
 * data set is replaced on every update. The same plotting library the HTML report uses.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** A chart bound to an element; `set` replaces the rows of its data set `"rows"`. */
export interface LiveChart {
  set(rows: object[]): void;
  /** Resizes to the container's width. */
  resize(): void;
  readonly view: vega.View;
}

/** Width available for a chart inside `el` (its padding and the y-axis labels excluded). */
function widthOf(el: HTMLElement): number {
  return Math.max(180, Math.min(760, el.clientWidth - 70));
}

/**
 * Mounts `spec` (which must read `{"data": {"name": "rows"}}`) in `el`, with `title` as the
 * chart's accessible name.
 */
export function liveChart(el: HTMLElement, spec: TopLevelSpec, title: string): LiveChart {
  const compiled = compile({ ...spec, width: widthOf(el) } as TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: "svg",
    container: el,
    hover: true,
  });
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", title);
  void view.runAsync();
  let queued: object[] | null = null;
  let scheduled = false;
  // Charts built inside a hidden section start narrow: refit whenever the layout changes
  // (the page fires "resize" when it shows a section).
  let lastWidth = widthOf(el);
  window.addEventListener("resize", () => {
    const w = widthOf(el);
    if (el.clientWidth === 0 || w === lastWidth) return;
    lastWidth = w;
    view
      .width(w)
      .runAsync()
      .catch(() => {});
  });
  return {
    view,
    set(rows) {
      // Coalesce bursts of updates into one render per animation frame.
      queued = rows;
      if (scheduled) return;
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        const data = queued ?? [];
        queued = null;
        view
          .change(
            "rows",
            vega
              .changeset()
              .remove(() => true)
              .insert(data.map((r) => ({ ...r }))),
          )
          .runAsync()
          .catch(() => {});
      });
    },
    resize() {
      view
        .width(widthOf(el))
        .runAsync()
        .catch(() => {});
    },
  };
}
