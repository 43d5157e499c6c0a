/**
 * A delay line: a power-of-two ring of float32 samples indexed with a mask (no modulo, no branch),
 * read at an integer delay or at a fractional one with 4-point cubic Hermite interpolation
 * (Catmull-Rom; exact at integer delays, smooth while the delay glides).
 *
 * Convention: `read*(d)` returns the sample written `d` writes ago, counting the next `write` as the
 * present: call `read` before `write` in the per-sample loop, so `d = 1` is the previous input.
 * `readHermite` needs 2 ≤ d ≤ `capacity` − 2 (it clamps to that range).
 *
 * Usage (create): `const line = new DelayLine(Math.ceil(0.6 * fs) + 4)`; per sample:
 * `y = line.readHermite(d); line.write(x + fb * y)`. Hot loops may take `buffer`, `mask` and `pos`
 * into locals and write `pos` back. `DelayLineState` is also the saved form of delay1's lines
 * (plugins/delay/dsp.ts, which runs its own stereo ring in a WebAssembly kernel).
 *
 * Thread: the constructor and `getState` allocate (create time / between blocks); `write`, `read*`,
 * `clear` are allocation-free and safe in `process`.
 */
import { clamp } from './clamp.ts';

export interface DelayLineState {
  /** The ring, oldest data at `pos`. */
  buffer: Float32Array;
  pos: number;
}

/** The smallest power of two ≥ n (n ≥ 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class DelayLine {
  readonly buffer: Float32Array;
  readonly mask: number;
  /** Where the next `write` goes. */
  pos = 0;

  /** A line that can delay by at least `maxDelaySamples` (rounded up to a power of two, +4 for interpolation). */
  constructor(maxDelaySamples: number) {
    const size = nextPowerOfTwo(Math.max(4, Math.ceil(maxDelaySamples) + 4));
    this.buffer = new Float32Array(size);
    this.mask = size - 1;
  }

  /** The ring length (a power of two). */
  get capacity(): number {
    return this.buffer.length;
  }

  write(x: number): void {
    this.buffer[this.pos] = x;
    this.pos = (this.pos + 1) & this.mask;
  }

  /** The sample written `d` writes ago (integer d ≥ 1). */
  readInt(d: number): number {
    return this.buffer[(this.pos - d) & this.mask];
  }

  /** The signal `d` samples ago, fractional, 4-point Hermite (d clamped to [2, capacity − 2]). */
  readHermite(d: number): number {
    const max = this.mask - 1;
    const dd = clamp(d, 2, max);
    const di = Math.floor(dd);
    const f = dd - di;
    const buf = this.buffer;
    const m = this.mask;
    const base = this.pos - di;
    const xm1 = buf[(base + 1) & m];
    const x0 = buf[base & m];
    const x1 = buf[(base - 1) & m];
    const x2 = buf[(base - 2) & m];
    return hermite4(f, xm1, x0, x1, x2);
  }

  clear(): void {
    this.buffer.fill(0);
    this.pos = 0;
  }

  /** A copy of the ring (between blocks). */
  getState(): DelayLineState {
    return { buffer: Float32Array.from(this.buffer), pos: this.pos };
  }

  /**
   * Restores `getState()` output. A ring of another length (another sample rate or maximum delay)
   * is copied newest-first as far as it fits; anything that is not a delay line state is ignored.
   */
  setState(state: unknown): void {
    const s = state as Partial<DelayLineState> | null;
    if (s === null || typeof s !== 'object') return;
    const from = s.buffer as unknown;
    if (!(from instanceof Float32Array || from instanceof Float64Array || Array.isArray(from))) return;
    const src = from as ArrayLike<number>;
    const len = src.length;
    if (len === 0) return;
    let pos = typeof s.pos === 'number' && Number.isInteger(s.pos) ? s.pos : 0;
    if (pos < 0 || pos >= len) pos = 0;
    const buf = this.buffer;
    if (len === buf.length) {
      // Same geometry: a verbatim copy, so getState() after setState() gives the same state back.
      for (let i = 0; i < len; i++) {
        const v = Number(src[i]);
        buf[i] = Number.isFinite(v) ? v : 0;
      }
      this.pos = pos;
      return;
    }
    buf.fill(0);
    const n = len < buf.length ? len : buf.length;
    // Newest sample first: src[pos − 1], src[pos − 2], … into buf[size − 1], buf[size − 2], …
    for (let k = 1; k <= n; k++) {
      const v = Number(src[(((pos - k) % len) + len) % len]);
      buf[buf.length - k] = Number.isFinite(v) ? v : 0;
    }
    this.pos = 0;
  }
}

/**
 * 4-point, 3rd-order Hermite (Catmull-Rom) interpolation between x0 (f = 0) and x1 (f = 1), with
 * neighbours xm1 before and x2 after.
 */
export function hermite4(f: number, xm1: number, x0: number, x1: number, x2: number): number {
  const c1 = 0.5 * (x1 - xm1);
  const c2 = xm1 - 2.5 * x0 + 2 * x1 - 0.5 * x2;
  const c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
  return ((c3 * f + c2) * f + c1) * f + x0;
}
