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
 *     phase += inc (f64x2 × 2); on a wrap (any lane): phase −= 1 and, for each wrapped lane, the
 *       24-tap BLEP residual (interpolated between 64 phases, 6 × f32x4) is added into that lane
 *     W[k + 12] += 2·phase − 1        W: the group's pending-output rows, 4 lanes per row, indexed by
 *     x = W[k]                          the sample in the block (+24 rows of look-ahead, moved to the
 *                                       front at the next block: `shift`)
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
 * Thread: the constructor allocates (create); every other method is allocation-free.
 */
import { blepTable, BLEP_LATENCY, BLEP_PHASES, BLEP_TAPS, Code, F32, F64, I32, svfGains, V128, WasmModule, type Oscillator, type Svf, type WasmMemory } from 'plugin-sdk';

const Z = BLEP_LATENCY;
const TAPS = BLEP_TAPS;
const PHASES = BLEP_PHASES;
/** Bytes per group record. */
const GS = 336;
// Group record offsets (bytes).
const P01 = 0;
const P23 = 16;
const INC01 = 32;
const INC23 = 48;
const IC1 = 64;
const IC2 = 80;
const M11 = 96;
const M12 = 112;
const M22 = 128;
const B1 = 144;
const B2 = 160;
const C1 = 176;
const C2 = 192;
const D = 208;
const GAIN = 224;
const GINC = 240;
const PEAK = 256;
const SR = 272;
const SRI = 288;
const SD = 304;
const SDI = 320;

interface Layout {
  /** Constants the kernel loads into locals (a v128.const would be rebuilt at every use). */
  consts: number;
  res: number;
  slo: number;
  groups: number;
  w: number;
  /** Bytes per group of W rows. */
  ws: number;
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
  const res = 64;
  const slo = res + table;
  const g = slo + table;
  const w = g + groups * GS;
  const ws = (maxBlock + TAPS) * 16;
  const accM = w + groups * ws;
  const accR = accM + maxBlock * 16;
  const accD = accR + maxBlock * 16;
  const outM = accD + maxBlock * 16;
  const outR = outM + maxBlock * 4;
  const outD = outR + maxBlock * 4;
  const bytes = outD + maxBlock * 4;
  return { consts, res, slo, groups: g, w, ws, accM, accR, accD, outM, outR, outD, pages: Math.ceil(bytes / 65536) };
}

/** Constant slots (16 bytes each) at `consts`: f32x4 1, f32x4 −2, f64x2 1. */
const K_ONE = 0;
const K_MINUS_TWO = 16;
const K_ONE64 = 32;

/** `render(g, s, e)`: one group over block frames [s, e). `sends`: also the per-lane send accumulators. */
function renderCode(L: Layout, sends: boolean): { code: Code; locals: number[] } {
  // Locals: params 0 g, 1 s, 2 e, then i32, v128, f64, f32 locals in that order.
  const g = 0, s = 1, e = 2;
  const gr = 3, wk = 4, wend = 5, acck = 6, ph = 7, rowp = 8;
  let next = 9;
  const v = () => next++;
  const p01 = v(), p23 = v(), inc01 = v(), inc23 = v(), a = v(), z = v();
  const m11 = v(), m12 = v(), m22 = v(), b1 = v(), b2 = v(), c1 = v(), c2 = v(), d = v();
  const gain = v(), ginc = v(), hi = v(), lo = v(), x = v(), y = v(), n1 = v(), o = v(), mk01 = v(), mk23 = v(), pf = v();
  const sr = v(), sri = v(), sd = v(), sdi = v(), t = v(), nk = v();
  // Constants, loaded from memory into locals: a v128.const would be rebuilt at every use in the loop.
  const one64 = v(), one32 = v(), m2 = v();
  const vectors = next - 9;
  const xf = next++, fr = next++, af = next++;
  const locals = [I32, I32, I32, I32, I32, I32, ...Array(vectors).fill(V128), F64, F64, F32];
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
  load(m12, M12);
  load(m22, M22);
  load(b1, B1);
  load(b2, B2);
  load(c1, C1);
  load(c2, C2);
  load(d, D);
  load(gain, GAIN);
  load(ginc, GINC);
  c.f32x4Const(0, 0, 0, 0).localTee(hi).localTee(lo).localSet(nk);
  c.i32Const(0).v128Load(L.consts + K_ONE64).localSet(one64);
  c.i32Const(0).v128Load(L.consts + K_ONE).localSet(one32);
  c.i32Const(0).v128Load(L.consts + K_MINUS_TWO).localSet(m2);
  if (sends) {
    load(sr, SR);
    load(sri, SRI);
    load(sd, SD);
    load(sdi, SDI);
  }
  // wk = w + g·ws + 16·s; wend = … + 16·e; acck = accM + 16·s.
  c.localGet(g).i32Const(L.ws).i32Mul().i32Const(L.w).i32Add().localTee(wend).localGet(s).i32Const(4).i32Shl().i32Add().localSet(wk);
  c.localGet(wend).localGet(e).i32Const(4).i32Shl().i32Add().localSet(wend);
  c.localGet(s).i32Const(4).i32Shl().i32Const(L.accM).i32Add().localSet(acck);

  c.block().loop();
  c.localGet(wk).localGet(wend).i32GeS().brIf(1);
  // Phase (float64, exact like Oscillator's): lanes reaching 1 wrap and get the BLEP residual of a step of −2.
  c.localGet(p01).localGet(inc01).f64x2Add().localTee(p01).localGet(one64).f64x2Ge().localSet(mk01);
  c.localGet(p23).localGet(inc23).f64x2Add().localTee(p23).localGet(one64).f64x2Ge().localSet(mk23);
  c.localGet(mk01).localGet(mk23).v128Or().v128AnyTrue().if();
  {
    c.localGet(p01).localGet(mk01).localGet(one64).v128And().f64x2Sub().localSet(p01);
    c.localGet(p23).localGet(mk23).localGet(one64).v128And().f64x2Sub().localSet(p23);
    c.localGet(mk01).i64x2Bitmask().localGet(mk23).i64x2Bitmask().i32Const(2).i32Shl().i32Or().localSet(ph);
    for (let lane = 0; lane < 4; lane++) {
      const pair = lane < 2 ? p01 : p23;
      const inc = lane < 2 ? inc01 : inc23;
      const idx = lane & 1;
      c.localGet(ph).i32Const(1 << lane).i32And().if();
      // frac = phase / inc ∈ [0, 1) (samples since the step), x = frac · PHASES, row ⌊x⌋, a = x − ⌊x⌋.
      c.localGet(pair).f64x2ExtractLane(idx).localGet(inc).f64x2ExtractLane(idx).f64Div().f64Const(PHASES).f64Mul().localTee(xf);
      c.i32TruncF64S().localTee(rowp).i32Const(PHASES - 1).localGet(rowp).i32Const(PHASES - 1).i32LeS().select().localSet(rowp);
      c.localGet(xf).localGet(rowp).f64ConvertI32S().f64Sub().localSet(fr);
      c.localGet(fr).f32DemoteF64().localSet(af);
      c.localGet(rowp).i32Const(TAPS * 4).i32Mul().localSet(rowp);
      for (let q = 0; q < TAPS / 4; q++) {
        // t = −2 · (res + a · slope) for taps 4q … 4q+3.
        c.localGet(rowp).v128Load(L.res + 16 * q, 2);
        c.localGet(af).f32x4Splat().localGet(rowp).v128Load(L.slo + 16 * q, 2).f32x4Mul().f32x4Add();
        c.localGet(m2).f32x4Mul().localSet(t);
        for (let i = 0; i < 4; i++) {
          // Row k+4q+i += tap i in this lane, 0 in the others (whole-row access: no partial stores
          // for the next row load to trip over).
          const off = 16 * (4 * q + i);
          const pick = [4, 4, 4, 4];
          pick[lane] = i;
          c.localGet(wk).localGet(wk).v128Load(off).localGet(t).f32x4Const(0, 0, 0, 0).i32x4Shuffle(pick[0], pick[1], pick[2], pick[3]).f32x4Add().v128Store(off);
        }
      }
      c.end();
    }
  }
  c.end();
  // W[k + Z] += 2·phase − 1 (the naive saw; the phase rounded to float32 first).
  c.localGet(p01).f32x4DemoteF64x2Zero().localGet(p23).f32x4DemoteF64x2Zero().i32x4Shuffle(0, 1, 4, 5).localSet(pf);
  c.localGet(wk).localGet(wk).v128Load(16 * Z).localGet(pf).localGet(pf).f32x4Add().localGet(one32).f32x4Sub().f32x4Add().v128Store(16 * Z);
  // Filter.
  c.localGet(wk).v128Load().localSet(x);
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

/** `shift(g, frames)`: rows [frames, frames + TAPS) to [0, TAPS), rows [TAPS, frames + TAPS) cleared. */
function shiftCode(L: Layout): { code: Code; locals: number[] } {
  const g = 0, frames = 1;
  const base = 2, r = 3, stop = 4;
  const c = new Code();
  c.localGet(g).i32Const(L.ws).i32Mul().i32Const(L.w).i32Add().localSet(base);
  for (let i = 0; i < TAPS; i++) {
    c.localGet(base).localGet(base).localGet(frames).i32Const(4).i32Shl().i32Add().v128Load(16 * i).v128Store(16 * i);
  }
  c.localGet(base).i32Const(16 * TAPS).i32Add().localSet(r);
  c.localGet(base).localGet(frames).i32Const(TAPS).i32Add().i32Const(4).i32Shl().i32Add().localSet(stop);
  c.block().loop();
  c.localGet(r).localGet(stop).i32GeS().brIf(1);
  c.localGet(r).f32x4Const(0, 0, 0, 0).v128Store();
  c.localGet(r).i32Const(16).i32Add().localSet(r);
  c.br(0);
  c.end().end();
  return { code: c, locals: [I32, I32, I32] };
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
  private readonly f32: Float32Array;
  private readonly f64: Float64Array;
  private readonly L: Layout;
  private readonly renderFn: Fn3;
  private readonly renderSendsFn: Fn3;
  private readonly mixFn: Fn2;
  private readonly mixSendsFn: Fn2;
  private readonly shiftFn: Fn2;
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
    add('shift', [I32, I32], shiftCode(L));
    const { exports, memory } = m.instantiate();
    const buffer = (memory as WasmMemory).buffer;
    this.f32 = new Float32Array(buffer);
    this.f64 = new Float64Array(buffer);
    this.renderFn = exports.render as Fn3;
    this.renderSendsFn = exports.renderSends as Fn3;
    this.mixFn = exports.mix as Fn2;
    this.mixSendsFn = exports.mixSends as Fn2;
    this.shiftFn = exports.shift as Fn2;
    this.outMain = new Float32Array(buffer, L.outM, maxBlock);
    this.outReverb = new Float32Array(buffer, L.outR, maxBlock);
    this.outDelay = new Float32Array(buffer, L.outD, maxBlock);
    for (let i = 0; i < 4; i++) {
      this.f32[(L.consts + K_ONE) / 4 + i] = 1;
      this.f32[(L.consts + K_MINUS_TWO) / 4 + i] = -2;
    }
    this.f64[(L.consts + K_ONE64) / 8] = 1;
    this.f64[(L.consts + K_ONE64) / 8 + 1] = 1;
    const table = blepTable();
    for (let i = 0; i < PHASES * TAPS; i++) {
      this.f32[L.res / 4 + i] = table.residual[i];
      this.f32[L.slo / 4 + i] = table.slope[i];
    }
    this.lane32 = new Int32Array(this.lanes);
    for (let v = 0; v < this.lanes; v++) this.lane32[v] = (L.groups + (v >> 2) * GS) / 4 + (v & 3);
    this.cutoffOf = new Float64Array(this.lanes).fill(-1);
    this.qOf = new Float64Array(this.lanes).fill(-1);
    this.piOverFs = Math.PI / sampleRate;
    this.maxCutoff = 0.49 * sampleRate;
    for (let v = 0; v < this.lanes; v++) {
      this.setFilter(v, 1000, Math.SQRT1_2);
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

  /** f32 index of lane `v` in W row `row`. */
  private wi(v: number, row: number): number {
    return (this.L.w + (v >> 2) * this.L.ws + row * 16) / 4 + (v & 3);
  }

  /** Lane `v` makes nothing from now on (phase frozen, gain and sends 0). */
  silence(v: number): void {
    this.f64[this.di(v, INC01)] = 0;
    this.setGain(v, 0, 0);
    this.setSends(v, 0, 0, 0, 0);
  }

  /** Takes over voice `v` at block frame `at`: its oscillator (saw) and filter continue here. */
  acquire(v: number, osc: Oscillator, filter: Svf, freqHz: number, at: number): void {
    const f32 = this.f32;
    this.f64[this.di(v, P01)] = osc.phase;
    this.setFrequency(v, freqHz);
    osc.readPending(f32, this.wi(v, at), 4);
    const stop = this.wi(v, this.maxBlock + TAPS);
    for (let i = this.wi(v, at + TAPS); i < stop; i += 4) f32[i] = 0;
    f32[this.fi(v, IC1)] = filter.ic1;
    f32[this.fi(v, IC2)] = filter.ic2;
  }

  /** Hands voice `v` back at block frame `at` (oscillator, BLEP line, filter state) and silences its lane. */
  release(v: number, osc: Oscillator, filter: Svf, freqHz: number, at: number): void {
    const f32 = this.f32;
    osc.phase = this.f64[this.di(v, P01)];
    osc.writePending(f32, this.wi(v, at), 4, freqHz);
    const ic1 = f32[this.fi(v, IC1)];
    const ic2 = f32[this.fi(v, IC2)];
    filter.ic1 = ic1 === ic1 ? ic1 : 0;
    filter.ic2 = ic2 === ic2 ? ic2 : 0;
    this.silence(v);
  }

  /** The oscillator frequency of lane `v` (Hz; the caller clamps it as VoiceDsp does). */
  setFrequency(v: number, freqHz: number): void {
    let inc = freqHz / this.sampleRate;
    if (!(inc > 0)) inc = 0;
    else if (inc > 0.45) inc = 0.45;
    this.f64[this.di(v, INC01)] = inc;
  }

  /** Lowpass cutoff (Hz) and linear Q of lane `v`, as Svf.setParams; skipped when unchanged. */
  setFilter(v: number, cutoffHz: number, q: number): void {
    if (cutoffHz === this.cutoffOf[v] && q === this.qOf[v]) return;
    this.cutoffOf[v] = cutoffHz;
    this.qOf[v] = q;
    const gains = this.gains;
    svfGains(gains, cutoffHz, q, this.piOverFs, this.maxCutoff);
    const a1 = gains[0];
    const a2 = gains[1];
    const a3 = gains[2];
    const f32 = this.f32;
    f32[this.fi(v, M11)] = 2 * a1 - 1;
    f32[this.fi(v, M12)] = -2 * a2;
    f32[this.fi(v, M22)] = 1 - 2 * a3;
    f32[this.fi(v, B1)] = 2 * a2;
    f32[this.fi(v, B2)] = 2 * a3;
    f32[this.fi(v, C1)] = a2;
    f32[this.fi(v, C2)] = 1 - a3;
    f32[this.fi(v, D)] = a3;
  }

  /** Gain of lane `v` at the next frame rendered, and its change per frame. */
  setGain(v: number, gain: number, step: number): void {
    const i = this.lane32[v];
    this.f32[i + GAIN / 4] = gain;
    this.f32[i + GINC / 4] = step;
  }

  /** Send levels (and their change per frame) of lane `v`; used by `render(…, true)` only. */
  setSends(v: number, reverb: number, reverbStep: number, delay: number, delayStep: number): void {
    const f32 = this.f32;
    f32[this.fi(v, SR)] = reverb;
    f32[this.fi(v, SRI)] = reverbStep;
    f32[this.fi(v, SD)] = delay;
    f32[this.fi(v, SDI)] = delayStep;
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

  /** At a block start: moves group `g`'s look-ahead after the last block (`frames` long) to the front. */
  shift(g: number, frames: number): void {
    this.shiftFn(g, frames);
  }
}
