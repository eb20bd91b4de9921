import { describe, expect, it } from "vitest";
import {
  lossAlongLine,
  nearestGhost,
  taylorCoefficients,
  taylorPolynomial,
} from "../../src/theory/index.js";

const z = [1.2, 3.4, -0.5, 2.9];
const a = [0.3, -1.1, 0.8, 0.6];

describe("taylorCoefficients", () => {
  it("matches the softmax moments for the first orders", () => {
    const p = z.map((v) => Math.exp(v));
    const s = p.reduce((x, y) => x + y, 0);
    const q = p.map((v) => v / s);
    const mean = q.reduce((acc, w, k) => acc + w * a[k], 0);
    const mu = (n: number) => q.reduce((acc, w, k) => acc + w * (a[k] - mean) ** n, 0);
    const c = taylorCoefficients(z, a, 2, 4);
    expect(c[0]).toBeCloseTo(Math.log(s) - z[2], 14);
    expect(c[1]).toBeCloseTo(mean - a[2], 14);
    expect(c[2]).toBeCloseTo(mu(2) / 2, 14);
    expect(c[3]).toBeCloseTo(mu(3) / 6, 14);
    expect(c[4]).toBeCloseTo((mu(4) - 3 * mu(2) ** 2) / 24, 14);
  });

  it("matches the binary series log(1 + e^x) around x = δ for K = 2", () => {
    // ℓ(t) = log(1 + e^{δ + Δt}) with δ = z1 − z0, Δ = a1 − a0 (label 0): derivatives of
    // softplus are σ, σ(1−σ), σ(1−σ)(1−2σ).
    const c = taylorCoefficients([0.5, 2], [0.25, 1], 0, 3);
    const sig = 1 / (1 + Math.exp(-1.5));
    expect(c[1]).toBeCloseTo(sig * 0.75, 14);
    expect(c[2]).toBeCloseTo((sig * (1 - sig) * 0.75 ** 2) / 2, 14);
    expect(c[3]).toBeCloseTo((sig * (1 - sig) * (1 - 2 * sig) * 0.75 ** 3) / 6, 14);
  });

  it("converges to the exact loss inside ρ* and its root test recovers ρ*", () => {
    const rho = nearestGhost(z, a).modulus;
    const c = taylorCoefficients(z, a, 1, 60);
    const t = 0.5 * rho;
    const err = (n: number) => Math.abs(taylorPolynomial(c, t, n) - lossAlongLine(z, a, 1, t));
    expect(err(40)).toBeLessThan(1e-9);
    expect(err(40)).toBeLessThan(err(10));
    // Cauchy–Hadamard: |c_n|^(-1/n) → ρ*; the largest of a few late terms is close.
    let best = 0;
    for (let n = 50; n <= 60; n++) best = Math.max(best, Math.abs(c[n]) ** (1 / n));
    expect(1 / best).toBeGreaterThan(0.9 * rho);
    expect(1 / best).toBeLessThan(1.1 * rho);
  });

  it("rejects bad input with a one-line error", () => {
    expect(() => taylorCoefficients([1, 2], [1], 0, 3)).toThrow(/differ in length/);
    expect(() => taylorCoefficients([1, 2], [1, 2], 2, 3)).toThrow(/label 2/);
    expect(() => taylorCoefficients([1, 2], [1, 2], 0, -1)).toThrow(/order/);
  });
});
