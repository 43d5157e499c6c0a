/**
 * The voice bank: many saw voices rendered together by a WebAssembly SIMD kernel, four voices per
 * `f32x4` (one lane each). It renders exactly what `VoiceDsp` renders for a saw voice — windowed-sinc
 * BLEP saw (the SDK's table, same latency), TPT state-variable lowpass, linear envelope × amp — so
 * the plugin moves a voice between the bank and its `VoiceDsp` at any span without a seam: the
 * oscillator phase, the BLEP line's pending samples and the filter state are handed over exactly
 * (`acquire` / `release`). Differences to `VoiceDsp`: the BLEP line, the filter and the mix run in
 * float32 (the JS path keeps float64 states): a bank voice differs from the same voice rendered by
 * VoiceDsp by about 1e-7 of full scale (measured: 2.4e-7 for six voices at a peak of 0.47; a float64
 * filter, 15 % slower, gave 6e-8). A moving cutoff steps per chunk (the caller's choice, scheduler.ts).
 *
 * The kernel's code is in bank-kernel.ts, the memory layout in bank-layout.ts; this class builds them
 * and reads and writes lanes. Lanes that are not in use run with inc = 0 and gain 0: they cost the
 * same as a voice but contribute nothing, and their state is junk until `acquire` loads it.
 *
 * Cost (chronus-ref workload, 128 saw voices at 110 Hz … 4.2 kHz): ≈ 2.2 ns per voice and sample on
 * the test machine (AMD EPYC, in a loop of its own), of which the BLEP residuals take ~30 % (one wrap
 * per period: ~30 ns each) and the filter ~40 %.
 *
 * Thread: the constructor allocates (create); every other method is allocation-free.
 */
import { blepTable, BLEP_PHASES, BLEP_TAPS, I32, svfGains, WasmModule, type Bus, type WasmMemory } from 'plugin-sdk';
import { addIntoCode, mixCode, renderCode, type Built } from './bank-kernel.ts';
import { GAIN, GINC, IC1, IC2, INC01, K_LANE, K_ONE, K_ONE64, layout, M11, P01, PEAK, sendLevel, sendStep, type Layout } from './bank-layout.ts';
import type { VoiceDsp } from './dsp.ts';

const TAPS = BLEP_TAPS;
const PHASES = BLEP_PHASES;

type Fn3 = (a: number, b: number, c: number) => void;
type Fn2 = (a: number, b: number) => void;

export class VoiceBank {
  readonly sampleRate: number;
  readonly maxBlock: number;
  /** Lanes (a multiple of 4 ≥ the voice count). */
  readonly lanes: number;
  readonly groupCount: number;
  /** Send buses the lanes have levels for (`setSends`). */
  readonly sends: number;
  /** Mono outputs of `mix`, valid for the frames mixed: the voices, and (per-voice sends) each send bus's sum. */
  readonly outMain: Float32Array;
  readonly outSends: readonly Float32Array[];
  private readonly gains = new Float64Array(3);
  /** The filter fields M11, M22, C1, C2, D (float32) for the last cutoff and Q computed (`coefsFor`). */
  private readonly coefs = new Float32Array(5);
  private readonly coefsFor = new Float64Array([-1, -1]);
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;
  private readonly L: Layout;
  private readonly renderFn: Fn3;
  private readonly renderSendsFn: Fn3;
  private readonly mixFn: Fn2;
  private readonly mixSendsFn: Fn2;
  private readonly addIntoFn: Fn2;
  private readonly addIntoScaledFn: Fn2;
  /** The stereo bus `addInto` works on, copied in and out (the bank's memory is its own). */
  private readonly intoL: Float32Array;
  private readonly intoR: Float32Array;
  /** Per lane: the cutoff and Q its coefficients were computed for. */
  private readonly cutoffOf: Float64Array;
  private readonly qOf: Float64Array;
  private readonly piOverFs: number;
  private readonly maxCutoff: number;
  /** Per lane: the f32 index of its group record plus the lane (add a field's byte offset / 4). */
  private readonly lane32: Int32Array;
  /** Per send bus: the f32 offsets (from a lane's `lane32`) of its level and its step. */
  private readonly sendAt: Int32Array;

  /** A bank of `voices` lanes (rounded up to groups of four) feeding `sends` send buses. */
  constructor(sampleRate: number, maxBlock: number, voices: number, sends = 0) {
    this.sampleRate = sampleRate;
    this.maxBlock = maxBlock;
    this.groupCount = Math.max(1, Math.ceil(voices / 4));
    this.lanes = this.groupCount * 4;
    this.sends = sends;
    const L = layout(this.groupCount, maxBlock, sends);
    this.L = L;
    const m = new WasmModule().memory(L.pages);
    const add = (name: string, params: number[], built: Built) =>
      m.func(name, params as never, [], built.locals as never, built.code);
    add('render', [I32, I32, I32], renderCode(L, false));
    add('renderSends', [I32, I32, I32], renderCode(L, true));
    add('mix', [I32, I32], mixCode(L, false));
    add('mixSends', [I32, I32], mixCode(L, true));
    add('addInto', [I32, I32], addIntoCode(L, maxBlock, false));
    add('addIntoScaled', [I32, I32], addIntoCode(L, maxBlock, true));
    const { exports, memory } = m.instantiate();
    const buffer = (memory as WasmMemory).buffer;
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.renderFn = exports.render as Fn3;
    this.renderSendsFn = exports.renderSends as Fn3;
    this.mixFn = exports.mix as Fn2;
    this.mixSendsFn = exports.mixSends as Fn2;
    this.addIntoFn = exports.addInto as Fn2;
    this.addIntoScaledFn = exports.addIntoScaled as Fn2;
    this.intoL = new Float32Array(buffer, L.into, maxBlock);
    this.intoR = new Float32Array(buffer, L.into + Math.ceil(maxBlock / 4) * 16, maxBlock);
    this.outMain = new Float32Array(buffer, L.outM, maxBlock);
    this.outSends = L.outS.map((at) => new Float32Array(buffer, at, maxBlock));
    this.sendAt = new Int32Array(2 * sends);
    for (let k = 0; k < sends; k++) {
      this.sendAt[2 * k] = sendLevel(k) / 4;
      this.sendAt[2 * k + 1] = sendStep(k) / 4;
    }
    for (let i = 0; i < 4; i++) this.f32[(L.consts + K_ONE) / 4 + i] = 1;
    this.f64[(L.consts + K_ONE64) / 8] = 1;
    this.f64[(L.consts + K_ONE64) / 8 + 1] = 1;
    const i32 = new Int32Array(buffer);
    for (let i = 0; i < 4; i++) i32[(L.consts + K_LANE) / 4 + 5 * i] = -1;
    const table = blepTable();
    for (let i = 0; i < PHASES * TAPS; i++) {
      this.f32[L.res / 4 + i] = -2 * table.residual[i];
      this.f32[L.slo / 4 + i] = -2 * table.slope[i];
    }
    this.lane32 = new Int32Array(this.lanes);
    for (let v = 0; v < this.lanes; v++) this.lane32[v] = (L.groups + (v >> 2) * L.gs) / 4 + (v & 3);
    this.cutoffOf = new Float64Array(this.lanes).fill(-1);
    this.qOf = new Float64Array(this.lanes).fill(-1);
    this.piOverFs = Math.PI / sampleRate;
    this.maxCutoff = 0.49 * sampleRate;
    const initial = new Float64Array([1000, Math.SQRT1_2]);
    for (let v = 0; v < this.lanes; v++) {
      this.setFilter(v, initial, 0);
      this.silence(v);
    }
  }

  /** f32 index of lane `v`'s value in the group record field at byte offset `off`. */
  private fi(v: number, off: number): number {
    return this.lane32[v] + off / 4;
  }

  /** f64 index of lane `v`'s phase (off = P01) or increment (off = INC01). */
  private di(v: number, off: number): number {
    return (this.L.groups + (v >> 2) * this.L.gs + off + ((v & 2) !== 0 ? 16 : 0)) / 8 + (v & 1);
  }

  /** f32 index of lane `v` in the first row of its group's look-ahead (a lane's rows are 4 floats apart). */
  private li(v: number): number {
    return (this.L.la + (v >> 2) * TAPS * 16) / 4 + (v & 3);
  }

  /** Lane `v` makes nothing from now on (phase frozen, gain and sends 0). */
  silence(v: number): void {
    const f32 = this.f32;
    const i = this.lane32[v];
    this.f64[this.di(v, INC01)] = 0;
    f32[i + GAIN / 4] = 0;
    f32[i + GINC / 4] = 0;
    const sendAt = this.sendAt;
    for (let j = 0; j < sendAt.length; j++) f32[i + sendAt[j]] = 0;
  }

  /**
   * Takes over `voice` (module `v`) where its group's last `render` ended (its next `render` starts
   * there): its oscillator (saw), the pending BLEP outputs and its filter continue here.
   */
  acquire(v: number, voice: VoiceDsp): void {
    const f32 = this.f32;
    const osc = voice.osc;
    this.f64[this.di(v, P01)] = osc.phase;
    this.tune(v, voice.freq);
    osc.readPending(f32, this.li(v), 4);
    f32[this.fi(v, IC1)] = voice.filter.ic1;
    f32[this.fi(v, IC2)] = voice.filter.ic2;
  }

  /** Hands lane `v` back to `voice` where its group's last `render` ended (oscillator, BLEP line, filter state) and silences the lane. */
  release(v: number, voice: VoiceDsp): void {
    const f32 = this.f32;
    const osc = voice.osc;
    osc.phase = this.f64[this.di(v, P01)];
    osc.writePending(f32, this.li(v), 4, voice.freq);
    const ic1 = f32[this.fi(v, IC1)];
    const ic2 = f32[this.fi(v, IC2)];
    voice.filter.ic1 = ic1 === ic1 ? ic1 : 0;
    voice.filter.ic2 = ic2 === ic2 ? ic2 : 0;
    this.silence(v);
  }

  /*
   * The setters below take their numbers from `src[at …]`, not as arguments: V8 boxes a number
   * passed to a call it did not inline (a heap allocation on the audio thread).
   */

  /** The oscillator frequency of lane `v`: `src[at]` (Hz; the caller clamps it as VoiceDsp does). */
  setFrequency(v: number, src: Float64Array, at: number): void {
    this.tune(v, src[at]);
  }

  private tune(v: number, freqHz: number): void {
    let inc = freqHz / this.sampleRate;
    if (!(inc > 0)) inc = 0;
    else if (inc > 0.45) inc = 0.45;
    this.f64[this.di(v, INC01)] = inc;
  }

  /**
   * Lowpass cutoff `src[at]` (Hz) and linear Q `src[at + 1]` of lane `v`, as Svf.setParams; skipped
   * when unchanged for the lane, and copied when the lane set before had the same (an LFO moving
   * every voice's cutoff together costs one svfGains per block, not one per voice).
   */
  setFilter(v: number, src: Float64Array, at: number): void {
    const cutoffHz = src[at];
    const q = src[at + 1];
    if (cutoffHz === this.cutoffOf[v] && q === this.qOf[v]) return;
    this.cutoffOf[v] = cutoffHz;
    this.qOf[v] = q;
    const k = this.coefs;
    const kf = this.coefsFor;
    if (cutoffHz !== kf[0] || q !== kf[1]) {
      kf[0] = cutoffHz;
      kf[1] = q;
      const gains = this.gains;
      svfGains(gains, cutoffHz, q, this.piOverFs, this.maxCutoff);
      const a1 = gains[0];
      const a2 = gains[1];
      const a3 = gains[2];
      k[0] = 2 * a1 - 1;
      k[1] = 1 - 2 * a3;
      k[2] = a2;
      k[3] = 1 - a3;
      k[4] = a3;
    }
    // The fields M11 … D are consecutive, 16 bytes (4 lanes) apart.
    const f32 = this.f32;
    const i = this.lane32[v] + M11 / 4;
    for (let j = 0; j < 5; j++) f32[i + 4 * j] = k[j];
  }

  /** Gain of lane `v` at the next frame rendered (`src[at]`), and its change per frame (`src[at + 1]`). */
  setGain(v: number, src: Float64Array, at: number): void {
    const i = this.lane32[v];
    this.f32[i + GAIN / 4] = src[at];
    this.f32[i + GINC / 4] = src[at + 1];
  }

  /**
   * Send levels of lane `v` and their change per frame, send bus k's level at `src[at + 2k]` and its
   * step at `src[at + 2k + 1]` (k < `sends`); used by `render(…, true)` only.
   */
  setSends(v: number, src: Float64Array, at: number): void {
    const f32 = this.f32;
    const i = this.lane32[v];
    const sendAt = this.sendAt;
    for (let j = 0; j < sendAt.length; j++) f32[i + sendAt[j]] = src[at + j];
  }

  /** The largest |output| of lane `v` in the last `render` of its group. */
  peak(v: number): number {
    return this.f32[this.lane32[v] + PEAK / 4];
  }

  /** Renders group `g` (lanes 4g … 4g+3) over block frames [start, end) into the accumulators. */
  render(g: number, start: number, end: number, sends: boolean): void {
    if (sends) this.renderSendsFn(g, start, end);
    else this.renderFn(g, start, end);
  }

  /** Sums every group's lanes over [start, end) into `outMain` (and, with sends, each of `outSends`). */
  mix(start: number, end: number, sends: boolean): void {
    if (sends) this.mixSendsFn(start, end);
    else this.mixFn(start, end);
  }

  /** Whether `addInto` takes the span [start, end) of `bus`: whole blocks of a bus as long as the block (else add in JS). */
  addsInto(bus: Bus, start: number, end: number): boolean {
    const n = this.maxBlock;
    return start === 0 && end === n && (n & 3) === 0 && bus.l.length === n && bus.r.length === n;
  }

  /**
   * Adds `mix`'s voice sum (`outMain`) into both channels of `bus` over the whole block, four frames
   * at a time: times `levels[at]` (a send), or as it is when `levels` is null. Bit for bit what
   * `bus += outMain · level` does in JS (bank-kernel.ts, addIntoCode). Only where `addsInto` says so.
   */
  addInto(bus: Bus, levels: Float64Array | null, at: number): void {
    const n = this.maxBlock;
    this.intoL.set(bus.l);
    this.intoR.set(bus.r);
    if (levels === null) this.addIntoFn(this.L.outM, n);
    else {
      this.f64[this.L.intoLevel / 8] = levels[at];
      this.addIntoScaledFn(this.L.outM, n);
    }
    bus.l.set(this.intoL);
    bus.r.set(this.intoR);
  }
}
