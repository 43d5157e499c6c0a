/**
 * Resonant 2-pole state-variable filter, topology-preserving transform (Zavalishin; Simper's
 * "SvfLinearTrapOptimised2" form). Stable under arbitrarily fast cutoff/Q modulation, exact
 * (bilinear, prewarped) cutoff, lowpass/bandpass/highpass outputs from one state.
 *
 * Usage (create): `const f = new Svf(ctx.sampleRate)`; per block: `f.setParams(cutoffHz, q)` then
 * `f.processLowpass(buf, start, end)` (in place); per sample: `y = f.lowpass(x)`; with a cutoff per
 * sample: `f.processLowpassCutoffs(buf, start, end, cutoffs, q)`.
 *
 * `q` is linear (0.707 = Butterworth, no peak; 10 = +20 dB resonance peak); it is clamped to
 * [0.05, 100]. The cutoff is clamped to [1 Hz, 0.49·fs]. `setParams` costs a rational tan
 * approximation and three divisions (no `Math.tan`, ~10 ns), cheap enough to call every sample.
 *
 * Thread: construction allocates nothing beyond the object; every method is allocation-free and safe
 * in `process`.
 */
import { flushDenormal } from './denormal.ts';

/**
 * tan(x) for 0 ≤ x < π/2 by the [5/4] Padé approximant: relative error < 2e-6 up to x = π·0.375
 * (18 kHz at 48 kHz), 3e-4 at π·0.49; the cutoff it implies is within 0.011 cent of exact up to
 * 0.49·fs. Allocation-free.
 */
export function tanPade(x: number): number {
  const x2 = x * x;
  return (x * (945 + x2 * (-105 + x2))) / (945 + x2 * (-420 + 15 * x2));
}

/**
 * The TPT lowpass gains for a cutoff (Hz, clamped to [1, maxCutoff]) and linear Q (clamped to
 * [0.05, 100]): writes a1, a2, a3 into `out[0..2]` and returns k = 1/Q. Shared by `Svf` and the
 * voices' SIMD bank so both filters are the same filter. Allocation-free.
 */
export function svfGains(out: Float64Array, cutoffHz: number, q: number, piOverFs: number, maxCutoff: number): number {
  let fc = cutoffHz;
  if (!(fc >= 1)) fc = 1;
  else if (fc > maxCutoff) fc = maxCutoff;
  let qq = q;
  if (!(qq >= 0.05)) qq = 0.05;
  else if (qq > 100) qq = 100;
  const g = tanPade(fc * piOverFs);
  const k = 1 / qq;
  const a1 = 1 / (1 + g * (g + k));
  out[0] = a1;
  out[1] = g * a1;
  out[2] = g * out[1];
  return k;
}

export class Svf {
  readonly sampleRate: number;
  /** Integrator states (public for inspection; do not write in `process`). */
  ic1 = 0;
  ic2 = 0;
  private readonly gains = new Float64Array(3);
  private a1 = 1;
  private a2 = 0;
  private a3 = 0;
  // The same update written as a state-space step (shorter dependency chain, ~35 % faster blocks):
  // ic1' = m11·ic1 + m12·ic2 + b1·x;  ic2' = m21·ic1 + m22·ic2 + b2·x;  y = c1·ic1 + c2·ic2 + d·x.
  private m11 = 1;
  private m12 = 0;
  private m22 = 1;
  private b1 = 0;
  private b2 = 0;
  private c2 = 1;
  private k = 1.4142135623730951;
  private cutoff = -1;
  private q = -1;
  private readonly piOverFs: number;
  private readonly maxCutoff: number;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    this.piOverFs = Math.PI / sampleRate;
    this.maxCutoff = 0.49 * sampleRate;
    this.setParams(1000, Math.SQRT1_2);
  }

  /** Sets cutoff (Hz) and linear Q. Skips the work when both are unchanged. Allocation-free. */
  setParams(cutoffHz: number, q: number): void {
    if (cutoffHz === this.cutoff && q === this.q) return;
    this.cutoff = cutoffHz;
    this.q = q;
    const gains = this.gains;
    this.k = svfGains(gains, cutoffHz, q, this.piOverFs, this.maxCutoff);
    const a1 = gains[0];
    const a2 = gains[1];
    const a3 = gains[2];
    this.a1 = a1;
    this.a2 = a2;
    this.a3 = a3;
    this.m11 = 2 * a1 - 1;
    this.m12 = -2 * a2;
    this.m22 = 1 - 2 * a3;
    this.b1 = 2 * a2;
    this.b2 = 2 * a3;
    this.c2 = 1 - a3;
  }

  /** Clears the state. */
  reset(): void {
    this.ic1 = 0;
    this.ic2 = 0;
  }

  /** One lowpass sample. Call `flush()` once per block when using the per-sample methods. */
  lowpass(x: number): number {
    const v3 = x - this.ic2;
    const v1 = this.a1 * this.ic1 + this.a2 * v3;
    const v2 = this.ic2 + this.a2 * this.ic1 + this.a3 * v3;
    this.ic1 = 2 * v1 - this.ic1;
    this.ic2 = 2 * v2 - this.ic2;
    return v2;
  }

  /** One bandpass sample (gain Q at the cutoff; scale by 1/Q for a unity peak). */
  bandpass(x: number): number {
    const v3 = x - this.ic2;
    const v1 = this.a1 * this.ic1 + this.a2 * v3;
    const v2 = this.ic2 + this.a2 * this.ic1 + this.a3 * v3;
    this.ic1 = 2 * v1 - this.ic1;
    this.ic2 = 2 * v2 - this.ic2;
    return v1;
  }

  /** One highpass sample. */
  highpass(x: number): number {
    const v3 = x - this.ic2;
    const v1 = this.a1 * this.ic1 + this.a2 * v3;
    const v2 = this.ic2 + this.a2 * this.ic1 + this.a3 * v3;
    this.ic1 = 2 * v1 - this.ic1;
    this.ic2 = 2 * v2 - this.ic2;
    return x - this.k * v1 - v2;
  }

  /** Flushes denormals and NaN from the state (once per block after per-sample use). */
  flush(): void {
    this.ic1 = flushDenormal(this.ic1);
    this.ic2 = flushDenormal(this.ic2);
  }

  /** Lowpass `buf[start..end)` in place with the current coefficients. Allocation-free. */
  processLowpass(buf: Float32Array, start: number, end: number): void {
    const m11 = this.m11, m12 = this.m12, m22 = this.m22;
    const b1 = this.b1, b2 = this.b2;
    const c1 = this.a2, c2 = this.c2, d = this.a3;
    let ic1 = this.ic1;
    let ic2 = this.ic2;
    for (let i = start; i < end; i++) {
      const x = buf[i];
      const y = c1 * ic1 + c2 * ic2 + d * x;
      const n1 = m11 * ic1 + m12 * ic2 + b1 * x;
      ic2 = b1 * ic1 + m22 * ic2 + b2 * x;
      ic1 = n1;
      buf[i] = y;
    }
    this.ic1 = flushDenormal(ic1);
    this.ic2 = flushDenormal(ic2);
  }

  /**
   * Lowpass `buf[start..end)` in place with cutoff `cutoffs[i]` (Hz) for sample i and a constant
   * `q`; coefficients are recomputed every sample (Padé tan, one division). Allocation-free.
   * Afterwards `setParams` holds the last sample's cutoff.
   */
  processLowpassCutoffs(buf: Float32Array, start: number, end: number, cutoffs: Float64Array | Float32Array, q: number): void {
    if (end <= start) return;
    let qq = q;
    if (!(qq >= 0.05)) qq = 0.05;
    else if (qq > 100) qq = 100;
    const k = 1 / qq;
    const piOverFs = this.piOverFs;
    const maxCutoff = this.maxCutoff;
    let ic1 = this.ic1;
    let ic2 = this.ic2;
    for (let i = start; i < end; i++) {
      let fc = cutoffs[i];
      if (!(fc >= 1)) fc = 1;
      else if (fc > maxCutoff) fc = maxCutoff;
      // g = tan(π·fc/fs) = num/den (Padé); a1 = 1/(1 + g(g + k)), a2 = g·a1, a3 = g·a2 — with
      // a single division: a1 = den²/D, a2 = num·den/D, a3 = num²/D, D = den² + num² + k·num·den.
      const x = fc * piOverFs;
      const x2 = x * x;
      const num = x * (945 + x2 * (-105 + x2));
      const den = 945 + x2 * (-420 + 15 * x2);
      const inv = 1 / (den * den + num * (num + k * den));
      const a2 = num * den * inv;
      const a1 = den * den * inv;
      const a3 = num * num * inv;
      const v3 = buf[i] - ic2;
      const v1 = a1 * ic1 + a2 * v3;
      const v2 = ic2 + a2 * ic1 + a3 * v3;
      ic1 = 2 * v1 - ic1;
      ic2 = 2 * v2 - ic2;
      buf[i] = v2;
    }
    this.ic1 = flushDenormal(ic1);
    this.ic2 = flushDenormal(ic2);
    this.setParams(cutoffs[end - 1], q);
  }

  /** Plain JSON for hot reload (between blocks). */
  getState(): { ic1: number; ic2: number } {
    return { ic1: this.ic1, ic2: this.ic2 };
  }

  /** Restores `getState()` output; tolerates missing fields. */
  setState(state: { ic1?: unknown; ic2?: unknown } | null | undefined): void {
    if (state === null || typeof state !== 'object') return;
    if (typeof state.ic1 === 'number' && Number.isFinite(state.ic1)) this.ic1 = state.ic1;
    if (typeof state.ic2 === 'number' && Number.isFinite(state.ic2)) this.ic2 = state.ic2;
  }
}
