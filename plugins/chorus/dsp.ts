/**
 * chorus1, pure DSP: a stereo chorus as a send effect. It reads a stereo send bus and ADDS its wet
 * output × mix to an output bus.
 *
 * Per side, VOICES (3) taps read one delay line (the SDK's `DelayLine`, 4-point Hermite) at
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
    const msToFrames = this.sampleRate / 1000;
    const minDelay = MIN_DELAY_MS * msToFrames;
    const left = this.left;
    const right = this.right;
    const offCos = this.offCos;
    const offSin = this.offSin;
    const norm = 1 / VOICES;
    let loud = false;
    for (let c0 = start; c0 < end; c0 += RAMP_CHUNK) {
      const c1 = c0 + RAMP_CHUNK < end ? c0 + RAMP_CHUNK : end;
      this.setWidth(c.width, c0);
      const rate = clamp(c.rate[c0], 0, MAX_RATE_HZ) / this.sampleRate;
      const theta = TWO_PI * this.phase;
      let cs = Math.cos(theta);
      let sn = Math.sin(theta);
      const cr = Math.cos(TWO_PI * rate);
      const sr = Math.sin(TWO_PI * rate);
      for (let i = c0; i < c1; i++) {
        const time = clamp(c.time[i], MIN_DELAY_MS, MAX_TIME_MS) * msToFrames;
        const room = time - minDelay;
        let depth = clamp(c.depth[i], 0, MAX_DEPTH_MS) * msToFrames;
        if (depth > room) depth = room;
        let wl = 0;
        let wr = 0;
        for (let j = 0; j < VOICES; j++) {
          // sin(θ + α) = sin θ cos α + cos θ sin α
          wl += left.readHermite(time + depth * (sn * offCos[j] + cs * offSin[j]));
          wr += right.readHermite(time + depth * (sn * offCos[VOICES + j] + cs * offSin[VOICES + j]));
        }
        wl *= norm;
        wr *= norm;
        const fb = clamp(c.feedback[i], 0, MAX_FEEDBACK);
        const xl = inL[i];
        const xr = inR[i];
        left.write(guard(xl + fb * wl));
        right.write(guard(xr + fb * wr));
        const mix = clamp(c.mix[i], 0, 1);
        outL[i] += wl * mix;
        outR[i] += wr * mix;
        if (!loud && (xl > QUIET || xl < -QUIET || xr > QUIET || xr < -QUIET || wl > QUIET || wl < -QUIET || wr > QUIET || wr < -QUIET)) loud = true;
        const nc = cs * cr - sn * sr;
        sn = sn * cr + cs * sr;
        cs = nc;
      }
      let p = this.phase + (c1 - c0) * rate;
      p -= Math.floor(p);
      this.phase = p === p ? p : 0;
    }
    this.quietFrames = loud ? 0 : this.quietFrames + (end - start);
    if (this.quietFrames > this.idleAfter) this.sleep();
  }

  /**
   * The phase offsets of the voices for the width `widths[at]` (0 … 1), recomputed only when it
   * changed. (The width comes by index: a number passed to a call V8 did not inline is boxed.)
   */
  private setWidth(widths: ArrayLike<number>, at: number): void {
    const w = clamp(widths[at], 0, 1);
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

/** `x` within [lo, hi]; NaN gives lo. */
function clamp(x: number, lo: number, hi: number): number {
  return x >= lo ? (x <= hi ? x : hi) : lo;
}

/**
 * What goes back into a line: `x` within ±MAX_STATE_SAMPLE, and 0 when it is below 1e-20 in
 * magnitude (a denormal on its way) or NaN.
 */
function guard(x: number): number {
  if (x > 1e-20) return x < MAX_STATE_SAMPLE ? x : MAX_STATE_SAMPLE;
  if (x < -1e-20) return x > -MAX_STATE_SAMPLE ? x : -MAX_STATE_SAMPLE;
  return 0;
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
