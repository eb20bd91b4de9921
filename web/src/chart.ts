/**
 * Live charts: a Vega-Lite spec compiled into a Vega view (SVG renderer), whose named data
 * set `"rows"` is replaced on every update. The same plotting library the HTML report uses.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** A chart bound to an element; `set` replaces the rows of its data set `"rows"`. */
export interface LiveChart {
  set(rows: object[]): void;
  /** Stops rendering and releases the view. */
  finalize(): void;
}

/** Width available for a chart inside `el` (the y-axis labels excluded). */
function widthOf(el: HTMLElement): number {
  return Math.max(180, Math.min(760, el.clientWidth - 70));
}

/**
 * Mounts `spec` (whose data set `{"name": "rows"}` is filled by `set`) in `el`, with `title`
 * as the chart's accessible name. When the element's width changes (a section is shown, the
 * window resized) the view is rebuilt at the new width: Vega's autosize does not re-run its
 * axis and legend layout reliably on a width change alone.
 */
export function liveChart(el: HTMLElement, spec: TopLevelSpec, title: string): LiveChart {
  el.setAttribute("role", "img");
  el.setAttribute("aria-label", title);
  let rows: object[] = [];
  let width = widthOf(el);
  const build = (): vega.View => {
    // resize: re-run the layout on every update, so axes and legends grow with the data
    const autosize = { type: "fit-x", contains: "padding", resize: true };
    const compiled = compile({ ...spec, width, autosize } as TopLevelSpec).spec;
    const v = new vega.View(vega.parse(compiled), { renderer: "svg", container: el, hover: true });
    v.change(
      "rows",
      vega
        .changeset()
        .remove(() => true)
        .insert(rows.map((r) => ({ ...r }))),
    )
      .runAsync()
      .catch(() => {});
    return v;
  };
  let view = build();
  let scheduled = false;
  const render = () => {
    if (scheduled) return;
    scheduled = true;
    // One render per animation frame, however fast the updates come.
    requestAnimationFrame(() => {
      scheduled = false;
      const w = widthOf(el);
      if (el.clientWidth > 0 && w !== width) {
        width = w;
        view.finalize();
        el.replaceChildren();
        view = build();
        return;
      }
      view
        .change(
          "rows",
          vega
            .changeset()
            .remove(() => true)
            .insert(rows.map((r) => ({ ...r }))),
        )
        .runAsync()
        .catch(() => {});
    });
  };
  const onResize = () => render();
  window.addEventListener("resize", onResize);
  return {
    set(next) {
      rows = next;
      render();
    },
    finalize() {
      window.removeEventListener("resize", onResize);
      view.finalize();
    },
  };
}
