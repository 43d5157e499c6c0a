/**
 * The voice bank: many saw voices rendered together by a WebAssembly SIMD kernel, four voices per
 * `f32x4` (one lane each). It renders exactly what `VoiceDsp` renders for a saw voice — windowed-sinc
 * BLEP saw (the SDK's table, same latency), TPT state-variable lowpass, linear envelope × amp — so
 * the plugin moves a voice between the bank and its `VoiceDsp` at any span without a seam: the
 * oscillator phase, the BLEP line's pending samples and the filter state are handed over exactly
 * (`acquire` / `release`). Differences to `VoiceDsp`: the BLEP line, the filter and the mix run in
 * float32 (the JS path keeps float64 states): a bank voice differs from the same voice rendered by
 * VoiceDsp by about 1e-7 of full scale (measured: 2.4e-7 for six voices at a peak of 0.47; a float64
 * filter, 15 % slower, gave 6e-8). A moving cutoff steps per chunk (the caller's choice, index.ts).
 *
 * Kernel (built once in the constructor with plugin-sdk's wasm assembler), per group of 4 lanes and
 * per sample — one pass, nothing written back to the voice buffers:
 *
 *     phase += inc (f64x2 × 2); on a wrap (any lane): phase −= 1 and, for each wrapped lane (one
 *       loop over the wrap bitmask, one code path for all four lanes), the 24-tap BLEP residual
 *       (interpolated between 64 phases, 6 × f32x4, from tables pre-scaled by the step of −2) is
 *       added into that lane: 24 row updates of a broadcast tap masked to the lane
 *     W[k + 12] += 2·phase − 1        W: pending-output rows, 4 lanes per row, indexed by the sample
 *     x = W[k]; W[k] = 0                in the block (+24 rows of look-ahead). One W for all groups:
 *                                       a call brings its group's 24 look-ahead rows in at its first
 *                                       frame and takes them out at its last, so W stays hot in the
 *                                       cache (17 KB for 128 voices instead of 143 KB of W per group)
 *     y = c1·ic1 + c2·ic2 + d·x; ic1, ic2 ← TPT SVF state-space step     (as Svf.processLowpass)
 *     o = y · (gain + k·gainStep)      (envelope × amp as a linear ramp, k frames into the call; split
 *                                       by the caller at every envelope segment end)
 *     acc[k] += o (4 lanes), peak = max(peak, |o|); with per-voice sends also accR[k] += o·sr, accD…
 *
 * and at the end of each call flushes denormals and NaN from the filter state.
 *
 * then `mix` sums the lanes of acc per sample into mono outputs. Lanes that are not in use run with
 * inc = 0 and gain 0: they cost the same as a voice but contribute nothing, and their state is junk
 * until `acquire` loads it.
 *
 * Cost (chronus-ref workload, 128 saw voices at 110 Hz … 4.2 kHz): ≈ 2.2 ns per voice and sample on
 * the test machine (AMD EPYC, in a loop of its own), of which the BLEP residuals take ~30 % (one wrap
 * per period: ~30 ns each) and the filter ~40 %. Rendering two groups per loop iteration, or the
 * oscillators and the filters in two passes, measured no faster: the loop is bound by instruction
 * throughput (V8 spills the 20-odd live vectors), not by the filter's dependency chain.
 *
 * Thread: the constructor allocates (create); every other method is allocation-free.
 */
import { blepTable, BLEP_LATENCY, BLEP_PHASES, BLEP_TAPS, Code, F32, F64, I32, svfGains, V128, WasmModule, type WasmMemory } from 'plugin-sdk';
import type { VoiceDsp } from './dsp.ts';

const Z = BLEP_LATENCY;
const TAPS = BLEP_TAPS;
const PHASES = BLEP_PHASES;
/** Bytes per group record. */
const GS = 288;
// Group record offsets (bytes).
const P01 = 0;
const P23 = 16;
const INC01 = 32;
const INC23 = 48;
const IC1 = 64;
const IC2 = 80;
// The filter's state-space coefficients (as Svf's): m11 = 2a1 − 1, m22 = 1 − 2a3, c1 = a2,
// c2 = 1 − a3, d = a3; the kernel derives b1 = 2a2 = c1 + c1, m12 = −b1, b2 = 2a3 = d + d (exact in
// float32: doubling commutes with rounding), so a lane's filter is 5 stores, not 8.
const M11 = 96;
const M22 = 112;
const C1 = 128;
const C2 = 144;
const D = 160;
const GAIN = 176;
const GINC = 192;
const PEAK = 208;
const SR = 224;
const SRI = 240;
const SD = 256;
const SDI = 272;

interface Layout {
  /** Constants the kernel loads into locals (a v128.const would be rebuilt at every use). */
  consts: number;
  res: number;
  slo: number;
  groups: number;
  /** Each group's look-ahead: TAPS rows of 4 lanes, relative to the end of its last `render`. */
  la: number;
  w: number;
  accM: number;
  accR: number;
  accD: number;
  outM: number;
  outR: number;
  outD: number;
  pages: number;
}

function layout(groups: number, maxBlock: number): Layout {
  const table = PHASES * TAPS * 4;
  const consts = 0;
  const res = 96;
  const slo = res + table;
  const g = slo + table;
  const la = g + groups * GS;
  const w = la + groups * TAPS * 16;
  const accM = w + (maxBlock + TAPS) * 16;
  const accR = accM + maxBlock * 16;
  const accD = accR + maxBlock * 16;
  const outM = accD + maxBlock * 16;
  const outR = outM + maxBlock * 4;
  const outD = outR + maxBlock * 4;
  const bytes = outD + maxBlock * 4;
  return { consts, res, slo, groups: g, la, w, accM, accR, accD, outM, outR, outD, pages: Math.ceil(bytes / 65536) };
}

/** Constant slots (16 bytes each) at `consts`: f32x4 1, f64x2 1, then four lane masks (all ones in lane i). */
const K_ONE = 0;
const K_ONE64 = 16;
const K_LANE = 32;

/** `render(g, s, e)`: one group over block frames [s, e). `sends`: also the per-lane send accumulators. */
function renderCode(L: Layout, sends: boolean): { code: Code; locals: number[] } {
  // Locals: params 0 g, 1 s, 2 e, then i32, v128, f64, f32 locals in that order.
  const g = 0, s = 1, e = 2;
  const gr = 3, wk = 4, wend = 5, acck = 6, ph = 7, rowp = 8, lane = 9, lag = 10;
  let next = 11;
  const v = () => next++;
  const p01 = v(), p23 = v(), inc01 = v(), inc23 = v(), a = v(), z = v();
  const m11 = v(), m12 = v(), m22 = v(), b1 = v(), b2 = v(), c1 = v(), c2 = v(), d = v();
  const gain = v(), ginc = v(), hi = v(), lo = v(), x = v(), y = v(), n1 = v(), o = v(), mk01 = v(), mk23 = v(), pf = v();
  const sr = v(), sri = v(), sd = v(), sdi = v(), t = v(), nk = v(), mask = v();
  // Constants, loaded from memory into locals: a v128.const would be rebuilt at every use in the loop.
  const one64 = v(), one32 = v();
  const vectors = next - 11;
  const xf = next++, af = next++;
  const locals = [...Array(8).fill(I32), ...Array(vectors).fill(V128), F64, F32];
  const c = new Code();
  // gr = groups + g·GS; state into locals.
  c.localGet(g).i32Const(GS).i32Mul().i32Const(L.groups).i32Add().localSet(gr);
  const load = (local: number, off: number) => c.localGet(gr).v128Load(off).localSet(local);
  load(p01, P01);
  load(p23, P23);
  load(inc01, INC01);
  load(inc23, INC23);
  load(a, IC1);
  load(z, IC2);
  load(m11, M11);
  load(m22, M22);
  load(c1, C1);
  load(c2, C2);
  load(d, D);
  c.localGet(c1).localGet(c1).f32x4Add().localTee(b1).f32x4Neg().localSet(m12);
  c.localGet(d).localGet(d).f32x4Add().localSet(b2);
  load(gain, GAIN);
  load(ginc, GINC);
  c.f32x4Const(0, 0, 0, 0).localTee(hi).localTee(lo).localSet(nk);
  c.i32Const(0).v128Load(L.consts + K_ONE64).localSet(one64);
  c.i32Const(0).v128Load(L.consts + K_ONE).localSet(one32);
  if (sends) {
    load(sr, SR);
    load(sri, SRI);
    load(sd, SD);
    load(sdi, SDI);
  }
  // wk = w + 16·s; wend = w + 16·e; acck = accM + 16·s; lag = la + g·16·TAPS.
  c.localGet(s).i32Const(4).i32Shl().i32Const(L.w).i32Add().localSet(wk);
  c.localGet(e).i32Const(4).i32Shl().i32Const(L.w).i32Add().localSet(wend);
  c.localGet(s).i32Const(4).i32Shl().i32Const(L.accM).i32Add().localSet(acck);
  c.localGet(g).i32Const(16 * TAPS).i32Mul().i32Const(L.la).i32Add().localSet(lag);
  // The group's look-ahead into W rows [s, s + TAPS) (every other row of W is 0 between calls).
  for (let i = 0; i < TAPS; i++) c.localGet(wk).localGet(lag).v128Load(16 * i).v128Store(16 * i);

  c.block().loop();
  c.localGet(wk).localGet(wend).i32GeS().brIf(1);
  // Phase (float64, exact like Oscillator's): lanes reaching 1 wrap and get the BLEP residual of a step of −2.
  c.localGet(p01).localGet(inc01).f64x2Add().localTee(p01).localGet(one64).f64x2Ge().localSet(mk01);
  c.localGet(p23).localGet(inc23).f64x2Add().localTee(p23).localGet(one64).f64x2Ge().localSet(mk23);
  c.localGet(mk01).localGet(mk23).v128Or().i32x4Bitmask().if();
  {
    c.localGet(p01).localGet(mk01).localGet(one64).v128And().f64x2Sub().localSet(p01);
    c.localGet(p23).localGet(mk23).localGet(one64).v128And().f64x2Sub().localSet(p23);
    // One pass per wrapped lane, lowest first (one code path for every lane: no per-lane branch to
    // mispredict). The phases go to the group record (written back at the end anyway) so the lane's
    // phase and increment load by index.
    c.localGet(gr).localGet(p01).v128Store(P01);
    c.localGet(gr).localGet(p23).v128Store(P23);
    c.localGet(mk01).i64x2Bitmask().localGet(mk23).i64x2Bitmask().i32Const(2).i32Shl().i32Or().localSet(ph);
    c.loop();
    c.localGet(ph).i32Ctz().localSet(lane);
    // frac = phase / inc ∈ [0, 1) (samples since the step), x = frac · PHASES, row ⌊x⌋, a = x − ⌊x⌋.
    c.localGet(lane).i32Const(3).i32Shl().localGet(gr).i32Add().localTee(rowp).f64Load(P01).localGet(rowp).f64Load(INC01).f64Div().f64Const(PHASES).f64Mul().localTee(xf);
    c.i32TruncSatF64S().localTee(rowp).i32Const(PHASES - 1).localGet(rowp).i32Const(PHASES - 1).i32LeS().select().localSet(rowp);
    c.localGet(xf).localGet(rowp).f64ConvertI32S().f64Sub().f32DemoteF64().localSet(af);
    c.localGet(rowp).i32Const(TAPS * 4).i32Mul().localSet(rowp);
    c.localGet(lane).i32Const(4).i32Shl().v128Load(L.consts + K_LANE).localSet(mask);
    for (let q = 0; q < TAPS / 4; q++) {
      // t = taps 4q … 4q+3: res + a · slope, from tables holding −2 × the SDK's (the residual of a
      // step of −2: exactly −2 · (res + a · slope)).
      c.localGet(rowp).v128Load(L.res + 16 * q, 2);
      c.localGet(af).f32x4Splat().localGet(rowp).v128Load(L.slo + 16 * q, 2).f32x4Mul().f32x4Add().localSet(t);
      for (let i = 0; i < 4; i++) {
        // Row k+4q+i += tap i in this lane (broadcast, masked), 0 in the others (whole-row access: no
        // partial stores for the next row load to trip over).
        const off = 16 * (4 * q + i);
        c.localGet(wk).localGet(wk).v128Load(off).localGet(t).localGet(t).i32x4Shuffle(i, i, i, i).localGet(mask).v128And().f32x4Add().v128Store(off);
      }
    }
    c.localGet(ph).localGet(ph).i32Const(1).i32Sub().i32And().localTee(ph).brIf(0);
    c.end();
  }
  c.end();
  // W[k + Z] += 2·phase − 1 (the naive saw; the phase rounded to float32 first).
  c.localGet(p01).f32x4DemoteF64x2Zero().localGet(p23).f32x4DemoteF64x2Zero().i32x4Shuffle(0, 1, 4, 5).localSet(pf);
  c.localGet(wk).localGet(wk).v128Load(16 * Z).localGet(pf).localGet(pf).f32x4Add().localGet(one32).f32x4Sub().f32x4Add().v128Store(16 * Z);
  // Filter (the row read is cleared for the next call: W is shared).
  c.localGet(wk).v128Load().localSet(x);
  c.localGet(wk).f32x4Const(0, 0, 0, 0).v128Store();
  c.localGet(c1).localGet(a).f32x4Mul().localGet(c2).localGet(z).f32x4Mul().f32x4Add().localGet(d).localGet(x).f32x4Mul().f32x4Add().localSet(y);
  c.localGet(m11).localGet(a).f32x4Mul().localGet(m12).localGet(z).f32x4Mul().f32x4Add().localGet(b1).localGet(x).f32x4Mul().f32x4Add().localSet(n1);
  c.localGet(b1).localGet(a).f32x4Mul().localGet(m22).localGet(z).f32x4Mul().f32x4Add().localGet(b2).localGet(x).f32x4Mul().f32x4Add().localSet(z);
  c.localGet(n1).localSet(a);
  // gain + k·step (k counted exactly in f32; a running sum would drift by its rounding).
  c.localGet(y).localGet(gain).localGet(nk).localGet(ginc).f32x4Mul().f32x4Add().f32x4Mul().localSet(o);
  c.localGet(nk).localGet(one32).f32x4Add().localSet(nk);
  c.localGet(acck).localGet(acck).v128Load().localGet(o).f32x4Add().v128Store();
  // Peak: running max and min (pseudo-min/max: one instruction each).
  c.localGet(hi).localGet(o).f32x4Pmax().localSet(hi);
  c.localGet(lo).localGet(o).f32x4Pmin().localSet(lo);
  if (sends) {
    // nk was already counted up: the send levels at this frame are sr + (nk − 1)·sri.
    c.localGet(acck).localGet(acck).v128Load(L.accR - L.accM).localGet(o).localGet(sr).localGet(nk).localGet(one32).f32x4Sub().localTee(t).localGet(sri).f32x4Mul().f32x4Add().f32x4Mul().f32x4Add().v128Store(L.accR - L.accM);
    c.localGet(acck).localGet(acck).v128Load(L.accD - L.accM).localGet(o).localGet(sd).localGet(t).localGet(sdi).f32x4Mul().f32x4Add().f32x4Mul().f32x4Add().v128Store(L.accD - L.accM);
  }
  c.localGet(wk).i32Const(16).i32Add().localSet(wk);
  c.localGet(acck).i32Const(16).i32Add().localSet(acck);
  c.br(0);
  c.end().end();
  // The look-ahead, W rows [e, e + TAPS), back to the group (and W cleared).
  for (let i = 0; i < TAPS; i++) {
    c.localGet(lag).localGet(wk).v128Load(16 * i).v128Store(16 * i);
    c.localGet(wk).f32x4Const(0, 0, 0, 0).v128Store(16 * i);
  }
  // Write back.
  c.localGet(gr).localGet(p01).v128Store(P01);
  c.localGet(gr).localGet(p23).v128Store(P23);
  // Denormal / NaN guard on the filter state: |x| > 1e-20 keeps x, anything else (NaN too) becomes 0.
  for (const st of [a, z]) c.localGet(st).localGet(st).f32x4Abs().f32x4Const(1e-20, 1e-20, 1e-20, 1e-20).f32x4Gt().v128And().localSet(st);
  c.localGet(gr).localGet(a).v128Store(IC1);
  c.localGet(gr).localGet(z).v128Store(IC2);
  c.localGet(gr).localGet(hi).localGet(lo).f32x4Neg().f32x4Pmax().v128Store(PEAK);
  return { code: c, locals };
}

/** `mix(s, e)`: sums the 4 lanes of acc rows [s, e) into the mono output(s) and clears the rows. */
function mixCode(L: Layout, sends: boolean): { code: Code; locals: number[] } {
  const s = 0, e = 1;
  const k = 2, v = 3;
  const c = new Code();
  const hsum = (acc: number, out: number) => {
    // out[k] = Σ lanes of acc[k]; acc[k] = 0.
    c.localGet(k).i32Const(2).i32Shl();
    c.localGet(k).i32Const(4).i32Shl().v128Load(acc).localSet(v);
    c.localGet(v).localGet(v).localGet(v).i32x4Shuffle(2, 3, 0, 1).f32x4Add().localSet(v);
    c.localGet(v).localGet(v).localGet(v).i32x4Shuffle(1, 0, 3, 2).f32x4Add().f32x4ExtractLane(0).f32Store(out);
    c.localGet(k).i32Const(4).i32Shl().f32x4Const(0, 0, 0, 0).v128Store(acc);
  };
  c.localGet(s).localSet(k);
  c.block().loop();
  c.localGet(k).localGet(e).i32GeS().brIf(1);
  hsum(L.accM, L.outM);
  if (sends) {
    hsum(L.accR, L.outR);
    hsum(L.accD, L.outD);
  }
  c.localGet(k).i32Const(1).i32Add().localSet(k);
  c.br(0);
  c.end().end();
  return { code: c, locals: [I32, V128] };
}

type Fn3 = (a: number, b: number, c: number) => void;
type Fn2 = (a: number, b: number) => void;

export class VoiceBank {
  readonly sampleRate: number;
  readonly maxBlock: number;
  /** Lanes (a multiple of 4 ≥ the voice count). */
  readonly lanes: number;
  readonly groupCount: number;
  /** Mono outputs of `mix`, valid for the frames mixed: the voices, their reverb and delay sends. */
  readonly outMain: Float32Array;
  readonly outReverb: Float32Array;
  readonly outDelay: Float32Array;
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
  /** Per lane: the cutoff and Q its coefficients were computed for. */
  private readonly cutoffOf: Float64Array;
  private readonly qOf: Float64Array;
  private readonly piOverFs: number;
  private readonly maxCutoff: number;
  /** Per lane: the f32 index of its group record plus the lane (add a field's byte offset / 4). */
  private readonly lane32: Int32Array;

  constructor(sampleRate: number, maxBlock: number, voices: number) {
    this.sampleRate = sampleRate;
    this.maxBlock = maxBlock;
    this.groupCount = Math.max(1, Math.ceil(voices / 4));
    this.lanes = this.groupCount * 4;
    const L = layout(this.groupCount, maxBlock);
    this.L = L;
    const m = new WasmModule().memory(L.pages);
    const add = (name: string, params: number[], built: { code: Code; locals: number[] }) =>
      m.func(name, params as never, [], built.locals as never, built.code);
    add('render', [I32, I32, I32], renderCode(L, false));
    add('renderSends', [I32, I32, I32], renderCode(L, true));
    add('mix', [I32, I32], mixCode(L, false));
    add('mixSends', [I32, I32], mixCode(L, true));
    const { exports, memory } = m.instantiate();
    const buffer = (memory as WasmMemory).buffer;
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.renderFn = exports.render as Fn3;
    this.renderSendsFn = exports.renderSends as Fn3;
    this.mixFn = exports.mix as Fn2;
    this.mixSendsFn = exports.mixSends as Fn2;
    this.outMain = new Float32Array(buffer, L.outM, maxBlock);
    this.outReverb = new Float32Array(buffer, L.outR, maxBlock);
    this.outDelay = new Float32Array(buffer, L.outD, maxBlock);
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
    for (let v = 0; v < this.lanes; v++) this.lane32[v] = (L.groups + (v >> 2) * GS) / 4 + (v & 3);
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
    return (this.L.groups + (v >> 2) * GS + off + ((v & 2) !== 0 ? 16 : 0)) / 8 + (v & 1);
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
    f32[i + SR / 4] = 0;
    f32[i + SRI / 4] = 0;
    f32[i + SD / 4] = 0;
    f32[i + SDI / 4] = 0;
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
   * Send levels of lane `v` and their change per frame: reverb, reverb step, delay, delay step in
   * `src[at … at + 3]`; used by `render(…, true)` only.
   */
  setSends(v: number, src: Float64Array, at: number): void {
    const f32 = this.f32;
    const i = this.lane32[v];
    f32[i + SR / 4] = src[at];
    f32[i + SRI / 4] = src[at + 1];
    f32[i + SD / 4] = src[at + 2];
    f32[i + SDI / 4] = src[at + 3];
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

  /** Sums every group's lanes over [start, end) into `outMain` (and, with sends, `outReverb`, `outDelay`). */
  mix(start: number, end: number, sends: boolean): void {
    if (sends) this.mixSendsFn(start, end);
    else this.mixFn(start, end);
  }
}
