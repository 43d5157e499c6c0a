/**
 * RBJ-cookbook biquad (Robert Bristow-Johnson, "Audio EQ Cookbook"), transposed direct form II in
 * float64. For effects: tone controls, low/high cuts, feedback-path filtering.
 *
 * Usage (create): `const hp = new Biquad(ctx.sampleRate); hp.setHighpass(100, Math.SQRT1_2)`;
 * per block: `hp.processBlock(buf, start, end)` (in place); per sample: `y = hp.process(x)` and
 * `hp.flush()` once per block.
 *
 * Coefficient setters use `Math.sin/cos` (a few hundred ns): call them per block, not per sample, and
 * only when the parameter changed (they return early when nothing changed).
 * Thread: allocation-free after construction; every method is safe in `process`.
 */
import { flushDenormal } from './denormal.ts';

const LOWPASS = 0;
const HIGHPASS = 1;

export class Biquad {
  readonly sampleRate: number;
  private b0 = 1;
  private b1 = 0;
  private b2 = 0;
  private a1 = 0;
  private a2 = 0;
  private z1 = 0;
  private z2 = 0;
  private type = -1;
  private freq = -1;
  private q = -1;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
  }

  /** Lowpass, cutoff `freqHz` (clamped to [1, 0.49·fs]), linear `q` (0.707 Butterworth). */
  setLowpass(freqHz: number, q: number): void {
    this.design(LOWPASS, freqHz, q);
  }

  /** Highpass, cutoff `freqHz` (clamped to [1, 0.49·fs]), linear `q`. */
  setHighpass(freqHz: number, q: number): void {
    this.design(HIGHPASS, freqHz, q);
  }

  private design(type: number, freqHz: number, q: number): void {
    if (type === this.type && freqHz === this.freq && q === this.q) return;
    this.type = type;
    this.freq = freqHz;
    this.q = q;
    let f = freqHz;
    if (!(f >= 1)) f = 1;
    else if (f > 0.49 * this.sampleRate) f = 0.49 * this.sampleRate;
    let qq = q;
    if (!(qq >= 0.05)) qq = 0.05;
    else if (qq > 100) qq = 100;
    const w0 = (2 * Math.PI * f) / this.sampleRate;
    const cos = Math.cos(w0);
    const alpha = Math.sin(w0) / (2 * qq);
    const a0 = 1 + alpha;
    const inv = 1 / a0;
    if (type === LOWPASS) {
      this.b0 = ((1 - cos) / 2) * inv;
      this.b1 = (1 - cos) * inv;
      this.b2 = this.b0;
    } else {
      this.b0 = ((1 + cos) / 2) * inv;
      this.b1 = -(1 + cos) * inv;
      this.b2 = this.b0;
    }
    this.a1 = -2 * cos * inv;
    this.a2 = (1 - alpha) * inv;
  }

  /** Clears the state. */
  reset(): void {
    this.z1 = 0;
    this.z2 = 0;
  }

  /** One sample. */
  process(x: number): number {
    const y = this.b0 * x + this.z1;
    this.z1 = this.b1 * x - this.a1 * y + this.z2;
    this.z2 = this.b2 * x - this.a2 * y;
    return y;
  }

  /** Flushes denormals and NaN from the state (once per block after per-sample use). */
  flush(): void {
    this.z1 = flushDenormal(this.z1);
    this.z2 = flushDenormal(this.z2);
  }

  /** Filters `buf[start..end)` in place. Allocation-free. */
  processBlock(buf: Float32Array, start: number, end: number): void {
    const b0 = this.b0, b1 = this.b1, b2 = this.b2, a1 = this.a1, a2 = this.a2;
    let z1 = this.z1;
    let z2 = this.z2;
    for (let i = start; i < end; i++) {
      const x = buf[i];
      const y = b0 * x + z1;
      z1 = b1 * x - a1 * y + z2;
      z2 = b2 * x - a2 * y;
      buf[i] = y;
    }
    this.z1 = flushDenormal(z1);
    this.z2 = flushDenormal(z2);
  }
}
