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
 * ping-pong): a centred send gives centred echoes, a panned one keeps its place.
 *
 * Time changes are click-free: the kernel smooths the `time` parameter, the span's ramp is followed
 * per sample, and on top of that the read head is slew-limited to ±0.5 samples per sample. A new time
 * is therefore approached like a tape delay — the echoes glide in pitch between 0.5× and 1.5×, never
 * backwards and never jumping (0.25 s → 0.5 s takes 0.5 s).
 *
 * Kernel (kernel.ts): WebAssembly SIMD, float64 arithmetic with left and right as the two lanes of
 * an `f64x2` (so both sides cost what one did; the JavaScript version ran one line while the inputs
 * were identical), the lines one float32 ring of stereo frames (one 16-byte load brings two frames
 * of both sides; the first 3 frames are mirrored past the end, so the 4 Hermite taps never wrap).
 * Three loops, chosen per span: the delay still at a whole number of samples (one tap, the usual
 * case), still between samples (Hermite weights once per span), or moving (the slewed delay and the
 * Hermite polynomial per sample, exactly the old computation). Echo × mix goes to a stereo buffer
 * that `mix` adds into the kernel's copy of the output bus. Arrays of at most maxBlock frames enter
 * wasm memory with one `set`, bus-sized ones (maxBlock) also leave with one; longer ones are copied
 * span by span.
 *
 * Idle: when the input has been silent and the output quieter than -110 dBFS for longer than the
 * line, the lines are cleared and processing stops until input arrives (an idle delay costs a copy
 * of its input and a SIMD scan of it per span).
 *
 * Parameters arrive per span via `setParams` or straight into `params` (values at the span's end),
 * which is kernel memory: the kernel takes, clamps and ramps them itself, so the per-block
 * JavaScript handles no double (see kernel.ts) — only a changed cutoff's filter gains are computed
 * in JavaScript (Math.tan).
 *
 * Cost per stereo frame (256-frame blocks, 48 kHz): about 9 ns at a whole-sample delay, 12 between
 * samples, 25 while the delay moves (the JavaScript version: 56, mono input 30).
 * Thread: constructor and `getState` allocate; `setParams`, `process` are allocation-free.
 */
import { loadStereo, mixStereo, nextPowerOfTwo, type DelayLineState } from 'plugin-sdk';
import { DELAY, delayKernel, FEEDBACK, FRESH, HIGHCUT, HIGHCUT_CHANGED, HP, LOWCUT, LOWCUT_CHANGED, LP, MIX, PARAMS, POS, ST, STILL, T0, T1, TIME, WHOLE, type SpanFn } from './kernel.ts';

export { FEEDBACK, HIGHCUT, LOWCUT, MAX_SLEW, MIX, TIME } from './kernel.ts';

export const MAX_TIME_S = 0.6;

export interface DelayState {
  v: 1;
  /** The delay now (samples, after slew). */
  delay: number;
  idle: boolean;
  quietFrames: number;
  /** Always false now (both sides always run); older states set it while the right line copied the left. */
  linked: boolean;
  lines: DelayLineState[] | null;
  /** Feedback filter states [hp ic1, hp ic2, lp ic1, lp ic2] per channel. */
  filters: number[][];
}

export class DelayDsp {
  readonly sampleRate: number;
  /**
   * The values at the end of the next span, slots TIME (s), FEEDBACK, MIX, LOWCUT, HIGHCUT (Hz):
   * written by `setParams`, or directly by a kernel parameter's `fill` (which stores a double
   * without boxing it). They live in the kernel's memory, which takes them at each span.
   */
  readonly params: Float64Array;
  /** Ring frames (a power of two). */
  private readonly size: number;
  private readonly maxDelay: number;
  private readonly takeFn: SpanFn;
  private readonly silentFn: SpanFn;
  private readonly runWhole: SpanFn;
  private readonly runStill: SpanFn;
  private readonly runMoving: SpanFn;
  private readonly mixFn: (n: number, at: number) => void;
  private readonly f64: Float64Array;
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  private readonly ringAt: number;
  /** The kernel's copies of the buses (`maxBlock` frames). */
  private readonly inL: Float32Array;
  private readonly inR: Float32Array;
  private readonly outL: Float32Array;
  private readonly outR: Float32Array;
  private idle = true;
  private quietFrames = 0;

  constructor(sampleRate: number, maxTimeS = MAX_TIME_S, maxBlock = 4096) {
    this.sampleRate = sampleRate;
    this.size = nextPowerOfTwo(Math.ceil(maxTimeS * sampleRate) + 8);
    this.maxDelay = this.size - 3;
    const k = delayKernel(sampleRate, this.size, maxBlock);
    const L = k.layout;
    this.takeFn = k.take;
    this.silentFn = k.silent;
    this.runWhole = k.whole;
    this.runStill = k.still;
    this.runMoving = k.moving;
    this.mixFn = k.mix;
    this.f64 = new Float64Array(k.buffer);
    this.f32 = new Float32Array(k.buffer);
    this.i32 = new Int32Array(k.buffer);
    this.params = new Float64Array(k.buffer, PARAMS, 5);
    this.ringAt = L.ring / 4;
    this.inL = new Float32Array(k.buffer, L.inL, maxBlock);
    this.inR = new Float32Array(k.buffer, L.inR, maxBlock);
    this.outL = new Float32Array(k.buffer, L.outL, maxBlock);
    this.outR = new Float32Array(k.buffer, L.outR, maxBlock);
    this.f64[DELAY / 8] = Math.round(0.25 * sampleRate);
    this.setParams(0.25, 0, 0, 100, 5000);
  }

  /**
   * Values at the end of the next span: time (s), feedback 0..0.7, mix 0..1, lowcut and highcut (Hz).
   * The first span jumps to them; later time, feedback and mix changes ramp across the span.
   */
  setParams(time: number, feedback: number, mix: number, lowcut: number, highcut: number): void {
    const p = this.params;
    p[TIME] = time;
    p[FEEDBACK] = feedback;
    p[MIX] = mix;
    p[LOWCUT] = lowcut;
    p[HIGHCUT] = highcut;
  }

  get isIdle(): boolean {
    return this.idle;
  }

  /** The delay now, in samples. */
  get delaySamples(): number {
    return this.f64[DELAY / 8];
  }

  /** Delays `inL/inR[start..end)` and ADDS the echoes × mix into `outL/outR[start..end)` (`end − start` ≤ maxBlock). */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, start: number, end: number): void {
    const cap = this.inL.length;
    const n = end - start < cap ? end - start : cap;
    if (n <= 0) return;
    const at = loadStereo(inL, inR, start, n, this.inL, this.inR);
    const silent = this.silentFn(n, at) !== 0;
    const skip = silent && this.idle;
    const kind = this.take(n, skip);
    if (skip) return;
    this.idle = false;
    const quiet = (kind === WHOLE ? this.runWhole : kind === STILL ? this.runStill : this.runMoving)(n, at) !== 0;
    mixStereo(outL, outR, start, n, this.outL, this.outR, this.mixFn);
    if (silent && quiet) {
      this.quietFrames += n;
      if (this.quietFrames > this.size) this.clear();
    } else {
      this.quietFrames = 0;
    }
  }

  /** The span's ramps (kernel `take`), the filter gains of a changed cutoff; returns the span's kind (WHOLE, STILL or 0). */
  private take(n: number, skip: boolean): number {
    const flags = this.takeFn(n, skip ? 1 : 0);
    if ((flags & LOWCUT_CHANGED) !== 0) this.setGains(HP, this.params[LOWCUT]);
    if ((flags & HIGHCUT_CHANGED) !== 0) this.setGains(LP, this.params[HIGHCUT]);
    return flags & (WHOLE | STILL);
  }



  /** TPT SVF gains a1, a2, a3 (Butterworth) for `hz` at byte offset `at`, both lanes (only when a cutoff changed). */
  private setGains(at: number, hz: number): void {
    const max = 0.45 * this.sampleRate;
    const g = Math.tan((Math.PI * (hz > 1 ? (hz < max ? hz : max) : 1)) / this.sampleRate);
    const a1 = 1 / (1 + g * (g + Math.SQRT2));
    const a2 = g * a1;
    const a3 = g * a2;
    const f64 = this.f64;
    const i = at / 8;
    f64[i] = f64[i + 1] = a1;
    f64[i + 2] = f64[i + 3] = a2;
    f64[i + 4] = f64[i + 5] = a3;
  }

  /** The lines and filter states silenced; idle until input arrives. */
  private clear(): void {
    this.f32.fill(0, this.ringAt, this.ringAt + 2 * (this.size + 4));
    this.f64.fill(0, ST / 8, ST / 8 + 8);
    this.i32[POS / 4] = 0;
    this.idle = true;
    this.quietFrames = 0;
  }

  /** Lines and filter states (between blocks). */
  getState(): DelayState {
    const f64 = this.f64;
    const pos = this.i32[POS / 4];
    const line = (side: number): DelayLineState => {
      const buffer = new Float32Array(this.size);
      for (let k = 0; k < this.size; k++) buffer[k] = this.f32[this.ringAt + 2 * k + side];
      return { buffer, pos };
    };
    const filters = (side: number) => [0, 1, 2, 3].map((j) => f64[ST / 8 + 2 * j + side]);
    return {
      v: 1,
      delay: f64[DELAY / 8],
      idle: this.idle,
      quietFrames: this.quietFrames,
      linked: false,
      lines: this.idle ? null : [line(0), line(1)],
      filters: [filters(0), filters(1)],
    };
  }

  /** Restores `getState()` output (also an older one with linked lines); tolerates missing or mismatched fields. */
  setState(state: unknown): void {
    const s = state as Partial<DelayState> | null;
    if (s === null || typeof s !== 'object') return;
    // Take the first span's jump to the parameters now, so the restored delay is not jumped over.
    if (this.i32[FRESH / 4] !== 0) this.take(1, true);
    if (typeof s.delay === 'number' && s.delay >= 2 && s.delay <= this.maxDelay) {
      this.f64[DELAY / 8] = s.delay;
      this.f64[T0 / 8] = s.delay;
      this.f64[T1 / 8] = s.delay;
    }
    if (Array.isArray(s.lines) && s.lines.length === 2) {
      this.restoreLines(s.lines[0], s.lines[1]);
      this.idle = false;
    } else if (s.idle === true) {
      this.clear();
    }
    if (typeof s.quietFrames === 'number' && Number.isFinite(s.quietFrames) && s.quietFrames >= 0) this.quietFrames = s.quietFrames;
    if (Array.isArray(s.filters)) {
      for (let side = 0; side < 2; side++) {
        const f = s.filters[side];
        if (!Array.isArray(f) || f.length !== 4) continue;
        for (let j = 0; j < 4; j++) {
          const v = f[j];
          if (typeof v === 'number' && Number.isFinite(v)) this.f64[ST / 8 + 2 * j + side] = v;
        }
      }
    }
  }

  /**
   * Two `DelayLineState`s into the ring. Each side's samples keep their age relative to the shared
   * position (the left line's): the same geometry is a verbatim copy, another length is copied
   * newest-first as far as it fits (as `DelayLine.setState`). A side that is not a line state is
   * left as it was.
   */
  private restoreLines(left: unknown, right: unknown): void {
    const lp = ringOf(left);
    const pos = lp === null ? this.i32[POS / 4] : lp.src.length === this.size ? lp.pos : 0;
    const mem = this.f32;
    [lp, ringOf(right)].forEach((line, side) => {
      if (line === null) return;
      const len = line.src.length;
      const fit = len < this.size ? len : this.size;
      for (let k = 1; k <= this.size; k++) {
        const v = k <= fit ? Number(line.src[(((line.pos - k) % len) + len) % len]) : 0;
        mem[this.ringAt + 2 * ((pos - k) & (this.size - 1)) + side] = Number.isFinite(v) ? v : 0;
      }
    });
    // The mirror frames.
    mem.copyWithin(this.ringAt + 2 * this.size, this.ringAt, this.ringAt + 6);
    this.i32[POS / 4] = pos;
  }
}

/** A line state's samples and position, or null when it is not one. */
function ringOf(state: unknown): { src: ArrayLike<number>; pos: number } | null {
  const s = state as Partial<DelayLineState> | null;
  if (s === null || typeof s !== 'object') return null;
  const from = s.buffer as unknown;
  if (!(from instanceof Float32Array || from instanceof Float64Array || Array.isArray(from))) return null;
  const src = from as ArrayLike<number>;
  if (src.length === 0) return null;
  const p = s.pos;
  return { src, pos: typeof p === 'number' && Number.isInteger(p) && p >= 0 && p < src.length ? p : 0 };
}

