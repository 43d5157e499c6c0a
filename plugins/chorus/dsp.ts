/**
 * chorus1, pure DSP: a stereo chorus as a send effect. It reads a stereo send bus and ADDS its wet
 * output × mix to an output bus.
 *
 * Per side, VOICES (3) taps read one delay line (the SDK's `DelayLine` holds it; the 4-point
 * Hermite read is written out in the loop) at
 *
 *   d_j = time + depth · sin(2π(φ + j/3) + π·width·side)      side 0 left, 1 right
 *   wet = (1/3) Σ_j line[n − d_j]
 *   line[n] = x + feedback · wet     (denormals and NaN flushed to 0, bounded to ±MAX_STATE_SAMPLE)
 *   out    += wet · mix
 *
 * so the three voices of a side sweep a third of a cycle apart (their mean delay stays at `time`),
 * and with width 1 each right voice sweeps opposite its left twin (with width 0 both sides are alike:
 * a mono send gives a mono wet signal). `depth` is held at most `time − MIN_DELAY_MS`, so no tap
 * reads ahead of the write. The LFO is one phase φ (cycles) advanced per chunk of RAMP_CHUNK frames
 * by rate/fs per frame; inside a chunk it is a rotating (cos, sin) pair, exact at each chunk start.
 * With feedback < 1 the loop gain is below 1 (the wet signal is a mean of reads of the line), so it
 * always decays.
 *
 * Controls arrive per sample (`ChorusControls`, filled from the kernel's smoothed parameters); the
 * rate and width are taken once per chunk. Every control is clamped to its range here too (NaN to
 * the lower end), so the DSP stays finite whatever it is handed.
 *
 * Idle: after the input and the wet output have stayed below -120 dBFS for longer than the line,
 * the lines are cleared and `process` returns at once until input arrives (a scan of the input).
 *
 * Thread: constructor and `getState` allocate; `process` is allocation-free.
 */
import { DelayLine, MAX_STATE_SAMPLE, RAMP_CHUNK, type DelayLineState } from 'plugin-sdk';

export const VOICES = 3;
export const MAX_TIME_MS = 40;
export const MAX_DEPTH_MS = 10;
export const MIN_DELAY_MS = 1;
export const MAX_FEEDBACK = 0.9;
export const MAX_RATE_HZ = 10;

/** Below this (-120 dBFS) input and output count as silence. */
const QUIET = 1e-6;
const TWO_PI = 2 * Math.PI;

/** Per-sample controls of one span, [start, end) filled (Float32Arrays of maxBlock, allocated once). */
export interface ChorusControls {
  /** Centre delay, ms. */
  readonly time: Float32Array;
  /** Sweep, ± ms around the centre. */
  readonly depth: Float32Array;
  /** LFO rate, Hz (read once per chunk). */
  readonly rate: Float32Array;
  readonly feedback: Float32Array;
  /** 0 … 1: the right side's LFO offset, in half cycles (read once per chunk). */
  readonly width: Float32Array;
  readonly mix: Float32Array;
}

export interface ChorusState {
  v: 1;
  /** LFO phase, cycles in [0, 1). */
  phase: number;
  idle: boolean;
  quietFrames: number;
  lines: DelayLineState[];
}

export class ChorusDsp {
  readonly sampleRate: number;
  private readonly left: DelayLine;
  private readonly right: DelayLine;
  /** LFO phase, cycles in [0, 1). */
  private phase = 0;
  private idle = true;
  private quietFrames = 0;
  /** Frames of silence after which the lines hold nothing audible. */
  private readonly idleAfter: number;
  /** cos and sin of each voice's phase offset, left voices then right voices (for the width set in `offsetsFor`). */
  private readonly offCos = new Float64Array(2 * VOICES);
  private readonly offSin = new Float64Array(2 * VOICES);
  private offsetsFor = NaN;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    const frames = Math.ceil(((MAX_TIME_MS + MAX_DEPTH_MS) / 1000) * sampleRate) + 4;
    this.left = new DelayLine(frames);
    this.right = new DelayLine(frames);
    this.idleAfter = this.left.capacity;
    this.setWidth([1], 0);
  }

  /**
   * Adds the wet output of [start, end) × mix into `outL`/`outR`, reading `inL`/`inR`. Allocation-free.
   */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, start: number, end: number, c: ChorusControls): void {
    if (this.idle) {
      if (!heard(inL, inR, start, end)) return;
      this.idle = false;
      this.quietFrames = 0;
    }
    // Everything below is inline, no calls with numbers: V8 boxes a number passed to (or returned
    // from) a call it did not inline, a heap allocation per call on the audio thread. And the module's
    // constants go into number-typed locals first: read from the module scope they are untyped for
    // the optimizer, and a ternary mixing one with a computed double boxes every result (measured:
    // 12 KB a block; none with the locals).
    const minMs = +MIN_DELAY_MS;
    const maxTimeMs = +MAX_TIME_MS;
    const maxDepthMs = +MAX_DEPTH_MS;
    const maxFeedback = +MAX_FEEDBACK;
    const maxRate = +MAX_RATE_HZ;
    const limit = +MAX_STATE_SAMPLE;
    const quiet = +QUIET;
    const msToFrames = this.sampleRate / 1000;
    const minDelay = minMs * msToFrames;
    const bufL = this.left.buffer;
    const bufR = this.right.buffer;
    const mask = this.left.mask;
    let posL = this.left.pos;
    let posR = this.right.pos;
    const offCos = this.offCos;
    const offSin = this.offSin;
    const norm = 1 / VOICES;
    let loud = false;
    for (let c0 = start; c0 < end; c0 += RAMP_CHUNK) {
      const c1 = c0 + RAMP_CHUNK < end ? c0 + RAMP_CHUNK : end;
      this.setWidth(c.width, c0);
      const r0 = c.rate[c0];
      const rate = (r0 >= 0 ? (r0 <= maxRate ? r0 : maxRate) : 0) / this.sampleRate;
      const theta = TWO_PI * this.phase;
      let cs = Math.cos(theta);
      let sn = Math.sin(theta);
      const cr = Math.cos(TWO_PI * rate);
      const sr = Math.sin(TWO_PI * rate);
      for (let i = c0; i < c1; i++) {
        const t = c.time[i];
        const time = (t >= minMs ? (t <= maxTimeMs ? t : maxTimeMs) : minMs) * msToFrames;
        const dp = c.depth[i];
        let depth = (dp >= 0 ? (dp <= maxDepthMs ? dp : maxDepthMs) : 0) * msToFrames;
        if (depth > time - minDelay) depth = time - minDelay;
        let wl = 0;
        let wr = 0;
        // The left voices (k < VOICES) read the left line, the right ones the right line.
        for (let k = 0; k < 2 * VOICES; k++) {
          const buf = k < VOICES ? bufL : bufR;
          // sin(θ + α_k) = sin θ cos α_k + cos θ sin α_k; d ≥ minDelay ≥ 2 and ≤ the line's length − 4.
          const d = time + depth * (sn * offCos[k] + cs * offSin[k]);
          const di = Math.floor(d);
          const f = d - di;
          const base = (k < VOICES ? posL : posR) - di;
          // 4-point Hermite between the samples d and d + 1 writes ago (as DelayLine.readHermite).
          const xm1 = buf[(base + 1) & mask];
          const x0 = buf[base & mask];
          const x1 = buf[(base - 1) & mask];
          const x2 = buf[(base - 2) & mask];
          const h1 = 0.5 * (x1 - xm1);
          const h2 = xm1 - 2.5 * x0 + 2 * x1 - 0.5 * x2;
          const h3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
          const y = ((h3 * f + h2) * f + h1) * f + x0;
          if (k < VOICES) wl += y;
          else wr += y;
        }
        wl *= norm;
        wr *= norm;
        const fb0 = c.feedback[i];
        const fb = fb0 >= 0 ? (fb0 <= maxFeedback ? fb0 : maxFeedback) : 0;
        const xl = inL[i];
        const xr = inR[i];
        // Back into the lines: bounded, and 0 for a denormal on its way or NaN.
        let yl = xl + fb * wl;
        let yr = xr + fb * wr;
        yl = yl > 1e-20 ? (yl < limit ? yl : limit) : yl < -1e-20 ? (yl > -limit ? yl : -limit) : 0;
        yr = yr > 1e-20 ? (yr < limit ? yr : limit) : yr < -1e-20 ? (yr > -limit ? yr : -limit) : 0;
        bufL[posL] = yl;
        bufR[posR] = yr;
        posL = (posL + 1) & mask;
        posR = (posR + 1) & mask;
        const m0 = c.mix[i];
        const mix = m0 >= 0 ? (m0 <= 1 ? m0 : 1) : 0;
        outL[i] += wl * mix;
        outR[i] += wr * mix;
        if (!loud && (xl > quiet || xl < -quiet || xr > quiet || xr < -quiet || wl > quiet || wl < -quiet || wr > quiet || wr < -quiet)) loud = true;
        const nc = cs * cr - sn * sr;
        sn = sn * cr + cs * sr;
        cs = nc;
      }
      let p = this.phase + (c1 - c0) * rate;
      p -= Math.floor(p);
      this.phase = p === p ? p : 0;
    }
    this.left.pos = posL;
    this.right.pos = posR;
    this.quietFrames = loud ? 0 : this.quietFrames + (end - start);
    if (this.quietFrames > this.idleAfter) this.sleep();
  }

  /**
   * The phase offsets of the voices for the width `widths[at]` (0 … 1), recomputed only when it
   * changed. (The width comes by index: a number passed to a call V8 did not inline is boxed.)
   */
  private setWidth(widths: ArrayLike<number>, at: number): void {
    const w0 = widths[at];
    const w = w0 >= 0 ? (w0 <= 1 ? w0 : 1) : 0;
    if (w === this.offsetsFor) return;
    this.offsetsFor = w;
    for (let j = 0; j < VOICES; j++) {
      const a = (TWO_PI * j) / VOICES;
      this.offCos[j] = Math.cos(a);
      this.offSin[j] = Math.sin(a);
      this.offCos[VOICES + j] = Math.cos(a + Math.PI * w);
      this.offSin[VOICES + j] = Math.sin(a + Math.PI * w);
    }
  }

  private sleep(): void {
    this.idle = true;
    this.quietFrames = 0;
    this.left.clear();
    this.right.clear();
  }

  /** True while idle (lines cleared, nothing in flight): `process` does nothing until `hears` its input. */
  get sleeping(): boolean {
    return this.idle;
  }

  /** Whether [start, end) of `l`/`r` holds anything above -120 dBFS (what wakes a sleeping chorus). */
  hears(l: Float32Array, r: Float32Array, start: number, end: number): boolean {
    return heard(l, r, start, end);
  }

  /** Everything in flight (between blocks; allocates). */
  getState(): ChorusState {
    return { v: 1, phase: this.phase, idle: this.idle, quietFrames: this.quietFrames, lines: [this.left.getState(), this.right.getState()] };
  }

  /** Restores what `getState` gave (missing fields keep their values; the schema has bounded every number). */
  setState(s: Partial<Omit<ChorusState, 'lines'>> & { lines?: readonly unknown[] } | undefined): void {
    if (s === undefined) return;
    if (s.phase !== undefined) this.phase = s.phase;
    if (s.lines !== undefined) {
      this.left.setState(s.lines[0]);
      this.right.setState(s.lines[1]);
    }
    if (s.idle !== undefined) this.idle = s.idle;
    if (s.quietFrames !== undefined) this.quietFrames = s.quietFrames;
  }
}

/** Whether either channel holds a sample above QUIET in [start, end). */
function heard(l: Float32Array, r: Float32Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const a = l[i];
    const b = r[i];
    if (a > QUIET || a < -QUIET || b > QUIET || b < -QUIET) return true;
  }
  return false;
}
