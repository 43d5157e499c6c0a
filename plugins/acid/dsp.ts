/**
 * acid1, pure DSP: a TB-303-style filter voice — pre-filter drive → 4-pole resonant ladder (the SDK's
 * `Ladder`, tanh in the loop) whose cutoff is swept by a decay envelope → level compensation → soft
 * limit. Every input is explicit; nothing here knows about the kernel.
 *
 * Per sample (`tick`):
 *   e      = envelope (0 at rest; peak 1, or 1 + a on an accented note)
 *   cutoff = cutoff + a·cutoffOffset + envAmount·e                         clamped to [20 Hz, 16 kHz]
 *   res    = res·(0.2 + 0.8·min(1, cutoff/400)) + a·resAccentBoost        clamped to [0, 0.98]
 *            (the scale thins the resonance at low cutoffs, like the 303's high-pass in the loop)
 *   in     = tanh((1 + 4·drive)·x) · (1 + drive)/(1 + 4·drive)            pre-filter drive (fastTanh)
 *   out    = ladder(in) · (1 + volComp·k) · (1 + 0.33·a)                  k = 4·res; soft limit at ±1
 * where `a` is the note's accent (0..1), latched when the gate opens (see `gate`).
 *
 * Envelope (`AcidEnvelope`): a 1 ms linear attack from wherever it is to the peak, then an
 * exponential decay that reaches 1 % of the peak exactly `decay` seconds after the peak. Like the
 * 303's filter envelope it ignores gate-off: a note's sweep always runs its full decay.
 *
 * Accent (`gate(value, accentParam)`): a = max(accentParam, value > 1 ? min(1, value − 1) : 0), i.e.
 * the `accent` parameter's value at gate time, or a gate value above 1 (`/gate/voice2 2` is a fully
 * accented hit; plain 1 is not). An accented note: +a·cutoffOffset on the cutoff, +a·resAccentBoost
 * on the resonance, an envelope peak of 1 + a that decays in lerp(decay, min(decay, accentDecay), a)
 * (the 303 forces the short decay on accents), and ×(1 + 0.33·a) level (+2.5 dB at a = 1).
 *
 * Thread: the constructor and `getState` allocate (create / between blocks); everything else is
 * allocation-free and safe in `process`.
 */
import { fastTanhBlock, Ladder, type LadderState } from 'plugin-sdk';

/** Attack time of the filter envelope. */
export const ATTACK_S = 0.001;
/** Level of a fully accented note relative to an unaccented one (+2.5 dB). */
export const ACCENT_GAIN = 1.33;
/** Limits of the swept cutoff. */
export const MIN_CUTOFF_HZ = 20;
export const MAX_CUTOFF_HZ = 16000;
/** Upper limit of the effective resonance (the parameter's own maximum). */
export const MAX_RES = 0.98;
/** The envelope "reaches" zero (goes idle) below this level. */
const ENV_FLOOR = 1e-6;
/** The soft limiter is transparent below this level and never exceeds 1. */
const LIMIT_KNEE = 0.95;

const ENV_IDLE = 0;
const ENV_ATTACK = 1;
const ENV_DECAY = 2;

/** Plain-JSON envelope state. */
export interface AcidEnvelopeState {
  stage: number;
  level: number;
  peak: number;
  remain: number;
  inc: number;
}

/** The 303-style filter envelope: 1 ms linear attack to `peak`, exponential decay to 1 % in `decay` s. */
export class AcidEnvelope {
  readonly sampleRate: number;
  /** The value of the next sample. */
  level = 0;
  stage = ENV_IDLE;
  peak = 1;
  private inc = 0;
  private remain = 0;
  private coef = 0;
  private decay = -1;
  private readonly attackSamples: number;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    this.attackSamples = Math.max(1, Math.round(ATTACK_S * sampleRate));
    this.setDecay(0.25);
  }

  /** Decay time in seconds: from the peak to 1 % of it (clamped to ≥ 1 ms). Cheap when unchanged. */
  setDecay(seconds: number): void {
    if (seconds === this.decay) return;
    this.decay = seconds;
    const n = (seconds > 0.001 ? seconds : 0.001) * this.sampleRate;
    this.coef = Math.pow(0.01, 1 / n);
  }

  /** Starts a note: ramps from the current level to `peak` in 1 ms, then decays. */
  trigger(peak: number): void {
    this.peak = peak;
    this.stage = ENV_ATTACK;
    this.remain = this.attackSamples;
    this.inc = (peak - this.level) / this.attackSamples;
  }

  isIdle(): boolean {
    return this.stage === ENV_IDLE;
  }

  /** One sample (the value, then a step). */
  next(): number {
    const y = this.level;
    if (this.stage === ENV_DECAY) {
      const l = y * this.coef;
      if (l < ENV_FLOOR) {
        this.level = 0;
        this.stage = ENV_IDLE;
      } else this.level = l;
    } else if (this.stage === ENV_ATTACK) {
      if (--this.remain <= 0) {
        this.level = this.peak;
        this.stage = ENV_DECAY;
        this.inc = 0; // only the attack steps; a stale step would not survive a state round trip
      } else this.level = y + this.inc;
    }
    return y;
  }

  /** Advances `n` samples without output (a bypassed block). */
  skip(n: number): void {
    for (let i = 0; i < n && this.stage !== ENV_IDLE; i++) this.next();
  }

  reset(): void {
    this.level = 0;
    this.stage = ENV_IDLE;
    this.remain = 0;
    this.inc = 0;
  }

  getState(): AcidEnvelopeState {
    return { stage: this.stage, level: this.level, peak: this.peak, remain: this.remain, inc: this.inc };
  }

  setState(s: Partial<AcidEnvelopeState> | null | undefined): void {
    if (s === null || typeof s !== 'object') return;
    const num = (x: unknown, lo: number, hi: number): x is number => typeof x === 'number' && x >= lo && x <= hi;
    if (num(s.peak, 0, 2)) this.peak = s.peak;
    if (num(s.level, 0, 2)) this.level = s.level;
    if (s.stage === ENV_ATTACK && num(s.remain, 1, this.attackSamples) && Number.isInteger(s.remain) && num(s.inc, -2, 2)) {
      this.stage = ENV_ATTACK;
      this.remain = s.remain;
      this.inc = s.inc;
    } else if (s.stage === ENV_ATTACK || s.stage === ENV_DECAY) {
      this.stage = this.level > ENV_FLOOR ? ENV_DECAY : ENV_IDLE;
    } else if (s.stage === ENV_IDLE) this.reset();
  }
}

/** Plain-JSON state of the whole filter (hot reload, patterns). */
export interface AcidState {
  accent: number;
  env: AcidEnvelopeState;
  left: LadderState;
  right: LadderState;
}

/** Soft limit: identity below the knee, a tanh shoulder above it, never beyond ±1. */
export function softLimit(y: number): number {
  if (y <= LIMIT_KNEE && y >= -LIMIT_KNEE) return y;
  const w = 1 - LIMIT_KNEE;
  if (y > 0) return LIMIT_KNEE + w * Math.tanh((y - LIMIT_KNEE) / w);
  if (y < 0) return -LIMIT_KNEE - w * Math.tanh((-y - LIMIT_KNEE) / w);
  return 0; // NaN
}

/** The accent (0..1) a note gets from a gate value and the `accent` parameter at that moment. */
export function noteAccent(gateValue: number, accentParam: number): number {
  const fromGate = gateValue > 1 ? (gateValue - 1 < 1 ? gateValue - 1 : 1) : 0;
  const a = accentParam > fromGate ? accentParam : fromGate;
  return a > 0 ? (a < 1 ? a : 1) : 0;
}

/**
 * The acid filter, a block at a time: per sample, `controlAt(i)` takes the envelope's step and the
 * controls as they are then (the binding sets them while a parameter moves) and notes the effective
 * cutoff, resonance, drive and gain; `render` then saturates and filters the whole span through the
 * SDK's ladder in one call per channel (a plugin's per-sample calls into the SDK would each allocate),
 * and leaves the output in `outL` / `outR`.
 */
export class AcidFilter {
  readonly sampleRate: number;
  // Controls: set by the binding (per sample while a parameter moves). Units as in the parameter table.
  cutoff = 1500;
  res = 0.45;
  envAmount = 2500;
  drive = 0.2;
  volComp = 0.5;
  cutoffOffset = 300;
  resAccentBoost = 0.2;
  decay = 0.25;
  accentDecay = 0.05;
  /** The current note's accent, latched at gate time. */
  accent = 0;
  /** Output of the last `render`, by index in the block (a mono render writes `outL` only). */
  readonly outL: Float64Array;
  readonly outR: Float64Array;
  /** The effective cutoff (Hz) and resonance (0..0.98) of each sample of the last span, for inspection and tests. */
  readonly cutoffs: Float64Array;
  readonly resonances: Float64Array;
  readonly env: AcidEnvelope;
  readonly left: Ladder;
  readonly right: Ladder;
  private inL: Float32Array;
  private inR: Float32Array;
  /** Per sample: the ladder's input scaled by the drive (then saturated in place), its make-up and the output gain. */
  private readonly post: Float64Array;
  private readonly gain: Float64Array;
  private readonly maxCutoff: number;

  /** `maxFrames`: the most samples a block has (the engine's block size). */
  constructor(sampleRate: number, maxFrames: number) {
    this.sampleRate = sampleRate;
    this.env = new AcidEnvelope(sampleRate);
    this.left = new Ladder(sampleRate);
    this.right = new Ladder(sampleRate);
    this.maxCutoff = Math.min(MAX_CUTOFF_HZ, 0.45 * sampleRate);
    this.outL = new Float64Array(maxFrames);
    this.outR = new Float64Array(maxFrames);
    this.cutoffs = new Float64Array(maxFrames);
    this.resonances = new Float64Array(maxFrames);
    this.post = new Float64Array(maxFrames);
    this.gain = new Float64Array(maxFrames);
    this.inL = this.inR = new Float32Array(0);
  }

  /** The decay time of the current note: `decay`, pulled towards the short accent decay by the accent. */
  noteDecay(): number {
    const a = this.accent;
    const d = this.decay;
    const short = this.accentDecay < d ? this.accentDecay : d;
    return d * (1 - a) + short * a;
  }

  /** Applies `decay` / `accentDecay` to the running envelope (after either changed). */
  updateDecay(): void {
    this.env.setDecay(this.noteDecay());
  }

  /** A gate change: value > 0 starts a note (accent latched from `accentParam` and the value); 0 does nothing (303 style). */
  gate(value: number, accentParam: number): void {
    if (!(value > 0)) return;
    this.accent = noteAccent(value, accentParam);
    this.env.setDecay(this.noteDecay());
    this.env.trigger(1 + this.accent);
  }

  /** The block's input (the tap before voice2's own filter), read by `controlAt`. */
  begin(inL: Float32Array, inR: Float32Array): void {
    this.inL = inL;
    this.inR = inR;
  }

  /** Sample `i`: envelope step, effective cutoff and resonance, the driven input and the output gain. */
  controlAt(i: number): void {
    const a = this.accent;
    const e = this.env.next();
    let fc = this.cutoff + a * this.cutoffOffset + this.envAmount * e;
    if (!(fc >= MIN_CUTOFF_HZ)) fc = MIN_CUTOFF_HZ;
    else if (fc > this.maxCutoff) fc = this.maxCutoff;
    const scale = fc >= 400 ? 1 : 0.2 + 0.002 * fc;
    let r = this.res * scale + a * this.resAccentBoost;
    if (!(r >= 0)) r = 0;
    else if (r > MAX_RES) r = MAX_RES;
    this.cutoffs[i] = fc;
    this.resonances[i] = r;
    const d = this.drive;
    const pre = 1 + 4 * d;
    this.outL[i] = pre * this.inL[i];
    this.outR[i] = pre * this.inR[i];
    this.post[i] = (1 + d) / pre;
    // The ladder's feedback gain is 4·r (r is within its range): the make-up follows it.
    this.gain[i] = (1 + this.volComp * (4 * r)) * (1 + (ACCENT_GAIN - 1) * a);
  }

  /**
   * Saturates and filters `[start, end)` after `controlAt` for each of its samples. `mono` (left =
   * right): one ladder does the work and the right one takes its state, so stereo resumes seamlessly.
   */
  render(start: number, end: number, mono: boolean): void {
    this.channel(this.left, this.outL, start, end);
    if (mono) this.right.setStateFrom(this.left);
    else this.channel(this.right, this.outR, start, end);
  }

  private channel(ladder: Ladder, buf: Float64Array, start: number, end: number): void {
    fastTanhBlock(buf, start, end);
    const post = this.post;
    for (let i = start; i < end; i++) buf[i] *= post[i];
    ladder.processModulated(buf, this.cutoffs, this.resonances, start, end);
    const gain = this.gain;
    for (let i = start; i < end; i++) buf[i] = softLimit(gain[i] * buf[i]);
  }

  /** True when both ladders have rung out (a silent input can then be skipped). */
  isQuiet(): boolean {
    return this.left.isQuiet() && this.right.isQuiet();
  }

  getState(): AcidState {
    return { accent: this.accent, env: this.env.getState(), left: this.left.getState(), right: this.right.getState() };
  }

  setState(s: Partial<AcidState> | null | undefined): void {
    if (s === null || typeof s !== 'object') return;
    if (typeof s.accent === 'number' && s.accent >= 0 && s.accent <= 1) this.accent = s.accent;
    this.env.setState(s.env);
    this.left.setState(s.left);
    this.right.setState(s.right);
    this.updateDecay();
  }
}
