/**
 * The sampler's DSP: drums playing one-shot samples, a few voices per drum. Pure: every input is
 * explicit (the sample data, the playback rate, the decay coefficient, the buses).
 *
 * Per voice and sample: y = sample(pos) · gain · env · fade, added into left and right; then
 * pos += rate, env *= decay coefficient, fade -= fade step. `sample(pos)` is a 4-point Hermite
 * read (exact at whole positions, so at pitch 0 the output is the data itself). Pitched up (rate
 * above 1), it reads the sample's octave ⌈log2 rate⌉ down instead (octaves.ts: band-limited, so
 * nothing folds back from above Nyquist), at rate / 2^level; a moving pitch that changes the level
 * between spans crossfades from the old level's read to the new one's over the span. A voice ends at
 * the sample's end, when env · fade falls below END_LEVEL, or when its fade reaches 0.
 *
 * Retrigger: a new hit on a drum fades the hits still sounding on it out over RETRIGGER_FADE_MS
 * (no click) and plays in a free voice of the drum (or the quietest one, taken over at once).
 *
 * Threads: the constructor and `setSample` run between blocks; `trigger`, `render` and `sounding`
 * run inside a block: no allocation, nothing thrown. Sample data is never written here: a sample
 * the control half publishes is read only, and a voice keeps the arrays it started with (a sample
 * replaced while it plays goes on from the old data: no torn read).
 */

/** Voices per drum: a hit, the hits it is fading out, and room for fast rolls. */
export const VOICES_PER_DRUM = 4;
/** How long a hit still sounding takes to fade out when its drum is hit again. */
export const RETRIGGER_FADE_MS = 5;
/** A voice quieter than this (−80 dB) has ended. */
export const END_LEVEL = 1e-4;
/** The decay time at which (and above which) the envelope is off: the sample plays as it is. */
export const DECAY_OFF_S = 10;

/** Playback rate for a pitch in semitones (+12: twice as fast). */
export function pitchRatio(semitones: number): number {
  return Math.exp(semitones * (Math.LN2 / 12));
}

/** Per-sample envelope factor for a fall of 60 dB over `seconds`; 1 (no envelope) at DECAY_OFF_S and above. */
export function decayCoefficient(seconds: number, sampleRate: number): number {
  if (!(seconds < DECAY_OFF_S)) return 1;
  return Math.exp(Math.log(0.001) / (Math.max(seconds, 1e-3) * sampleRate));
}

/** The octave (0: the sample itself) a voice at `rate` reads: ⌈log2 rate⌉, 0 … levels. */
function octaveFor(rate: number, levels: number): number {
  let level = 0;
  for (let r = rate; r > 1 && level < levels; r *= 0.5) level++;
  return level;
}

/** 4-point Hermite read of `x` at `i + frac` (0 outside the data). */
function hermite(x: Float32Array, n: number, i: number, frac: number): number {
  const x0 = x[i];
  if (frac === 0) return x0;
  const xm1 = i > 0 ? x[i - 1] : 0;
  const x1 = i + 1 < n ? x[i + 1] : 0;
  const x2 = i + 2 < n ? x[i + 2] : 0;
  const c1 = 0.5 * (x1 - xm1);
  const c2 = xm1 - 2.5 * x0 + 2 * x1 - 0.5 * x2;
  const c3 = 0.5 * (x2 - xm1) + 1.5 * (x0 - x1);
  return ((c3 * frac + c2) * frac + c1) * frac + x0;
}

/**
 * A sounding voice (hot reload, session snapshots): where it is in its sample and its levels; the
 * sample data only when it is not its drum's current sample (one replaced while the hit plays).
 */
export interface DrumVoiceState {
  voice: number;
  pos: number;
  gain: number;
  env: number;
  fade: number;
  fadeStep: number;
  left?: Float32Array;
  right?: Float32Array;
  /** With `left`: its octaves down, when it had them. */
  octavesLeft?: Float32Array[];
  octavesRight?: Float32Array[];
}

/** A sample and its octaves down (level L at index L; the sample alone: no band-limited reads). */
export type Octaves = readonly Float32Array[];

export class DrumKit {
  readonly drums: number;
  private readonly empty: Octaves = [new Float32Array(0)];
  /** Per drum: the sample a new hit plays (left and right, with their octaves; the same for a mono sample). */
  private readonly sampleL: Octaves[];
  private readonly sampleR: Octaves[];
  /** Per voice (drum · VOICES_PER_DRUM + k): the arrays it plays, the octave it read last, its position and levels. */
  private readonly voiceL: Octaves[];
  private readonly voiceR: Octaves[];
  private readonly octave: Int8Array;
  private readonly pos: Float64Array;
  private readonly gain: Float64Array;
  private readonly env: Float64Array;
  private readonly fade: Float64Array;
  private readonly fadeStep: Float64Array;
  private readonly active: Uint8Array;
  /** Per drum: how many of its voices sound. */
  private readonly playing: Int32Array;
  private readonly fadeDelta: number;

  constructor(drums: number, sampleRate: number) {
    this.drums = drums;
    const voices = drums * VOICES_PER_DRUM;
    this.sampleL = Array.from({ length: drums }, () => this.empty);
    this.sampleR = Array.from({ length: drums }, () => this.empty);
    this.voiceL = Array.from({ length: voices }, () => this.empty);
    this.voiceR = Array.from({ length: voices }, () => this.empty);
    this.octave = new Int8Array(voices);
    this.pos = new Float64Array(voices);
    this.gain = new Float64Array(voices);
    this.env = new Float64Array(voices);
    this.fade = new Float64Array(voices);
    this.fadeStep = new Float64Array(voices);
    this.active = new Uint8Array(voices);
    this.playing = new Int32Array(drums);
    this.fadeDelta = 1 / Math.max(1, Math.round((RETRIGGER_FADE_MS / 1000) * sampleRate));
  }

  /** Between blocks: the sample drum `d`'s next hits play, with its octaves (null: none). Hits already sounding keep theirs. */
  setSample(d: number, left: Octaves | null, right: Octaves | null): void {
    this.sampleL[d] = left ?? this.empty;
    this.sampleR[d] = right ?? left ?? this.empty;
  }

  /** True while drum `d` has a voice sounding. */
  sounding(d: number): boolean {
    return this.playing[d] > 0;
  }

  /** A hit on drum `d` at level `gain`, from the next sample rendered. No allocation. */
  trigger(d: number, gain: number): void {
    const data = this.sampleL[d];
    if (data[0].length === 0 || !(gain > 0)) return;
    // What still sounds on this drum fades out; the hit takes a free voice, else the quietest.
    const base = d * VOICES_PER_DRUM;
    let free = -1;
    let quietest = base;
    let least = Infinity;
    for (let v = base; v < base + VOICES_PER_DRUM; v++) {
      if (this.active[v] === 0) {
        if (free < 0) free = v;
        continue;
      }
      if (this.fadeStep[v] === 0) this.fadeStep[v] = this.fadeDelta;
      const level = this.env[v] * this.fade[v];
      if (level < least) {
        least = level;
        quietest = v;
      }
    }
    const chosen = free >= 0 ? free : quietest;
    if (free >= 0) this.playing[d]++;
    this.voiceL[chosen] = data;
    this.voiceR[chosen] = this.sampleR[d];
    this.octave[chosen] = -1;
    this.pos[chosen] = 0;
    this.gain[chosen] = gain;
    this.env[chosen] = 1;
    this.fade[chosen] = 1;
    this.fadeStep[chosen] = 0;
    this.active[chosen] = 1;
  }

  /** Every sounding voice (between blocks; allocates). */
  getState(): DrumVoiceState[] {
    const out: DrumVoiceState[] = [];
    for (let v = 0; v < this.active.length; v++) {
      if (this.active[v] === 0) continue;
      const d = Math.floor(v / VOICES_PER_DRUM);
      const current = this.voiceL[v] === this.sampleL[d] && this.voiceR[v] === this.sampleR[d];
      const own = current ? {} : { left: this.voiceL[v][0], right: this.voiceR[v][0], ...(this.voiceL[v].length > 1 ? { octavesLeft: this.voiceL[v].slice(1), octavesRight: this.voiceR[v].slice(1) } : {}) };
      out.push({ voice: v, pos: this.pos[v], gain: this.gain[v], env: this.env[v], fade: this.fade[v], fadeStep: this.fadeStep[v], ...own });
    }
    return out;
  }

  /** `getState()` output back, in place of every voice sounding now (between blocks); voices it does not fit are skipped. */
  setState(voices: readonly DrumVoiceState[]): void {
    this.active.fill(0);
    this.playing.fill(0);
    this.voiceL.fill(this.empty);
    this.voiceR.fill(this.empty);
    for (const s of voices) {
      const v = s.voice;
      if (!(v >= 0 && v < this.active.length) || this.active[v] === 1) continue;
      const d = Math.floor(v / VOICES_PER_DRUM);
      const left: Octaves = s.left === undefined ? this.sampleL[d] : [s.left, ...(s.octavesLeft ?? [])];
      if (left[0].length === 0) continue;
      this.voiceL[v] = left;
      this.voiceR[v] = s.left === undefined ? this.sampleR[d] : s.right === undefined ? left : [s.right, ...(s.octavesRight ?? s.octavesLeft ?? [])];
      this.octave[v] = -1;
      this.pos[v] = s.pos;
      this.gain[v] = s.gain;
      this.env[v] = s.env;
      this.fade[v] = s.fade;
      this.fadeStep[v] = s.fadeStep;
      this.active[v] = 1;
      this.playing[d]++;
    }
  }

  /**
   * Adds drum `d`'s voices into `outL`/`outR` over [start, end). The rate is `rates[i]` per sample
   * when `rates` is given (a moving pitch; its largest value in the span picks the octave), else
   * `rate`; `coef` is the decay coefficient.
   */
  render(d: number, outL: Float32Array, outR: Float32Array, start: number, end: number, rates: Float32Array | null, rate: number, coef: number): void {
    let top = rate;
    if (rates !== null) for (let i = start; i < end; i++) if (rates[i] > top) top = rates[i];
    const base = d * VOICES_PER_DRUM;
    for (let v = base; v < base + VOICES_PER_DRUM; v++) {
      if (this.active[v] === 0) continue;
      const level = octaveFor(top, this.voiceL[v].length - 1);
      const from = this.octave[v];
      this.octave[v] = level;
      const done = from >= 0 && from !== level ? this.crossfade(v, from, level, outL, outR, start, end, rates, rate, coef) : this.play(v, level, outL, outR, start, end, rates, rate, coef, 0, 0);
      if (done || this.env[v] * this.fade[v] < END_LEVEL) {
        this.active[v] = 0;
        this.playing[d]--;
        // Let go of the data (a replaced sample can be collected once no voice holds it).
        this.voiceL[v] = this.empty;
        this.voiceR[v] = this.empty;
      }
    }
  }

  /** From octave `from` to `to` over the span: both read, linearly crossfaded (a moving pitch crossing 2 or 4). */
  private crossfade(v: number, from: number, to: number, outL: Float32Array, outR: Float32Array, start: number, end: number, rates: Float32Array | null, rate: number, coef: number): boolean {
    const { pos, env, fade } = this;
    const p = pos[v];
    const e = env[v];
    const f = fade[v];
    // The old octave fading out (its levels not kept), then the new one fading in from where the voice was.
    this.play(v, from, outL, outR, start, end, rates, rate, coef, 1, -1 / (end - start));
    pos[v] = p;
    env[v] = e;
    fade[v] = f;
    return this.play(v, to, outL, outR, start, end, rates, rate, coef, 0, 1 / (end - start));
  }

  /**
   * Voice `v` over [start, end) from octave `level`, weighted by `mix` (1, or a ramp from `mix` by
   * `step` a sample when `step` is not 0); its position and levels move on. True when it has ended.
   */
  private play(v: number, level: number, outL: Float32Array, outR: Float32Array, start: number, end: number, rates: Float32Array | null, rate: number, coef: number, mix: number, step: number): boolean {
    const xl = this.voiceL[v][level];
    const xr = this.voiceR[v][level];
    const n = this.voiceL[v][0].length;
    const nl = xl.length;
    const scale = 1 / (1 << level);
    const mono = xl === xr;
    const g = this.gain[v];
    const fs = this.fadeStep[v];
    let p = this.pos[v];
    let e = this.env[v];
    let f = this.fade[v];
    let m = step === 0 ? 1 : mix;
    for (let i = start; i < end; i++) {
      if (p >= n) {
        this.pos[v] = p;
        return true;
      }
      const q = p * scale;
      const k = Math.floor(q);
      const frac = q - k;
      const w = g * e * f * m;
      const yl = hermite(xl, nl, k, frac);
      outL[i] += yl * w;
      outR[i] += (mono ? yl : hermite(xr, nl, k, frac)) * w;
      p += rates === null ? rate : rates[i];
      e *= coef;
      m += step;
      if (fs > 0) {
        f -= fs;
        if (f <= 0) {
          this.pos[v] = p;
          return true;
        }
      }
    }
    this.pos[v] = p;
    this.env[v] = e;
    this.fade[v] = f;
    return false;
  }
}
