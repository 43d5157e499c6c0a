/**
 * One-pole lowpass: `y += a·(x − y)`. Two uses:
 * - a parameter smoother: `setTime(ms)` makes a step reach within 1 % of its target in `ms`
 *   milliseconds (the same meaning as `ParamSpec.smoothingMs`);
 * - a gentle 6 dB/octave filter: `setCutoff(hz)`; `highpass(x)` gives x − lowpass(x).
 *
 * Usage (create): `const s = new OnePole(ctx.sampleRate); s.setTime(20); s.reset(initial)`;
 * per sample: `v = s.next(target)`; per block: `s.processBlock(buf, start, end)` (lowpass in place).
 * Thread: allocation-free after construction; every method is safe in `process`.
 */
import { flushDenormal } from './denormal.ts';

export class OnePole {
  readonly sampleRate: number;
  /** The output (state). */
  value = 0;
  /** The coefficient a in (0, 1]; 1 passes the input through. */
  coefficient = 1;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
  }

  /** Smoothing time: a step gets within 1 % in `ms` (0 or less: no smoothing). */
  setTime(ms: number): void {
    const samples = (ms / 1000) * this.sampleRate;
    this.coefficient = samples >= 1 ? 1 - Math.pow(0.01, 1 / samples) : 1;
  }

  /** Lowpass cutoff in Hz (-3 dB point of the analog prototype; a = 1 − e^(−2π·fc/fs)). */
  setCutoff(hz: number): void {
    const c = 1 - Math.exp((-2 * Math.PI * (hz > 0 ? hz : 0)) / this.sampleRate);
    this.coefficient = c > 0 ? (c < 1 ? c : 1) : 0;
  }

  /** Jumps to `value`. */
  reset(value = 0): void {
    this.value = value;
  }

  /** One lowpass/smoother step towards `x`; returns the new value. */
  next(x: number): number {
    this.value += this.coefficient * (x - this.value);
    return this.value;
  }

  /** One highpass step: x minus the lowpass. */
  highpass(x: number): number {
    this.value += this.coefficient * (x - this.value);
    return x - this.value;
  }

  /** Lowpass `buf[start..end)` in place. Allocation-free. */
  processBlock(buf: Float32Array, start: number, end: number): void {
    const a = this.coefficient;
    let y = this.value;
    for (let i = start; i < end; i++) {
      y += a * (buf[i] - y);
      buf[i] = y;
    }
    this.value = flushDenormal(y);
  }
}
