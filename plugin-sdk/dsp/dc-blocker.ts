/**
 * DC blocker: `y[n] = x[n] − x[n−1] + R·y[n−1]`, a first-order highpass at `cutoffHz` (default 10 Hz),
 * R = e^(−2π·fc/fs). Put one after anything that can drift (distortion with asymmetry, feedback
 * paths, integrators).
 *
 * Usage: `const dc = new DcBlocker(ctx.sampleRate)`; per block `dc.processBlock(buf, start, end)` (in
 * place); per sample `y = dc.process(x)` and `dc.flush()` once per block.
 * Thread: allocation-free after construction; every method is safe in `process`.
 */
import { flushDenormal } from './denormal.ts';

export class DcBlocker {
  private readonly r: number;
  private x1 = 0;
  private y1 = 0;

  constructor(sampleRate: number, cutoffHz = 10) {
    this.r = Math.exp((-2 * Math.PI * cutoffHz) / sampleRate);
  }

  /** Clears the state. */
  reset(): void {
    this.x1 = 0;
    this.y1 = 0;
  }

  /** One sample. */
  process(x: number): number {
    const y = x - this.x1 + this.r * this.y1;
    this.x1 = x;
    this.y1 = y;
    return y;
  }

  /** Flushes denormals and NaN from the state (once per block after per-sample use). */
  flush(): void {
    this.x1 = flushDenormal(this.x1);
    this.y1 = flushDenormal(this.y1);
  }

  /** Filters `buf[start..end)` in place. Allocation-free. */
  processBlock(buf: Float32Array, start: number, end: number): void {
    const r = this.r;
    let x1 = this.x1;
    let y1 = this.y1;
    for (let i = start; i < end; i++) {
      const x = buf[i];
      y1 = x - x1 + r * y1;
      x1 = x;
      buf[i] = y1;
    }
    this.x1 = flushDenormal(x1);
    this.y1 = flushDenormal(y1);
  }
}
