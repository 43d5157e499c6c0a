/**
 * reverb1, pure DSP: the SDK's stereo Freeverb (Jezar's topology and constants, see
 * plugin-sdk/dsp/freeverb.ts) as a send effect: it reads a stereo send bus and ADDS its wet output
 * × mix to an output bus. mix 0..1 (equal to Freeverb's wet level at width 1), room 0..1, damp 0..1.
 *
 * Idle: when the input has been silent and the output quieter than -110 dBFS for longer than the
 * longest comb, the tail is cleared and processing stops until input arrives again (so an unused
 * reverb costs one scan of its input per block and never decays into denormals).
 *
 * Parameters arrive per chunk via `setParams` (values at the chunk's end); the mix ramps linearly
 * across the chunk, room and damp step per chunk (Freeverb's combs take that without clicks).
 *
 * Thread: constructor and `getState` allocate; `setParams`, `process` are allocation-free.
 */
import { Freeverb, type FreeverbState } from 'plugin-sdk';

/** Output level under which a silent-input reverb counts as finished (-110 dBFS). */
const QUIET = 3.2e-6;

export interface ReverbState {
  v: 1;
  idle: boolean;
  quietFrames: number;
  freeverb: FreeverbState | null;
}

export class ReverbDsp {
  readonly freeverb: Freeverb;
  private readonly wetL: Float64Array;
  private readonly wetR: Float64Array;
  private mix0 = 0.3;
  private mix1 = 0.3;
  private fresh = true;
  private idle = true;
  private quietFrames = 0;

  constructor(sampleRate: number, maxBlock: number) {
    this.freeverb = new Freeverb(sampleRate, maxBlock);
    this.wetL = new Float64Array(maxBlock);
    this.wetR = new Float64Array(maxBlock);
  }

  /** Values at the end of the next span. The first call jumps; later mix changes ramp. */
  setParams(mix: number, room: number, damp: number): void {
    this.mix0 = this.mix1;
    this.mix1 = mix > 0 ? (mix < 1 ? mix : 1) : 0;
    if (this.fresh) {
      this.fresh = false;
      this.mix0 = this.mix1;
    }
    this.freeverb.setRoom(room);
    this.freeverb.setDamp(damp);
  }

  /** True while the tail is finished and the input silent (nothing to compute). */
  get isIdle(): boolean {
    return this.idle;
  }

  /** Reverberates `inL/inR[start..end)` and ADDS wet × mix into `outL/outR[start..end)`. */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    let silent = true;
    for (let i = start; i < end; i++) {
      if (inL[i] !== 0 || inR[i] !== 0) {
        silent = false;
        break;
      }
    }
    if (silent && this.idle) return;
    this.idle = false;
    const wl = this.wetL;
    const wr = this.wetR;
    this.freeverb.process(inL, inR, wl, wr, start, end);
    const m0 = this.mix0;
    const dm = (this.mix1 - m0) / n;
    let pk = 0;
    for (let i = start; i < end; i++) {
      const a = wl[i];
      const b = wr[i];
      const g = m0 + dm * (i - start + 1);
      outL[i] += a * g;
      outR[i] += b * g;
      const aa = a < 0 ? -a : a;
      const bb = b < 0 ? -b : b;
      if (aa > pk) pk = aa;
      if (bb > pk) pk = bb;
    }
    if (silent && pk < QUIET) {
      this.quietFrames += n;
      if (this.quietFrames > this.freeverb.longestComb * 2) {
        this.freeverb.clear();
        this.idle = true;
        this.quietFrames = 0;
      }
    } else {
      this.quietFrames = 0;
    }
  }

  /** The whole tail (between blocks). */
  getState(): ReverbState {
    return { v: 1, idle: this.idle, quietFrames: this.quietFrames, freeverb: this.idle ? null : this.freeverb.getState() };
  }

  /** Restores `getState()` output; tolerates missing or mismatched fields. */
  setState(state: unknown): void {
    const s = state as Partial<ReverbState> | null;
    if (s === null || typeof s !== 'object') return;
    if (s.freeverb && typeof s.freeverb === 'object') {
      this.freeverb.setState(s.freeverb);
      this.idle = false;
    } else if (s.idle === true) {
      this.freeverb.clear();
      this.idle = true;
    }
    if (typeof s.quietFrames === 'number' && Number.isFinite(s.quietFrames) && s.quietFrames >= 0) this.quietFrames = s.quietFrames;
  }
}
