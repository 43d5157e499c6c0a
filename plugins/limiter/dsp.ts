/**
 * limiter1, pure DSP: a stereo-linked look-ahead brick-wall peak limiter for the master bus.
 *
 * Per sample n (x = the incoming stereo frame, c = the ceiling as a linear gain, D = look-ahead):
 *
 *   need[n] = min(1, c / max(|xL|, |xR|))             the gain this frame needs (stereo-linked)
 *   hold[n] = min(need[n−D … n])                      sliding minimum over D+1 frames (a monotonic
 *                                                     deque: O(1) per sample)
 *   rel[n]  = hold[n] if hold[n] < rel[n−1],          instant attack, exponential release with
 *             else rel[n−1] + (hold[n] − rel[n−1])·a  time constant `release`
 *   gain[n] = mean(rel[n−D … n])                      box filter: turns every step into a linear
 *                                                     ramp of D+1 samples (no clicks)
 *   out[n]  = x[n−D] · gain[n], then clamped to ±c    (the clamp is a safety net for rounding)
 *
 * Why nothing exceeds the ceiling: a frame entering at n0 needs need[n0]; it leaves at n0+D. Every
 * hold[n] for n in [n0, n0+D] includes n0 in its window, so hold ≤ need[n0]; rel follows any fall at
 * once, so rel ≤ hold; the mean of D+1 values each ≤ need[n0] is ≤ need[n0]. So the ramp reaches the
 * needed gain exactly when the peak leaves, and |out| ≤ c.
 *
 * Latency: D = round(1.5 ms · fs) samples (72 at 48 kHz), fixed.
 * Thread: constructor and `getState` allocate; `setParams`, `process` are allocation-free.
 */
import { clamp, DENORMAL_THRESHOLD } from 'plugin-sdk';

export const LOOKAHEAD_MS = 1.5;

export interface LimiterState {
  v: 1;
  lookahead: number;
  bufL: Float32Array;
  bufR: Float32Array;
  pos: number;
  frame: number;
  dequeValue: number[];
  dequeFrame: number[];
  release: number;
  box: number[];
  boxPos: number;
}

export class LimiterDsp {
  readonly sampleRate: number;
  /** Look-ahead (= latency) in samples. */
  readonly lookahead: number;
  private readonly bufL: Float32Array;
  private readonly bufR: Float32Array;
  private readonly mask: number;
  private pos = 0;
  /** Frames processed (the deque's clock). */
  private frame = 0;
  // Monotonic deque of (need, frame), increasing need from head to tail.
  private readonly dqValue: Float64Array;
  private readonly dqFrame: Float64Array;
  private readonly dqMask: number;
  private dqHead = 0;
  private dqCount = 0;
  private rel = 1;
  private readonly box: Float64Array;
  private boxPos = 0;
  private ceiling = 1;
  private ceilingDb = NaN;
  private releaseMs = NaN;
  private releaseCoef = 0;
  /** Lowest gain applied in the last `process` call (1 = no reduction); for meters and tests. */
  minGain = 1;

  constructor(sampleRate: number, lookaheadMs = LOOKAHEAD_MS) {
    this.sampleRate = sampleRate;
    const d = Math.max(1, Math.round((lookaheadMs / 1000) * sampleRate));
    this.lookahead = d;
    let size = 1;
    while (size < d + 1) size *= 2;
    this.bufL = new Float32Array(size);
    this.bufR = new Float32Array(size);
    this.mask = size - 1;
    let dq = 1;
    while (dq < d + 2) dq *= 2;
    this.dqValue = new Float64Array(dq);
    this.dqFrame = new Float64Array(dq);
    this.dqMask = dq - 1;
    this.box = new Float64Array(d + 1).fill(1);
    this.setParams(-1, 100);
  }

  /** Ceiling in dBFS (≤ 0) and release time constant in ms. Cheap when unchanged. */
  setParams(ceilingDb: number, releaseMs: number): void {
    if (ceilingDb === this.ceilingDb && releaseMs === this.releaseMs) return;
    this.ceilingDb = ceilingDb;
    this.releaseMs = releaseMs;
    const c = Math.pow(10, (ceilingDb < 0 ? ceilingDb : 0) / 20);
    this.ceiling = c;
    const samples = ((releaseMs > 1 ? releaseMs : 1) / 1000) * this.sampleRate;
    this.releaseCoef = 1 - Math.exp(-1 / samples);
  }

  /** Limits `l` and `r` over [start, end) in place (output delayed by `lookahead`). */
  process(l: Float32Array, r: Float32Array, start: number, end: number): void {
    const c = this.ceiling;
    const a = this.releaseCoef;
    const d = this.lookahead;
    const span = d + 1;
    const invSpan = 1 / span;
    const bufL = this.bufL;
    const bufR = this.bufR;
    const mask = this.mask;
    const dqV = this.dqValue;
    const dqF = this.dqFrame;
    const dqMask = this.dqMask;
    const box = this.box;
    let pos = this.pos;
    let frame = this.frame;
    let head = this.dqHead;
    let count = this.dqCount;
    let rel = this.rel;
    let boxPos = this.boxPos;
    // Re-add the box exactly once per call, so rounding in the running sum never accumulates.
    let sum = 0;
    for (let k = 0; k < span; k++) sum += box[k];
    let minGain = 1;

    for (let i = start; i < end; i++) {
      let xl = l[i];
      let xr = r[i];
      if (xl !== xl) xl = 0;
      if (xr !== xr) xr = 0;
      const al = xl < 0 ? -xl : xl;
      const ar = xr < 0 ? -xr : xr;
      const pk = al > ar ? al : ar;
      const need = pk > c ? c / pk : 1;
      // Sliding minimum: drop larger needs from the back, expired ones from the front.
      while (count > 0 && dqV[(head + count - 1) & dqMask] >= need) count--;
      const slot = (head + count) & dqMask;
      dqV[slot] = need;
      dqF[slot] = frame;
      count++;
      while (dqF[head] <= frame - span) {
        head = (head + 1) & dqMask;
        count--;
      }
      const hold = dqV[head];
      rel = hold < rel ? hold : rel + (hold - rel) * a;
      sum += rel - box[boxPos];
      box[boxPos] = rel;
      boxPos = boxPos + 1 === span ? 0 : boxPos + 1;
      let g = sum * invSpan;
      if (g > 1) g = 1;
      if (g < minGain) minGain = g;
      // Delay line: read the frame from d samples ago, then store this one.
      const rp = (pos - d) & mask;
      let yl = bufL[rp] * g;
      let yr = bufR[rp] * g;
      bufL[pos] = xl;
      bufR[pos] = xr;
      pos = (pos + 1) & mask;
      frame++;
      if (yl > c) yl = c;
      else if (yl < -c) yl = -c;
      if (yr > c) yr = c;
      else if (yr < -c) yr = -c;
      l[i] = yl;
      r[i] = yr;
    }
    this.pos = pos;
    this.frame = frame;
    this.dqHead = head;
    this.dqCount = count;
    // Inline, not the SDK's flushDenormal: a call into the SDK's realm boxes a fractional argument.
    this.rel = rel > DENORMAL_THRESHOLD ? rel : 0;
    this.boxPos = boxPos;
    this.minGain = minGain;
  }

  /** Everything in flight (between blocks). */
  getState(): LimiterState {
    const dv: number[] = [];
    const df: number[] = [];
    for (let k = 0; k < this.dqCount; k++) {
      const s = (this.dqHead + k) & this.dqMask;
      dv.push(this.dqValue[s]);
      df.push(this.dqFrame[s]);
    }
    return {
      v: 1,
      lookahead: this.lookahead,
      bufL: Float32Array.from(this.bufL),
      bufR: Float32Array.from(this.bufR),
      pos: this.pos,
      frame: this.frame,
      dequeValue: dv,
      dequeFrame: df,
      release: this.rel,
      box: Array.from(this.box),
      boxPos: this.boxPos,
    };
  }

  /** Restores `getState()` output; a state of another geometry (sample rate) is ignored. */
  setState(state: unknown): void {
    const s = state as Partial<LimiterState> | null;
    if (s === null || typeof s !== 'object') return;
    if (s.lookahead !== this.lookahead) return;
    if (!(s.bufL instanceof Float32Array) || !(s.bufR instanceof Float32Array)) return;
    if (s.bufL.length !== this.bufL.length || s.bufR.length !== this.bufR.length) return;
    if (!Array.isArray(s.box) || s.box.length !== this.box.length) return;
    if (!Array.isArray(s.dequeValue) || !Array.isArray(s.dequeFrame) || s.dequeValue.length !== s.dequeFrame.length) return;
    if (s.dequeValue.length > this.dqValue.length) return;
    const num = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);
    for (let i = 0; i < this.bufL.length; i++) {
      this.bufL[i] = num(s.bufL[i], 0);
      this.bufR[i] = num(s.bufR[i], 0);
    }
    this.pos = num(s.pos, 0) & this.mask;
    this.frame = num(s.frame, 0);
    this.dqHead = 0;
    this.dqCount = s.dequeValue.length;
    for (let k = 0; k < this.dqCount; k++) {
      this.dqValue[k] = clamp(num(s.dequeValue[k], 1), 0, 1);
      this.dqFrame[k] = num(s.dequeFrame[k], this.frame);
    }
    this.rel = clamp(num(s.release, 1), 0, 1);
    for (let i = 0; i < this.box.length; i++) this.box[i] = clamp(num(s.box[i], 1), 0, 1);
    const bp = num(s.boxPos, 0);
    this.boxPos = bp >= 0 && bp < this.box.length ? Math.floor(bp) : 0;
  }
}
