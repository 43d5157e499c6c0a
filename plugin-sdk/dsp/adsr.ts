/**
 * Linear ADSR envelope with stage times exact to the sample.
 *
 * - attack: 0 → 1 in `attack` s (round(attack·fs) samples, at least 1). A retrigger starts from the
 *   current level at the same slope, so it takes (1 − level)·attack and never jumps.
 * - decay: 1 → sustain in `decay` s (0: straight to sustain).
 * - sustain: holds `sustain`; a new sustain value is reached by a 5 ms linear glide (no click).
 * - release: current level → 0 in `release` s, whatever the level (at least 1 sample), then idle.
 *
 * Timing convention: the envelope value of a sample is taken before the step, so after `gateOn()` the
 * first sample is the old level (0 from idle) and sample round(attack·fs) is exactly 1.0; decay ends
 * on exactly `sustain`; release ends on exactly 0 and the envelope is then idle.
 * New stage times apply from the next stage that starts; sustain applies at once.
 *
 * Usage (create): `const env = new Adsr(ctx.sampleRate)`; per block: `env.setTimes(a, d, s, r)`,
 * `env.process(buf, start, end, gain)` (multiplies in place by envelope·gain); in `gate`:
 * `env.gateOn()` / `env.gateOff()`; skip work with `env.isIdle()`. Per sample: `e = env.next()`.
 * Thread: allocation-free after construction except `getState`; all else safe in `process`.
 */

export const ADSR_IDLE = 0;
export const ADSR_ATTACK = 1;
export const ADSR_DECAY = 2;
export const ADSR_SUSTAIN = 3;
export const ADSR_RELEASE = 4;
/** Stage labels by index (for state and status). */
export const ADSR_STAGE_NAMES: readonly string[] = ['idle', 'attack', 'decay', 'sustain', 'release'];

/** Plain-JSON state (hot reload). */
export interface AdsrState {
  stage: string;
  level: number;
  /** Samples left in the current linear segment (0 while holding sustain or idle). */
  remain: number;
  inc: number;
  target: number;
  gate: boolean;
}

const SUSTAIN_GLIDE_S = 0.005;

export class Adsr {
  readonly sampleRate: number;
  /** ADSR_IDLE … ADSR_RELEASE. */
  stage = ADSR_IDLE;
  /** The envelope value of the next sample. */
  level = 0;
  /** Whether the gate is open. */
  gate = false;
  /**
   * Per-sample step of the current linear segment, and samples left in it (0 while holding sustain
   * or idle; read the step only while `remain > 0`). For renderers that apply the envelope
   * themselves as linear ramps (split at `remain`, advanced with `skip`). Read-only outside this
   * class. Fields, not getters: a plugin runs in a realm of its own, and V8 does not inline a call
   * into another realm, so a getter read per voice and span costs a real call.
   */
  inc = 0;
  remain = 0;
  private target = 0;
  private attackSamples: number;
  private decaySamples: number;
  private sustain = 0.7;
  private releaseSamples: number;
  private readonly glideSamples: number;

  constructor(sampleRate: number) {
    this.sampleRate = sampleRate;
    this.attackSamples = Math.max(1, Math.round(0.01 * sampleRate));
    this.decaySamples = Math.round(0.1 * sampleRate);
    this.releaseSamples = Math.max(1, Math.round(0.5 * sampleRate));
    this.glideSamples = Math.max(1, Math.round(SUSTAIN_GLIDE_S * sampleRate));
  }

  /** Sets attack, decay, release (seconds) and sustain (0..1). Cheap when nothing changed. */
  setTimes(attack: number, decay: number, sustain: number, release: number): void {
    const fs = this.sampleRate;
    const a = Math.round(attack * fs);
    this.attackSamples = a >= 1 ? a : 1;
    const d = Math.round(decay * fs);
    this.decaySamples = d >= 0 ? d : 0;
    const r = Math.round(release * fs);
    this.releaseSamples = r >= 1 ? r : 1;
    let s = sustain;
    if (!(s >= 0)) s = 0;
    else if (s > 1) s = 1;
    if (s === this.sustain) return;
    this.sustain = s;
    if (this.stage === ADSR_DECAY) {
      this.target = s;
      this.inc = (s - this.level) / this.remain;
    } else if (this.stage === ADSR_SUSTAIN) {
      this.target = s;
      this.remain = this.glideSamples;
      this.inc = (s - this.level) / this.glideSamples;
    }
  }

  /** True when the envelope is at rest at 0 (the voice can be skipped). */
  isIdle(): boolean {
    return this.stage === ADSR_IDLE;
  }

  /** Opens the gate: (re)starts the attack from the current level. */
  gateOn(): void {
    this.gate = true;
    const remain = Math.round((1 - this.level) * this.attackSamples);
    if (remain <= 0) {
      this.level = 1;
      this.enterDecay();
      return;
    }
    this.stage = ADSR_ATTACK;
    this.target = 1;
    this.remain = remain;
    this.inc = (1 - this.level) / remain;
  }

  /** Closes the gate: releases from the current level to 0 in `release` seconds. */
  gateOff(): void {
    this.gate = false;
    if (this.stage === ADSR_IDLE) return;
    if (!(this.level > 0)) {
      this.toIdle();
      return;
    }
    this.stage = ADSR_RELEASE;
    this.target = 0;
    this.remain = this.releaseSamples;
    this.inc = -this.level / this.releaseSamples;
  }

  /** `value > 0` opens the gate, anything else closes it. */
  setGate(value: number): void {
    if (value > 0) this.gateOn();
    else this.gateOff();
  }

  /** Jumps to idle at 0 (no release). */
  reset(): void {
    this.gate = false;
    this.toIdle();
  }

  private toIdle(): void {
    this.stage = ADSR_IDLE;
    this.level = 0;
    this.inc = 0;
    this.remain = 0;
    this.target = 0;
  }

  private enterDecay(): void {
    if (this.decaySamples === 0) {
      this.level = this.sustain;
      this.enterSustain();
      return;
    }
    this.stage = ADSR_DECAY;
    this.target = this.sustain;
    this.remain = this.decaySamples;
    this.inc = (this.sustain - 1) / this.decaySamples;
  }

  private enterSustain(): void {
    this.stage = ADSR_SUSTAIN;
    this.target = this.sustain;
    this.remain = 0;
    this.inc = 0;
  }

  /** The current segment has run out: land exactly on its target and start the next stage. */
  private advance(): void {
    this.level = this.target;
    switch (this.stage) {
      case ADSR_ATTACK:
        this.enterDecay();
        return;
      case ADSR_DECAY:
        this.enterSustain();
        return;
      case ADSR_SUSTAIN:
        this.inc = 0;
        return;
      default:
        this.toIdle();
    }
  }

  /** One sample of the envelope (the value, then a step). */
  next(): number {
    const y = this.level;
    if (this.remain > 0) {
      this.level += this.inc;
      if (--this.remain === 0) this.advance();
    }
    return y;
  }

  /**
   * Multiplies `buf[start..end)` in place by envelope × `gain` (writes 0 once idle). Runs each
   * linear segment as its own tight loop. Allocation-free.
   */
  process(buf: Float32Array, start: number, end: number, gain: number): void {
    let i = start;
    while (i < end) {
      if (this.stage === ADSR_IDLE) {
        for (; i < end; i++) buf[i] = 0;
        return;
      }
      let level = this.level;
      const remain = this.remain;
      if (remain === 0) {
        const g = level * gain;
        for (; i < end; i++) buf[i] *= g;
        return;
      }
      const n = end - i < remain ? end - i : remain;
      const stop = i + n;
      const inc = this.inc;
      for (; i < stop; i++) {
        buf[i] *= level * gain;
        level += inc;
      }
      this.level = level;
      this.remain = remain - n;
      if (this.remain === 0) this.advance();
    }
  }

  /** `inc` while a segment runs, else 0: for plugins written against it before the fields were public. */
  get increment(): number {
    return this.remain > 0 ? this.inc : 0;
  }

  /** `remain`: for plugins written against it before the field was public. */
  get remaining(): number {
    return this.remain;
  }

  /**
   * Advances `n` samples without writing anything, landing exactly where `process` over the same `n`
   * samples would (stage changes included; the level inside a segment is `level + k·inc` instead of
   * k additions, equal to rounding). For renderers that apply the envelope themselves as linear
   * ramps (`level`, `inc`, split at `remain`). Allocation-free.
   */
  skip(n: number): void {
    while (n > 0) {
      const remain = this.remain;
      if (this.stage === ADSR_IDLE || remain === 0) return;
      const k = n < remain ? n : remain;
      this.level += k * this.inc;
      this.remain = remain - k;
      n -= k;
      if (this.remain === 0) this.advance();
    }
  }

  /** Writes the envelope values themselves into `out[start..end)`. Allocation-free. */
  render(out: Float32Array, start: number, end: number): void {
    for (let i = start; i < end; i++) out[i] = 1;
    this.process(out, start, end, 1);
  }

  /** Plain JSON for hot reload (allocates: between blocks). */
  getState(): AdsrState {
    return {
      stage: ADSR_STAGE_NAMES[this.stage],
      level: this.level,
      remain: this.remain,
      inc: this.inc,
      target: this.target,
      gate: this.gate,
    };
  }

  /** Restores `getState()` output; tolerates missing or inconsistent fields (between blocks). */
  setState(state: Partial<AdsrState> | null | undefined): void {
    if (state === null || typeof state !== 'object') return;
    const stage = typeof state.stage === 'string' ? ADSR_STAGE_NAMES.indexOf(state.stage) : -1;
    const level = typeof state.level === 'number' && state.level >= 0 && state.level <= 1 ? state.level : this.level;
    const gate = typeof state.gate === 'boolean' ? state.gate : stage >= ADSR_ATTACK && stage <= ADSR_SUSTAIN;
    const remain = typeof state.remain === 'number' && Number.isInteger(state.remain) && state.remain >= 0 ? state.remain : -1;
    const inc = typeof state.inc === 'number' && Number.isFinite(state.inc) ? state.inc : NaN;
    const target = typeof state.target === 'number' && state.target >= 0 && state.target <= 1 ? state.target : NaN;
    this.level = level;
    if (stage < 0) {
      // No usable stage: derive one from the gate.
      if (gate) this.gateOn();
      else if (level > 0) this.gateOff();
      else this.reset();
      return;
    }
    this.gate = gate;
    if (stage === ADSR_IDLE) {
      this.toIdle();
      return;
    }
    if (remain > 0 && inc === inc && target === target) {
      this.stage = stage;
      this.remain = remain;
      this.inc = inc;
      this.target = target;
      return;
    }
    // Segment details missing: restart the stage from the level.
    if (stage === ADSR_ATTACK) this.gateOn();
    else if (stage === ADSR_RELEASE) this.gateOff();
    else if (stage === ADSR_DECAY) {
      this.stage = ADSR_DECAY;
      this.target = this.sustain;
      const r = Math.max(1, Math.round(this.decaySamples * (level - this.sustain) / (1 - this.sustain || 1)));
      this.remain = r;
      this.inc = (this.sustain - level) / r;
    } else {
      this.enterSustain();
      if (level !== this.sustain) {
        this.remain = this.glideSamples;
        this.inc = (this.sustain - level) / this.glideSamples;
      }
    }
    this.gate = gate;
  }
}
