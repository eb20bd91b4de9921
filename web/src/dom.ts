/** Small DOM helpers shared by the explorer's widgets. */

/** The element with this id (throws naming it when the page lacks it). */
export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no element #${id}`);
  return el;
}

/** A new element with attributes and children. */
export function make(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** A number for display: 4 significant digits, ∞ for infinities, – for NaN. */
export function fmt(v: number | undefined, digits = 4): string {
  if (v === undefined || Number.isNaN(v)) return "–";
  if (v === Number.POSITIVE_INFINITY) return "∞";
  if (v === Number.NEGATIVE_INFINITY) return "−∞";
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}
