/**
 * reverb1, pure DSP: the SDK's stereo Freeverb (Jezar's topology and constants, see
 * plugin-sdk/dsp/freeverb.ts) as a send effect: it reads a stereo send bus and ADDS its wet output
 * × mix to an output bus. mix 0..1 (equal to Freeverb's wet level at width 1), room 0..1, damp 0..1.
 *
 * Idle: when the input has been silent and the output quieter than -110 dBFS for longer than the
 * longest comb, the tail is cleared and processing stops until input arrives again (so an unused
 * reverb costs one scan of its input per block and never decays into denormals).
 *
 * Parameters arrive per chunk via `setParams` or straight into `params` (values at the chunk's end);
 * the mix ramps linearly across the chunk, room and damp step per chunk (Freeverb's combs take that
 * without clicks). No double passes through this per-block JavaScript: the parameters live in the
 * Freeverb kernel's memory, which derives, ramps and tests everything itself (V8 boxes each double a
 * function handles until it has optimised it, and a function called once per block is optimised late).
 *
 * Cost: the Freeverb kernel's, which also scans the input for silence and adds wet × mix into the output.
 * Thread: constructor and `getState` allocate; `setParams`, `process` are allocation-free.
 */
import { Freeverb, FREEVERB_DAMP, FREEVERB_ROOM, FREEVERB_WET, type FreeverbState } from 'plugin-sdk';

/** Output level under which a silent-input reverb counts as finished (-110 dBFS). */
const QUIET = 3.2e-6;

export interface ReverbState {
  v: 1;
  idle: boolean;
  quietFrames: number;
  freeverb: FreeverbState | null;
}

/** Slots of `ReverbDsp.params`. */
export const MIX = FREEVERB_WET;
export const ROOM = FREEVERB_ROOM;
export const DAMP = FREEVERB_DAMP;

export class ReverbDsp {
  readonly freeverb: Freeverb;
  /**
   * The values at the end of the next span, slots MIX, ROOM, DAMP (the Freeverb's own parameters:
   * mix is its wet level): written by `setParams`, or directly by a kernel parameter's `fill`.
   */
  readonly params: Float64Array;
  private idle = true;
  private quietFrames = 0;

  constructor(sampleRate: number, maxBlock: number) {
    this.freeverb = new Freeverb(sampleRate, maxBlock);
    this.params = this.freeverb.params;
    this.setParams(0.3, 0.5, 0.5);
  }

  /** Values at the end of the next span. The first span jumps to them; later mix changes ramp. */
  setParams(mix: number, room: number, damp: number): void {
    const p = this.params;
    p[MIX] = mix;
    p[ROOM] = room;
    p[DAMP] = damp;
  }

  /** True while the tail is finished and the input silent (nothing to compute). */
  get isIdle(): boolean {
    return this.idle;
  }

  /** Reverberates `inL/inR[start..end)` and ADDS wet × mix into `outL/outR[start..end)`. */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array, outR: Float32Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const fv = this.freeverb;
    const silent = fv.load(inL, inR, start, end);
    if (silent && this.idle) return;
    this.idle = false;
    fv.run();
    fv.addWet(outL, outR);
    if (!silent || !fv.wetBelow(QUIET)) {
      this.quietFrames = 0;
    } else if ((this.quietFrames += n) > fv.longestComb * 2) {
      fv.clear();
      this.idle = true;
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
