/**
 * delay1, pure DSP: a stereo feedback delay as a send effect. It reads a stereo send bus and ADDS
 * its output × mix to an output bus.
 *
 *   y    = line[n − d]               4-point Hermite read (exact at whole-sample delays)
 *   out += y × mix
 *   line[n] = x + feedback × lowpass(highpass(y))
 *                                    the filters sit in the feedback path: lowcut is a 2-pole TPT
 *                                    high-pass 20–1000 Hz, highcut a 2-pole TPT low-pass 1–10 kHz
 *                                    (Butterworth); feedback ≤ 0.7, so the loop always decays
 *
 * So echo k of an impulse arrives exactly k·time later at feedback^(k−1), filtered k−1 times: the
 * first echo is the input itself, each repeat gets thinner and darker (with feedback 0 the filters
 * have nothing to do).
 * Stereo: left and right are two lines with the same time, feedback and filters (dual mono, no
 * ping-pong): a centred send gives centred echoes, a panned one keeps its place. While both inputs
 * have been identical (voices send the same to both sides) only the left line runs and its echoes go
 * to both outputs; the first span where they differ copies the left line into the right one.
 *
 * Time changes are click-free: the kernel smooths the `time` parameter, the span's ramp is followed
 * per sample, and on top of that the read head is slew-limited to ±0.5 samples per sample. A new time
 * is therefore approached like a tape delay — the echoes glide in pitch between 0.5× and 1.5×, never
 * backwards and never jumping (0.25 s → 0.5 s takes 0.5 s).
 *
 * Idle: when the input has been silent and the output quieter than -110 dBFS for longer than the
 * line, the lines are cleared and processing stops until input arrives.
 *
 * Thread: constructor and `getState` allocate; `setParams`, `process` are allocation-free.
 */
import { DelayLine, flushDenormal, type DelayLineState } from 'plugin-sdk';

export const MAX_TIME_S = 0.6;
/** Largest change of the delay per sample (samples): the read head runs at 0.5× … 1.5× while it moves. */
export const MAX_SLEW = 0.5;
const QUIET = 3.2e-6;
const SQRT2 = Math.SQRT2;
/** Anything beyond this in the loop is a fault (NaN/Infinity from a broken source); it is dropped. */
const LIMIT = 1e6;

export interface DelayState {
  v: 1;
  /** The delay now (samples, after slew). */
  delay: number;
  idle: boolean;
  quietFrames: number;
  /** Both sides identical so far (the right line is then a copy of the left one). */
  linked: boolean;
  lines: DelayLineState[] | null;
  /** Feedback filter states [hp ic1, hp ic2, lp ic1, lp ic2] per channel. */
  filters: number[][];
}

export class DelayDsp {
  readonly sampleRate: number;
  readonly lineL: DelayLine;
  readonly lineR: DelayLine;
  private readonly maxDelay: number;
  /** The delay now, in samples (slewed). */
  private delay: number;
  private time0 = 0;
  private time1 = 0;
  private fb0 = 0;
  private fb1 = 0;
  private mix0 = 0;
  private mix1 = 0;
  private fresh = true;
  private lowcut = -1;
  private highcut = -1;
  private hpA1 = 1;
  private hpA2 = 0;
  private hpA3 = 0;
  private lpA1 = 1;
  private lpA2 = 0;
  private lpA3 = 0;
  /** [hp ic1, hp ic2, lp ic1, lp ic2] for L then R. */
  private readonly st = new Float64Array(8);
  private idle = true;
  private quietFrames = 0;
  /** True while both inputs have been identical since the lines were last clear: only the left line runs. */
  private linked = true;
  /** One channel's echoes × mix for the span. */
  private readonly echo: Float64Array;

  constructor(sampleRate: number, maxTimeS = MAX_TIME_S, maxBlock = 4096) {
    this.sampleRate = sampleRate;
    this.lineL = new DelayLine(Math.ceil(maxTimeS * sampleRate) + 4);
    this.lineR = new DelayLine(Math.ceil(maxTimeS * sampleRate) + 4);
    this.maxDelay = this.lineL.capacity - 3;
    this.delay = Math.round(0.25 * sampleRate);
    this.echo = new Float64Array(maxBlock);
  }

  /**
   * Values at the end of the next span: time (s), feedback 0..0.7, mix 0..1, lowcut and highcut (Hz).
   * The first call jumps; later time, feedback and mix changes ramp across the span.
   */
  setParams(time: number, feedback: number, mix: number, lowcut: number, highcut: number): void {
    this.time0 = this.time1;
    this.fb0 = this.fb1;
    this.mix0 = this.mix1;
    let d = time * this.sampleRate;
    if (!(d >= 2)) d = 2;
    else if (d > this.maxDelay) d = this.maxDelay;
    this.time1 = d;
    this.fb1 = feedback > 0 ? (feedback < 0.99 ? feedback : 0.99) : 0;
    this.mix1 = mix > 0 ? (mix < 1 ? mix : 1) : 0;
    if (this.fresh) {
      this.fresh = false;
      this.time0 = d;
      this.fb0 = this.fb1;
      this.mix0 = this.mix1;
      this.delay = d;
    }
    if (lowcut !== this.lowcut) {
      this.lowcut = lowcut;
      const g = Math.tan((Math.PI * clampHz(lowcut, this.sampleRate)) / this.sampleRate);
      this.hpA1 = 1 / (1 + g * (g + SQRT2));
      this.hpA2 = g * this.hpA1;
      this.hpA3 = g * this.hpA2;
    }
    if (highcut !== this.highcut) {
      this.highcut = highcut;
      const g = Math.tan((Math.PI * clampHz(highcut, this.sampleRate)) / this.sampleRate);
      this.lpA1 = 1 / (1 + g * (g + SQRT2));
      this.lpA2 = g * this.lpA1;
      this.lpA3 = g * this.lpA2;
    }
  }

  get isIdle(): boolean {
    return this.idle;
  }

  /** The delay now, in samples. */
  get delaySamples(): number {
    return this.delay;
  }

  /** Delays `inL/inR[start..end)` and ADDS the echoes × mix into `outL/outR[start..end)`. */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    let silent = true;
    let mono = true;
    for (let i = start; i < end; i++) {
      const a = inL[i];
      const b = inR[i];
      if (a !== 0 || b !== 0) silent = false;
      if (a !== b) {
        mono = false;
        silent = false;
        break;
      }
    }
    if (silent && this.idle) {
      this.delay = this.time1;
      return;
    }
    this.idle = false;
    if (this.linked && !mono) this.unlink();

    const d0 = this.delay;
    const echo = this.echo;
    let pk = this.channel(this.lineL, 0, inL, start, n, d0);
    for (let i = 0; i < n; i++) outL[start + i] += echo[i];
    if (this.linked) {
      for (let i = 0; i < n; i++) outR[start + i] += echo[i];
    } else {
      const pr = this.channel(this.lineR, 4, inR, start, n, d0);
      for (let i = 0; i < n; i++) outR[start + i] += echo[i];
      if (pr > pk) pk = pr;
    }

    if (silent && pk < QUIET) {
      this.quietFrames += n;
      if (this.quietFrames > this.lineL.capacity) {
        this.lineL.clear();
        this.lineR.clear();
        this.st.fill(0);
        this.idle = true;
        this.linked = true;
        this.quietFrames = 0;
      }
    } else {
      this.quietFrames = 0;
    }
  }

  /** Left and right have differed: give the right line (stale while linked) the left one's contents. */
  private unlink(): void {
    this.lineR.buffer.set(this.lineL.buffer);
    this.lineR.pos = this.lineL.pos;
    for (let j = 0; j < 4; j++) this.st[4 + j] = this.st[j];
    this.linked = false;
  }

  /**
   * One channel over n samples from `start`: reads and writes `line`, uses the filter states at
   * `st[so..so+4)`, and WRITES echo × mix into `this.echo[0..n)`. Advances `this.delay` from `d0`
   * (the same path for both channels). Returns the peak |echo|.
   */
  private channel(line: DelayLine, so: number, input: Float32Array, start: number, n: number, d0: number): number {
    const inv = 1 / n;
    const t0 = this.time0;
    const dt = (this.time1 - t0) * inv;
    const f0 = this.fb0;
    const df = (this.fb1 - f0) * inv;
    const m0 = this.mix0;
    const dm = (this.mix1 - m0) * inv;
    const ha1 = this.hpA1, ha2 = this.hpA2, ha3 = this.hpA3;
    const la1 = this.lpA1, la2 = this.lpA2, la3 = this.lpA3;
    const st = this.st;
    let h1 = st[so], h2 = st[so + 1], l1 = st[so + 2], l2 = st[so + 3];
    const buf = line.buffer;
    const mask = line.mask;
    const echo = this.echo;
    let pos = line.pos;
    let d = d0;
    let pk = 0;
    for (let i = 0; i < n; i++) {
      const k = i + 1;
      // Delay: follow the ramp, slew-limited.
      const diff = t0 + dt * k - d;
      d += diff > MAX_SLEW ? MAX_SLEW : diff < -MAX_SLEW ? -MAX_SLEW : diff;
      const di = Math.floor(d);
      const f = d - di;
      const b = pos - di;
      // Hermite read: the echo.
      const xm1 = buf[(b + 1) & mask], x0 = buf[b & mask], x1 = buf[(b - 1) & mask], x2 = buf[(b - 2) & mask];
      const c1 = 0.5 * (x1 - xm1);
      const c2 = xm1 - 2.5 * x0 + 2 * x1 - 0.5 * x2;
      const c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
      const e = ((c3 * f + c2) * f + c1) * f + x0;
      // High-pass then low-pass: what is fed back.
      let v3 = e - h2;
      let v1 = ha1 * h1 + ha2 * v3;
      let v2 = h2 + ha2 * h1 + ha3 * v3;
      h1 = 2 * v1 - h1;
      h2 = 2 * v2 - h2;
      const hp = e - SQRT2 * v1 - v2;
      v3 = hp - l2;
      v1 = la1 * l1 + la2 * v3;
      v2 = l2 + la2 * l1 + la3 * v3;
      l1 = 2 * v1 - l1;
      l2 = 2 * v2 - l2;
      echo[i] = e * (m0 + dm * k);
      let w = input[start + i] + (f0 + df * k) * v2;
      if (!(w > -LIMIT && w < LIMIT)) w = 0;
      buf[pos] = w;
      pos = (pos + 1) & mask;
      const a = e < 0 ? -e : e;
      if (a > pk) pk = a;
    }
    line.pos = pos;
    this.delay = d;
    st[so] = flushDenormal(h1);
    st[so + 1] = flushDenormal(h2);
    st[so + 2] = flushDenormal(l1);
    st[so + 3] = flushDenormal(l2);
    return pk;
  }

  /** Lines and filter states (between blocks). */
  getState(): DelayState {
    const st = this.st;
    return {
      v: 1,
      delay: this.delay,
      idle: this.idle,
      quietFrames: this.quietFrames,
      linked: this.linked,
      lines: this.idle ? null : [this.lineL.getState(), (this.linked ? this.lineL : this.lineR).getState()],
      filters: [Array.from(st.subarray(0, 4)), Array.from(st.subarray(4, 8))],
    };
  }

  /** Restores `getState()` output; tolerates missing or mismatched fields. */
  setState(state: unknown): void {
    const s = state as Partial<DelayState> | null;
    if (s === null || typeof s !== 'object') return;
    if (typeof s.delay === 'number' && s.delay >= 2 && s.delay <= this.maxDelay) {
      this.delay = s.delay;
      this.time1 = s.delay;
      this.time0 = s.delay;
    }
    if (Array.isArray(s.lines) && s.lines.length === 2) {
      this.lineL.setState(s.lines[0]);
      this.lineR.setState(s.lines[1]);
      this.lineR.pos = this.lineL.pos;
      this.idle = false;
      this.linked = s.linked === true;
    } else if (s.idle === true) {
      this.lineL.clear();
      this.lineR.clear();
      this.idle = true;
      this.linked = true;
    }
    if (typeof s.quietFrames === 'number' && Number.isFinite(s.quietFrames) && s.quietFrames >= 0) this.quietFrames = s.quietFrames;
    if (Array.isArray(s.filters)) {
      for (let ch = 0; ch < 2; ch++) {
        const f = s.filters[ch];
        if (!Array.isArray(f) || f.length !== 4) continue;
        for (let j = 0; j < 4; j++) {
          const v = f[j];
          if (typeof v === 'number' && Number.isFinite(v)) this.st[ch * 4 + j] = v;
        }
      }
    }
  }
}

function clampHz(hz: number, sampleRate: number): number {
  const max = 0.45 * sampleRate;
  return hz > 1 ? (hz < max ? hz : max) : 1;
}
