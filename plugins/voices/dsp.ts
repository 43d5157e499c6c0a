/**
 * One synth voice, pure DSP: oscillator (6 waveforms) → resonant TPT lowpass → linear ADSR → amp,
 * with portamento (`slide`). Every input is explicit; nothing here knows about the kernel.
 *
 * The building blocks (Oscillator, Svf, Adsr) come from 'plugin-sdk' (the only import a plugin may
 * have; under tsx the tsconfig `paths` entry resolves it for tests too).
 *
 * Per block the caller:
 *   1. sets per-block controls (cheap when unchanged): `setWaveform`, `setEnvelope`, `setSlide`;
 *   2. for each of freq / amp / cutoff that is moving, fills `freqIn` / `ampIn` / `cutoffIn` at the
 *      frames it renders and sets the matching bit in `moving`;
 *   3. writes the block's constants into `controls` (CTL_FREQ, CTL_AMP, CTL_CUTOFF, CTL_Q) and calls
 *      `render(out, start, end, moving, pre?)`, which WRITES (overwrites) the mono voice into
 *      `out[start..end)` (and, if `pre` is given, the pre-filter signal into it). Inputs whose bit is
 *      clear are the constants. (Numbers go through the array, not as arguments: V8 boxes a number
 *      passed to a call it did not inline — a heap allocation on the audio thread.)
 * Gate changes: `gate(value)` (> 0 opens). Idle voices (`isIdle()`) can be skipped entirely.
 *
 * Slide: when the target frequency changes, the voice glides linearly in log-frequency (a constant
 * number of cents per sample) from its current pitch to the new one in exactly `slide` seconds; 0
 * jumps. The oscillator phase is never reset, so frequency changes never make a step in the wave.
 * While idle nothing advances (a glide resumes from where it stopped at the next note).
 *
 * Filter coefficients are computed once per block unless the cutoff is moving; Q is per block.
 * Saw and square are delayed by the BLEP latency (12 samples); sine and noise are not.
 *
 * Thread: constructor and `getState` allocate (create/between blocks); everything else is
 * allocation-free and safe in `process`.
 */
import { Adsr, clamp, Oscillator, Svf, type AdsrState, type OscillatorState } from 'plugin-sdk';

/** Bits of `render`'s `moving` argument: read the per-sample buffer instead of the constant. */
export const FREQ_MOVING = 1;
export const AMP_MOVING = 2;
export const CUTOFF_MOVING = 4;

/** Indices into `VoiceDsp.controls`: frequency (Hz), amp (0..1), cutoff (Hz), Q (linear). */
export const CTL_FREQ = 0;
export const CTL_AMP = 1;
export const CTL_CUTOFF = 2;
export const CTL_Q = 3;

/** Plain-JSON state of one voice (hot reload, patterns). */
export interface VoiceState {
  osc: OscillatorState;
  env: AdsrState;
  filter: { ic1: number; ic2: number };
  /** The pitch sounding now (Hz), the glide target, and the glide still to go. */
  freq: number;
  glideTarget: number;
  glideRemain: number;
  glideRatio: number;
}

const MIN_FREQ = 1;

export class VoiceDsp {
  readonly sampleRate: number;
  readonly maxBlock: number;
  readonly osc: Oscillator;
  readonly filter: Svf;
  readonly env: Adsr;
  /** Per-sample inputs, indexed like `out`; fill only the frames rendered and only when moving. */
  readonly freqIn: Float64Array;
  readonly ampIn: Float64Array;
  readonly cutoffIn: Float64Array;
  /** The block's constant inputs of `render` (CTL_*). */
  readonly controls = new Float64Array(4);
  /** The pitch sounding now (Hz, after slide). */
  freq: number;
  private glideTarget: number;
  private glideRatio = 1;
  private glideRemain = 0;
  private slideSamples = 0;
  private readonly freqs: Float64Array;
  /** Envelope × amp per sample, used only when a pre-filter output is asked for. */
  private readonly gains: Float32Array;
  private readonly maxFreq: number;

  /**
   * `seed` decorrelates the noise of different voices; `freq` is the initial pitch (Hz).
   * Allocates (create time).
   */
  constructor(sampleRate: number, maxBlock: number, seed = 1, freq = 440) {
    this.sampleRate = sampleRate;
    this.maxBlock = maxBlock;
    this.osc = new Oscillator(sampleRate, seed);
    this.filter = new Svf(sampleRate);
    this.env = new Adsr(sampleRate);
    this.freqIn = new Float64Array(maxBlock);
    this.ampIn = new Float64Array(maxBlock);
    this.cutoffIn = new Float64Array(maxBlock);
    this.freqs = new Float64Array(maxBlock);
    this.gains = new Float32Array(maxBlock);
    this.maxFreq = 0.45 * sampleRate;
    this.freq = freq;
    this.glideTarget = freq;
  }

  /** 0 sine, 1 saw, 2 square, 3 white, 4 pink, 5 brown. */
  setWaveform(waveform: number): void {
    this.osc.setWaveform(waveform);
  }

  /** Attack, decay, release in seconds; sustain 0..1. */
  setEnvelope(attack: number, decay: number, sustain: number, release: number): void {
    this.env.setTimes(attack, decay, sustain, release);
  }

  /** Portamento time in seconds (0 = jump). A new time applies from the next change of target; 0 also ends a glide at once. */
  setSlide(seconds: number): void {
    const n = Math.round(seconds * this.sampleRate);
    this.slideSamples = n > 0 ? n : 0;
  }

  /** Whether a slide is set (the caller may then feed the unsmoothed target frequency). */
  get sliding(): boolean {
    return this.slideSamples > 0;
  }

  /** Sets the pitch now, cancelling any glide. */
  jumpTo(freq: number): void {
    const f = this.clampFreq(freq);
    this.freq = f;
    this.glideTarget = f;
    this.glideRemain = 0;
    this.glideRatio = 1;
  }

  /** `value > 0` opens the gate (attack from the current level), otherwise release. */
  gate(value: number): void {
    if (value > 0) this.env.gateOn();
    else this.env.gateOff();
  }

  /** True when the envelope is at rest: `render` would write silence. */
  isIdle(): boolean {
    return this.env.isIdle();
  }

  private clampFreq(f: number): number {
    return clamp(f, MIN_FREQ, this.maxFreq);
  }

  /**
   * Renders frames [start, end) and WRITES them into `out` (mono). `controls` freq (Hz), amp (0..1),
   * cutoff (Hz) are used for the block unless their bit in `moving` is set, in which case
   * `freqIn[i]` / `ampIn[i]` / `cutoffIn[i]` are read per sample. Q is linear, per block.
   * Frames are block-relative: 0 ≤ start ≤ end ≤ maxBlock (the input buffers are maxBlock long).
   * If `pre` is given, the PRE-filter signal (oscillator × envelope × amp) is also WRITTEN into it
   * (what an external filter such as acid1 processes instead of the voice's own lowpass).
   */
  render(out: Float32Array, start: number, end: number, moving: number, pre: Float32Array | null = null): void {
    if (end <= start) return;
    const c = this.controls;
    const freq = c[CTL_FREQ];
    const amp = c[CTL_AMP];
    const q = c[CTL_Q];
    if (this.env.isIdle()) {
      out.fill(0, start, end);
      if (pre !== null) pre.fill(0, start, end);
      return;
    }
    // 1. Oscillator (with slide).
    const slide = this.slideSamples;
    if ((moving & FREQ_MOVING) === 0 && this.glideRemain === 0 && (slide === 0 || freq === this.glideTarget)) {
      if (slide === 0) {
        const f = this.clampFreq(freq);
        this.freq = f;
        this.glideTarget = f;
      }
      this.osc.process(out, start, end, this.freq);
    } else {
      this.computeFreqs(start, end, freq, (moving & FREQ_MOVING) !== 0);
      this.osc.processFreqs(out, start, end, this.freqs);
    }
    if (pre !== null) {
      for (let i = start; i < end; i++) pre[i] = out[i];
    }
    // 2. Filter.
    if ((moving & CUTOFF_MOVING) !== 0) {
      this.filter.processLowpassCutoffs(out, start, end, this.cutoffIn, q);
    } else {
      this.filter.setParams(c[CTL_CUTOFF], q);
      this.filter.processLowpass(out, start, end);
    }
    // 3. Amp and envelope.
    if (pre !== null) {
      const g = this.gains;
      this.env.render(g, start, end);
      if ((moving & AMP_MOVING) !== 0) {
        const a = this.ampIn;
        for (let i = start; i < end; i++) g[i] *= a[i];
      } else {
        for (let i = start; i < end; i++) g[i] *= amp;
      }
      for (let i = start; i < end; i++) {
        out[i] *= g[i];
        pre[i] *= g[i];
      }
    } else if ((moving & AMP_MOVING) !== 0) {
      const a = this.ampIn;
      for (let i = start; i < end; i++) out[i] *= a[i];
      this.env.process(out, start, end, 1);
    } else {
      this.env.process(out, start, end, amp);
    }
  }

  /** Fills `freqs[start..end)` with the pitch per sample, advancing the glide. */
  private computeFreqs(start: number, end: number, freq: number, perSample: boolean): void {
    const fin = this.freqIn;
    const fo = this.freqs;
    const slide = this.slideSamples;
    const maxFreq = this.maxFreq;
    let cur = this.freq;
    let target = this.glideTarget;
    let ratio = this.glideRatio;
    let remain = this.glideRemain;
    for (let i = start; i < end; i++) {
      let t = perSample ? fin[i] : freq;
      if (!(t >= MIN_FREQ)) t = MIN_FREQ;
      else if (t > maxFreq) t = maxFreq;
      if (slide === 0) {
        cur = t;
        target = t;
        remain = 0;
      } else {
        if (t !== target) {
          target = t;
          remain = slide;
          ratio = Math.pow(t / cur, 1 / slide);
        }
        if (remain > 0) {
          cur *= ratio;
          if (--remain === 0) cur = target;
        }
      }
      fo[i] = cur;
    }
    this.freq = cur;
    this.glideTarget = target;
    this.glideRatio = ratio;
    this.glideRemain = remain;
  }

  /** Plain JSON (allocates: between blocks). */
  getState(): VoiceState {
    return {
      osc: this.osc.getState(),
      env: this.env.getState(),
      filter: this.filter.getState(),
      freq: this.freq,
      glideTarget: this.glideTarget,
      glideRemain: this.glideRemain,
      glideRatio: this.glideRatio,
    };
  }

  /**
   * Restores `getState()` output so a held note continues (same pitch, phase, envelope stage and
   * level); missing or invalid fields keep their current values. Set the envelope times first.
   */
  setState(state: Partial<VoiceState> | null | undefined): void {
    if (state === null || typeof state !== 'object') return;
    const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    if (num(state.freq) && state.freq > 0) this.jumpTo(state.freq);
    if (num(state.glideTarget) && state.glideTarget > 0 && num(state.glideRatio) && state.glideRatio > 0 && num(state.glideRemain) && state.glideRemain >= 0) {
      this.glideTarget = state.glideTarget;
      this.glideRatio = state.glideRatio;
      this.glideRemain = Math.floor(state.glideRemain);
    }
    if (state.filter !== undefined) this.filter.setState(state.filter);
    if (state.env !== undefined) this.env.setState(state.env);
    if (state.osc !== undefined) this.osc.setState(state.osc, this.freq);
  }
}
