/**
 * Stereo Freeverb (Jezar at Dreampoint, 2000; public domain): per channel 8 parallel lowpass-feedback
 * comb filters into 4 series Schroeder allpasses. Both channels take the same mono input
 * `(inL + inR) · 0.015`; the right channel's delays are 23 samples (at 44.1 kHz) longer, which
 * decorrelates the two tails. Tunings are scaled from 44.1 kHz to the sample rate.
 *
 * | control | maps to                                                   |
 * | ------- | --------------------------------------------------------- |
 * | room    | comb feedback = room · 0.28 + 0.7 (0.7 … 0.98)            |
 * | damp    | comb lowpass coefficient = damp · 0.4 (0 … 0.4)           |
 *
 * The output is Freeverb's wet signal at width 1 and unity wet gain (Jezar's `wet·scalewet` = 1):
 * left from the left bank, right from the right bank, no dry part.
 *
 * Usage (create): `const fv = new Freeverb(ctx.sampleRate, ctx.maxBlock)`; per block:
 * `fv.setRoom(r); fv.setDamp(d); fv.process(inL, inR, wetL, wetR, start, end)` (overwrites wet*).
 *
 * Cost: 24 delay taps per stereo frame, processed over the block with four comb recursions (or two
 * allpass chains, left and right) interleaved per loop so the CPU overlaps them.
 * Thread: the constructor and `getState` allocate (create / between blocks); `process`, `setRoom`,
 * `setDamp`, `clear` are allocation-free and safe in `process`.
 */
import { flushDenormal } from './denormal.ts';

export const FREEVERB_COMB_TUNING: readonly number[] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
export const FREEVERB_ALLPASS_TUNING: readonly number[] = [556, 441, 341, 225];
export const FREEVERB_STEREO_SPREAD = 23;
export const FREEVERB_TUNING_RATE = 44100;
export const FREEVERB_FIXED_GAIN = 0.015;
export const FREEVERB_SCALE_DAMP = 0.4;
export const FREEVERB_SCALE_ROOM = 0.28;
export const FREEVERB_OFFSET_ROOM = 0.7;
export const FREEVERB_ALLPASS_FEEDBACK = 0.5;

const COMBS = 8;
const ALLPASSES = 4;

export interface FreeverbState {
  v: 1;
  combs: Float32Array[];
  combPos: number[];
  combStore: number[];
  allpasses: Float32Array[];
  allpassPos: number[];
}

export class Freeverb {
  readonly sampleRate: number;
  /** Comb buffers: 0..7 left, 8..15 right. */
  private readonly combs: Float32Array[] = [];
  private readonly combPos = new Int32Array(2 * COMBS);
  /** The one-pole lowpass state inside each comb's feedback. */
  private readonly combStore = new Float64Array(2 * COMBS);
  /** Allpass buffers: 0..3 left, 4..7 right. */
  private readonly allpasses: Float32Array[] = [];
  private readonly allpassPos = new Int32Array(2 * ALLPASSES);
  private readonly input: Float64Array;
  private readonly acc: Float64Array;
  private readonly accR: Float64Array;
  private feedback = 0.5 * FREEVERB_SCALE_ROOM + FREEVERB_OFFSET_ROOM;
  private damp1 = 0.5 * FREEVERB_SCALE_DAMP;
  private damp2 = 1 - 0.5 * FREEVERB_SCALE_DAMP;
  /** The longest comb (samples): a tail has fully left the combs after this long without input. */
  readonly longestComb: number;

  constructor(sampleRate: number, maxBlock: number) {
    this.sampleRate = sampleRate;
    const scale = sampleRate / FREEVERB_TUNING_RATE;
    let longest = 0;
    for (let ch = 0; ch < 2; ch++) {
      const spread = ch === 0 ? 0 : FREEVERB_STEREO_SPREAD;
      for (const t of FREEVERB_COMB_TUNING) {
        const len = Math.max(1, Math.round((t + spread) * scale));
        if (len > longest) longest = len;
        this.combs.push(new Float32Array(len));
      }
      for (const t of FREEVERB_ALLPASS_TUNING) this.allpasses.push(new Float32Array(Math.max(1, Math.round((t + spread) * scale))));
    }
    this.longestComb = longest;
    this.input = new Float64Array(maxBlock);
    this.acc = new Float64Array(maxBlock);
    this.accR = new Float64Array(maxBlock);
  }

  /** Room size 0..1 (clamped): comb feedback 0.7 … 0.98. */
  setRoom(room: number): void {
    const r = room > 0 ? (room < 1 ? room : 1) : 0;
    this.feedback = r * FREEVERB_SCALE_ROOM + FREEVERB_OFFSET_ROOM;
  }

  /** Damping 0..1 (clamped): high frequencies die faster as it rises. */
  setDamp(damp: number): void {
    const d = damp > 0 ? (damp < 1 ? damp : 1) : 0;
    this.damp1 = d * FREEVERB_SCALE_DAMP;
    this.damp2 = 1 - this.damp1;
  }

  /**
   * Reverberates `inL/inR[start..end)` and WRITES the wet stereo signal to `outL/outR[start..end)`.
   * `end − start` ≤ maxBlock. Allocation-free.
   */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array | Float64Array, outR: Float32Array | Float64Array, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    const input = this.input;
    for (let i = 0; i < n; i++) input[i] = (inL[start + i] + inR[start + i]) * FREEVERB_FIXED_GAIN;
    const fb = this.feedback;
    const damp1 = this.damp1;
    const damp2 = this.damp2;
    const accL = this.acc;
    const accR = this.accR;
    accL.fill(0, 0, n);
    accR.fill(0, 0, n);
    const combs = this.combs;
    const combPos = this.combPos;
    const combStore = this.combStore;
    // Combs two at a time on each side (four independent recursions per pass: the CPU overlaps them).
    for (let c = 0; c < COMBS; c += 2) {
      const a0 = combs[c], a1 = combs[c + 1], b0 = combs[COMBS + c], b1 = combs[COMBS + c + 1];
      const la0 = a0.length, la1 = a1.length, lb0 = b0.length, lb1 = b1.length;
      let pa0 = combPos[c], pa1 = combPos[c + 1], pb0 = combPos[COMBS + c], pb1 = combPos[COMBS + c + 1];
      let sa0 = combStore[c], sa1 = combStore[c + 1], sb0 = combStore[COMBS + c], sb1 = combStore[COMBS + c + 1];
      for (let i = 0; i < n; i++) {
        const x = input[i];
        const oa0 = a0[pa0], oa1 = a1[pa1], ob0 = b0[pb0], ob1 = b1[pb1];
        sa0 = oa0 * damp2 + sa0 * damp1;
        sa1 = oa1 * damp2 + sa1 * damp1;
        sb0 = ob0 * damp2 + sb0 * damp1;
        sb1 = ob1 * damp2 + sb1 * damp1;
        a0[pa0] = x + sa0 * fb;
        a1[pa1] = x + sa1 * fb;
        b0[pb0] = x + sb0 * fb;
        b1[pb1] = x + sb1 * fb;
        if (++pa0 === la0) pa0 = 0;
        if (++pa1 === la1) pa1 = 0;
        if (++pb0 === lb0) pb0 = 0;
        if (++pb1 === lb1) pb1 = 0;
        accL[i] += oa0 + oa1;
        accR[i] += ob0 + ob1;
      }
      combPos[c] = pa0;
      combPos[c + 1] = pa1;
      combPos[COMBS + c] = pb0;
      combPos[COMBS + c + 1] = pb1;
      combStore[c] = flushDenormal(sa0);
      combStore[c + 1] = flushDenormal(sa1);
      combStore[COMBS + c] = flushDenormal(sb0);
      combStore[COMBS + c + 1] = flushDenormal(sb1);
    }
    // Allpasses in series on each side, left and right side by side.
    const aps = this.allpasses;
    const apPos = this.allpassPos;
    for (let a = 0; a < ALLPASSES; a++) {
      const bl = aps[a], br = aps[ALLPASSES + a];
      const ll = bl.length, lr = br.length;
      let pl = apPos[a], pr = apPos[ALLPASSES + a];
      for (let i = 0; i < n; i++) {
        const ol = bl[pl], or = br[pr];
        const xl = accL[i], xr = accR[i];
        bl[pl] = xl + ol * FREEVERB_ALLPASS_FEEDBACK;
        br[pr] = xr + or * FREEVERB_ALLPASS_FEEDBACK;
        accL[i] = ol - xl;
        accR[i] = or - xr;
        if (++pl === ll) pl = 0;
        if (++pr === lr) pr = 0;
      }
      apPos[a] = pl;
      apPos[ALLPASSES + a] = pr;
    }
    for (let i = 0; i < n; i++) {
      outL[start + i] = accL[i];
      outR[start + i] = accR[i];
    }
  }

  /** Silences the tail. */
  clear(): void {
    for (const b of this.combs) b.fill(0);
    for (const b of this.allpasses) b.fill(0);
    this.combStore.fill(0);
  }

  /** Copies of every buffer and position (between blocks; allocates about 200 KB at 48 kHz). */
  getState(): FreeverbState {
    return {
      v: 1,
      combs: this.combs.map((b) => Float32Array.from(b)),
      combPos: Array.from(this.combPos),
      combStore: Array.from(this.combStore),
      allpasses: this.allpasses.map((b) => Float32Array.from(b)),
      allpassPos: Array.from(this.allpassPos),
    };
  }

  /**
   * Restores `getState()` output. Buffers of another length (another sample rate) are copied as far
   * as they fit; missing or malformed parts leave the current contents.
   */
  setState(state: unknown): void {
    const s = state as Partial<FreeverbState> | null;
    if (s === null || typeof s !== 'object') return;
    restoreBank(s.combs, s.combPos, this.combs, this.combPos);
    restoreBank(s.allpasses, s.allpassPos, this.allpasses, this.allpassPos);
    const store = s.combStore as unknown;
    if (Array.isArray(store) && store.length === this.combStore.length) {
      for (let i = 0; i < store.length; i++) {
        const v = store[i];
        this.combStore[i] = typeof v === 'number' && Number.isFinite(v) ? v : 0;
      }
    }
  }
}

function restoreBank(buffers: unknown, positions: unknown, into: Float32Array[], pos: Int32Array): void {
  if (!Array.isArray(buffers) || buffers.length !== into.length) return;
  for (let k = 0; k < into.length; k++) {
    const src = buffers[k] as unknown;
    if (!(src instanceof Float32Array || src instanceof Float64Array || Array.isArray(src))) continue;
    const a = src as ArrayLike<number>;
    const dst = into[k];
    const n = a.length < dst.length ? a.length : dst.length;
    dst.fill(0);
    for (let i = 0; i < n; i++) {
      const v = Number(a[i]);
      dst[i] = Number.isFinite(v) ? v : 0;
    }
    const p = Array.isArray(positions) ? positions[k] : 0;
    pos[k] = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p < dst.length ? p : 0;
  }
}
