/**
 * What the ghost plane draws besides the library's answers: |F(t)| over a grid of the complex
 * t-plane, and further zeros of F(t) = Σ_k e^{z_k + a_k t} found by Newton's method from the
 * grid's local minima (for display; the nearest zero and the radii come from the library).
 */

/** |F(t)| relative to Σ_k |e^{z_k + a_k t}| (1 = no cancellation, 0 = a zero), on a grid. */
export function cancellationGrid(
  z: readonly number[],
  a: readonly number[],
  half: number,
  size: number,
): Float64Array {
  const zmax = Math.max(...z);
  const out = new Float64Array(size * size);
  for (let row = 0; row < size; row++) {
    const im = half - ((row + 0.5) / size) * 2 * half;
    for (let col = 0; col < size; col++) {
      const re = -half + ((col + 0.5) / size) * 2 * half;
      let mx = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < z.length; k++) mx = Math.max(mx, z[k] - zmax + a[k] * re);
      let sr = 0;
      let si = 0;
      let sa = 0;
      for (let k = 0; k < z.length; k++) {
        const m = Math.exp(z[k] - zmax + a[k] * re - mx);
        sr += m * Math.cos(a[k] * im);
        si += m * Math.sin(a[k] * im);
        sa += m;
      }
      out[row * size + col] = Math.hypot(sr, si) / sa;
    }
  }
  return out;
}

/** Newton's method on F from `t0`; null when it does not converge to a zero. */
function newton(z: readonly number[], a: readonly number[], re0: number, im0: number) {
  const zmax = Math.max(...z);
  let re = re0;
  let im = im0;
  for (let it = 0; it < 40; it++) {
    let fr = 0;
    let fi = 0;
    let dr = 0;
    let di = 0;
    let scale = 0;
    for (let k = 0; k < z.length; k++) {
      const m = Math.exp(z[k] - zmax + a[k] * re);
      const c = m * Math.cos(a[k] * im);
      const s = m * Math.sin(a[k] * im);
      fr += c;
      fi += s;
      dr += a[k] * c;
      di += a[k] * s;
      scale += m;
    }
    const den = dr * dr + di * di;
    if (den === 0) return null;
    const stepRe = (fr * dr + fi * di) / den;
    const stepIm = (fi * dr - fr * di) / den;
    re -= stepRe;
    im -= stepIm;
    if (Math.hypot(stepRe, stepIm) < 1e-12 * (1 + Math.hypot(re, im))) {
      return Math.hypot(fr, fi) < 1e-8 * scale ? { re, im } : null;
    }
  }
  return null;
}

/** Zeros of F visible in the square |Re t|, |Im t| ≤ half (both half planes). */
export function visibleZeros(
  z: readonly number[],
  a: readonly number[],
  half: number,
  grid: Float64Array,
  size: number,
): { re: number; im: number }[] {
  const found: { re: number; im: number }[] = [];
  const at = (r: number, c: number) => grid[r * size + c];
  for (let r = 1; r < size - 1; r++) {
    for (let c = 1; c < size - 1; c++) {
      const v = at(r, c);
      if (v > 0.2) continue;
      if (
        v > at(r - 1, c) ||
        v > at(r + 1, c) ||
        v > at(r, c - 1) ||
        v > at(r, c + 1) ||
        v > at(r - 1, c - 1) ||
        v > at(r + 1, c + 1)
      )
        continue;
      const re0 = -half + ((c + 0.5) / size) * 2 * half;
      const im0 = half - ((r + 0.5) / size) * 2 * half;
      const zero = newton(z, a, re0, im0);
      if (!zero || Math.abs(zero.re) > half || Math.abs(zero.im) > half) continue;
      if (found.some((f) => Math.hypot(f.re - zero.re, f.im - zero.im) < 1e-6 * half)) continue;
      found.push(zero);
    }
  }
  return found;
}
