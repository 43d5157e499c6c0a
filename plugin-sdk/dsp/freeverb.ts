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
 * | wet     | level of `addWet` (0 … 1; `process` writes at unity)      |
 *
 * The output is Freeverb's wet signal at width 1 (Jezar's `wet·scalewet` is the wet level): left
 * from the left bank, right from the right bank, no dry part.
 *
 * Usage (create): `const fv = new Freeverb(ctx.sampleRate, ctx.maxBlock)`; per span either
 * `fv.setRoom(r); fv.setDamp(d); fv.process(inL, inR, wetL, wetR, start, end)` (overwrites wet*), or
 * `fv.setWet(level); const silent = fv.load(inL, inR, start, end); fv.run(); fv.addWet(outL, outR)`
 * (adds wet × level) with `fv.wetL/wetR[0 … end − start)` holding the wet signal itself.
 *
 * | call          | does                                                                     |
 * | ------------- | ------------------------------------------------------------------------ |
 * | load          | copies the span's input into the kernel, says whether it is silent      |
 * | run           | reverberates it into wetL/wetR                                           |
 * | addWet        | adds wet × the wet level (ramping from the last span's) into the output |
 * | wetBelow      | whether the span's wet signal stayed under a level (tail finished?)     |
 * | render        | load + run                                                               |
 * | process       | render + copy the wet signal out                                         |
 *
 * Kernel: WebAssembly SIMD (built in the constructor with the SDK's assembler), float32, four frames
 * per step along time. Every delay line is a linear buffer in wasm memory written at one shared
 * frame index `w`, so each line's write and read (`w − delay`) are constant offsets from one pointer
 * (no masks, no wraps); when `w` reaches the end, every line's last `delay` samples move to the front
 * (`copyWithin`, once per ~8192 frames). A line of delay ≥ 4 reads, in a step of 4 frames, only
 * samples written by earlier steps, so the combs and allpasses vectorise along time. Per step and comb:
 *
 *     r = line[w−d … w−d+3]                          the comb's output, summed into the channel
 *     s' = one-pole of r, kept × feedback:            v = r·fb·damp2; v += d1·(v ≫ 1 lane);
 *                                                     v += d1²·(v ≫ 2 lanes); s' = v + (d1…d1⁴)·s'_prev[3]
 *     line[w … w+3] = x + s'
 *
 * then the four allpasses of the channel in series on the 4-frame sum (`o = line[w−d…]`,
 * `line[w…] = y + o/2`, `y = o − y`). Four combs per loop pass, so states and coefficients stay in
 * registers. Arrays of at most maxBlock frames enter wasm memory with one `set`, bus-sized ones
 * (maxBlock, as the kernel's buses are) also leave with one; longer arrays are copied span by span.
 * Compared with Jezar's float64 state this computes in float32 and sums the one-pole in another
 * order: the output differs by float32 rounding (test/dsp/freeverb.test.ts measures it).
 *
 * Cost: about 9 ns per stereo frame (load + run + addWet on 256-frame blocks; the JavaScript version
 * took 78). Memory ≈ 1 MB at 48 kHz (24 lines of history + 8192 frames of room each).
 * Thread: the constructor and `getState` allocate (create / between blocks); everything else is
 * allocation-free and safe in `process`. The per-span methods handle no doubles in JavaScript (the
 * parameters live in kernel memory, the kernel derives, ramps and tests everything), so they do not
 * box numbers even before V8 has optimised them.
 */
import { loadStereo, mixStereo } from './kernel-io.ts';
import { Code, F32, F64, I32, V128, WasmModule, type WasmMemory } from './wasm.ts';

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
/** Lines: combs 0..7 left, 8..15 right, then allpasses 16..19 left, 20..23 right. */
const LINES = 2 * (COMBS + ALLPASSES);
const AP0 = 2 * COMBS;
/** Frames a line holds beyond the longest delay before the histories move back to the front. */
const ROOM = 8192;
/** The shortest delay the 4-frame steps allow (only sample rates below ~800 Hz would ask for less). */
const MIN_DELAY = 4;
/** Input beyond this is a fault (NaN/Infinity from a broken source) and is replaced by silence. */
const LIMIT = 1e6;

export interface FreeverbState {
  v: 1;
  /** Comb histories, oldest sample at `combPos`. */
  combs: Float32Array[];
  combPos: number[];
  combStore: number[];
  allpasses: Float32Array[];
  allpassPos: number[];
  /** The wet level the last span ended on (the next ramps from it); absent before the first span. */
  wetNow?: number;
}

/** Slots of `Freeverb.params`. */
export const FREEVERB_ROOM = 0;
export const FREEVERB_DAMP = 1;
export const FREEVERB_WET = 2;

// Memory layout (bytes).
/** The parameters (f64): room, damp, wet level. */
const PARAMS = 0;
/** The room and damp the coefficients were derived for, the wet level of the last span (f64). */
const APPLIED = 24;
const WET_NOW = 40;
/** 1 until the first `mix`: the first span takes the wet level without a ramp (i32). */
const FRESH = 48;
/** fb · damp2: the comb output's gain into the (feedback-scaled) one-pole state. */
const K_GAIN = 64;
const K_D1 = 80;
const K_D1SQ = 96;
/** (d1, d1², d1³, d1⁴): how s'_prev reaches each of the next four frames. */
const K_POW = 112;
const K_FB = 128;
const K_HALF = 144;
const K_TINY = 160;
/** Input gain and fault limit (f32x4 each). */
const K_IN = 176;
const K_LIMIT = 192;
/** (1, 2, 3, 4): frame numbers of a step. */
const K_RAMP = 208;
/** i32x4 0x7fffffff: a sample's bits but the sign (non-zero unless the sample is ±0). */
const K_MAGNITUDE = 224;
/** The one-pole state of each comb (16 f32). */
const SPREV = 240;
/** One v128 of scratch: the last step's states, to pick the last valid frame's lane. */
const SLAST = 304;
const BUFFERS = 320;

interface Layout {
  /** Copies of the input and output buses (`cap` frames each). */
  inL: number;
  inR: number;
  outL: number;
  outR: number;
  /** The mono comb input of the span, frames [0, n). */
  x: number;
  /** The wet output of the span, frames [0, n). */
  wetL: number;
  wetR: number;
  /** Byte offset of line 0; lines are `stride` bytes apart. */
  lines: number;
  stride: number;
  pages: number;
}

/** Buffers of `cap` frames (+4: the last partial step reads and writes junk past the end). */
function layout(cap: number, history: number): Layout {
  const size = Math.ceil(((cap + 4) * 4) / 16) * 16;
  const at = (k: number) => BUFFERS + k * size;
  const lines = at(7);
  const stride = Math.ceil(((history + Math.max(ROOM, cap) + 4) * 4) / 16) * 16;
  return { inL: at(0), inR: at(1), outL: at(2), outR: at(3), x: at(4), wetL: at(5), wetR: at(6), lines, stride, pages: Math.ceil((lines + LINES * stride) / 65536) };
}

/**
 * `run(n, w, at)`: input frames [at, at+n) of the bus copies through the combs and allpasses into
 * the wet buffers [0, n), the lines written at frames w … w+n−1 (w ≥ `history`). First the mono
 * comb input X; then one loop pass per four combs (their states and the coefficients fit the 16
 * SIMD registers): a channel's first pass leaves the partial comb sum in its wet buffer, the second
 * adds to it and runs the allpasses. Steps of 4 frames: a last partial step computes junk frames
 * beyond n, which the next call overwrites before anything reads them.
 */
function runCode(L: Layout, delays: readonly number[], history: number): { code: Code; locals: number[] } {
  const n = 0, w = 1, at = 2;
  const p = 3, q = 4, qend = 5, lane = 6;
  const fb64 = 7, d164 = 8, tmp = 9;
  let next = 10;
  const v = () => next++;
  const gain = v(), d1 = v(), d1sq = v(), pow = v(), fb = v(), half = v(), tiny = v();
  const x = v(), r = v(), t = v(), sum = v(), o = v();
  const s = [v(), v(), v(), v()];
  const locals = [I32, I32, I32, I32, F64, F64, F64, ...Array(next - 10).fill(V128)];
  const readOff = (line: number) => L.lines + line * L.stride + 4 * (history - delays[line]);
  const writeOff = (line: number) => L.lines + line * L.stride + 4 * history;
  const c = new Code();
  const konst = (local: number, off: number) => c.i32Const(0).v128Load(off).localSet(local);
  deriveCoefficients(c, fb64, d164, tmp);
  // The lane of the last valid frame in the last step, (n − 1) & 3, as a byte offset; qend = 4n.
  c.localGet(n).i32Const(1).i32Sub().i32Const(3).i32And().i32Const(2).i32Shl().localSet(lane);
  c.localGet(n).i32Const(2).i32Shl().localSet(qend);

  // X = (inL + inR) · 0.015, anything not finite or beyond ±1e6 replaced by 0 (NaN fails the compare).
  konst(gain, K_IN);
  konst(tiny, K_LIMIT);
  c.localGet(at).i32Const(2).i32Shl().localSet(p);
  c.i32Const(0).localSet(q);
  c.block().loop();
  c.localGet(q).localGet(qend).i32GeS().brIf(1);
  c.localGet(q).localGet(p).v128Load(L.inL, 2).localGet(p).v128Load(L.inR, 2).f32x4Add().localGet(gain).f32x4Mul().localTee(t);
  c.localGet(t).f32x4Abs().localGet(tiny).f32x4Lt().v128And().v128Store(L.x);
  c.localGet(q).i32Const(16).i32Add().localSet(q);
  c.localGet(p).i32Const(16).i32Add().localSet(p);
  c.br(0);
  c.end().end();

  konst(gain, K_GAIN);
  konst(d1, K_D1);
  konst(d1sq, K_D1SQ);
  konst(pow, K_POW);
  konst(fb, K_FB);
  konst(half, K_HALF);
  konst(tiny, K_TINY);
  /** Comb `line` (state local `sk`) over the step; its output starts `sum`, continues the wet buffer's partial sum, or adds. */
  const comb = (line: number, sk: number, into: 'start' | 'wet' | 'add', wet: number) => {
    c.localGet(p).v128Load(readOff(line), 2).localTee(r);
    if (into === 'start') c.localSet(sum);
    else if (into === 'wet') c.localGet(q).v128Load(wet).f32x4Add().localSet(sum);
    else c.localGet(sum).f32x4Add().localSet(sum);
    c.localGet(r).localGet(gain).f32x4Mul().localTee(t);
    c.localGet(t).f32x4Const(0, 0, 0, 0).i32x4Shuffle(7, 0, 1, 2).localGet(d1).f32x4Mul().f32x4Add().localTee(t);
    c.localGet(t).f32x4Const(0, 0, 0, 0).i32x4Shuffle(6, 7, 0, 1).localGet(d1sq).f32x4Mul().f32x4Add();
    c.localGet(sk).localGet(sk).i32x4Shuffle(3, 3, 3, 3).localGet(pow).f32x4Mul().f32x4Add().localSet(sk);
    c.localGet(p).localGet(x).localGet(sk).f32x4Add().v128Store(writeOff(line), 2);
  };
  const allpass = (line: number) => {
    c.localGet(p).v128Load(readOff(line), 2).localSet(o);
    c.localGet(p).localGet(sum).localGet(o).localGet(half).f32x4Mul().f32x4Add().v128Store(writeOff(line), 2);
    c.localGet(o).localGet(sum).f32x4Sub().localSet(sum);
  };
  for (let ch = 0; ch < 2; ch++) {
    const wet = ch === 0 ? L.wetL : L.wetR;
    for (let first = 0; first < COMBS; first += s.length) {
      const comb0 = ch * COMBS + first;
      for (let k = 0; k < s.length; k++) c.i32Const(0).f32Load(SPREV + 4 * (comb0 + k)).f32x4Splat().localGet(fb).f32x4Mul().localSet(s[k]);
      // p = 4·(w − history): every line offset is relative to it; q = 4·frame.
      c.localGet(w).i32Const(history).i32Sub().i32Const(2).i32Shl().localSet(p);
      c.i32Const(0).localSet(q);
      c.block().loop();
      c.localGet(q).localGet(qend).i32GeS().brIf(1);
      c.localGet(q).v128Load(L.x).localSet(x);
      for (let k = 0; k < s.length; k++) comb(comb0 + k, s[k], k > 0 ? 'add' : first === 0 ? 'start' : 'wet', wet);
      if (first + s.length === COMBS) for (let a = 0; a < ALLPASSES; a++) allpass(AP0 + ch * ALLPASSES + a);
      c.localGet(q).localGet(sum).v128Store(wet);
      c.localGet(q).i32Const(16).i32Add().localSet(q);
      c.localGet(p).i32Const(16).i32Add().localSet(p);
      c.br(0);
      c.end().end();
      // Each comb keeps the state of frame n − 1 (÷ fb), flushed: |s| > 1e-20 keeps s, anything else (NaN too) is 0.
      for (let k = 0; k < s.length; k++) {
        c.i32Const(0).localGet(s[k]).localGet(fb).f32x4Div().localTee(t).localGet(t).f32x4Abs().localGet(tiny).f32x4Gt().v128And().v128Store(SLAST);
        c.i32Const(0).localGet(lane).f32Load(SLAST).f32Store(SPREV + 4 * (comb0 + k));
      }
    }
  }
  return { code: c, locals };
}

/** Pushes the f64 at byte `off` clamped to [0, 1], NaN → 0 (as `x > 0 ? (x < 1 ? x : 1) : 0`). */
function clamp01(c: Code, off: number, tmp: number): void {
  c.i32Const(0).f64Load(off).localTee(tmp);
  c.f64Const(1).localGet(tmp).f64Const(1).f64Lt().select();
  c.f64Const(0).f64Const(0).localGet(tmp).f64Lt().select();
}

/** Pushes 1 when the f64s at byte offsets `a` and `b` differ (NaN differs from everything), else 0. */
function differ(c: Code, a: number, b: number): void {
  c.i32Const(0).f64Load(a).i32Const(0).f64Load(b).f64Ge();
  c.i32Const(0).f64Load(b).i32Const(0).f64Load(a).f64Ge().i32And().i32Eqz();
}

/** When room or damp changed since the last call: the comb coefficients from them (as float32 vectors). */
function deriveCoefficients(c: Code, fb: number, d1: number, tmp: number): void {
  differ(c, PARAMS, APPLIED);
  differ(c, PARAMS + 8, APPLIED + 8);
  c.i32Or().if();
  clamp01(c, PARAMS, tmp);
  c.f64Const(FREEVERB_SCALE_ROOM).f64Mul().f64Const(FREEVERB_OFFSET_ROOM).f64Add().localSet(fb);
  clamp01(c, PARAMS + 8, tmp);
  c.f64Const(FREEVERB_SCALE_DAMP).f64Mul().localSet(d1);
  const splat = (off: number) => c.f32DemoteF64().f32x4Splat().v128Store(off);
  c.i32Const(0).localGet(fb);
  splat(K_FB);
  c.i32Const(0).localGet(fb).f64Const(1).localGet(d1).f64Sub().f64Mul();
  splat(K_GAIN);
  c.i32Const(0).localGet(d1);
  splat(K_D1);
  c.i32Const(0).localGet(d1).localGet(d1).f64Mul();
  splat(K_D1SQ);
  // (d1, d1², d1³, d1⁴), each power from the one before.
  c.i32Const(0).localGet(d1).localTee(tmp).f32DemoteF64().f32x4Splat();
  for (let lane = 1; lane < 4; lane++) c.localGet(tmp).localGet(d1).f64Mul().localTee(tmp).f32DemoteF64().f32x4ReplaceLane(lane);
  c.v128Store(K_POW);
  c.i32Const(0).i32Const(0).f64Load(PARAMS).f64Store(APPLIED);
  c.i32Const(0).i32Const(0).f64Load(PARAMS + 8).f64Store(APPLIED + 8);
  c.end();
}

/**
 * A loop over frames [0, n) four at a time: `body(q, m, k)` with q = 4·frame (bytes), m the mask of
 * the lanes before frame n and k the lanes' frame numbers + 1 (f32x4). Uses locals first … first+5: q, qend (i32), k, four, nv, m (v128).
 */
function frameLoop(c: Code, n: number, first: number, body: (q: number, m: number, k: number) => void): void {
  const q = first, qend = first + 1, k = first + 2, four = first + 3, nv = first + 4, m = first + 5;
  c.i32Const(0).v128Load(K_RAMP).localSet(k);
  c.f32Const(4).f32x4Splat().localSet(four);
  c.localGet(n).f32ConvertI32S().f32x4Splat().localSet(nv);
  c.localGet(n).i32Const(2).i32Shl().localSet(qend);
  c.block().loop();
  c.localGet(q).localGet(qend).i32GeS().brIf(1);
  c.localGet(nv).localGet(k).f32x4Ge().localSet(m);
  body(q, m, k);
  c.localGet(k).localGet(four).f32x4Add().localSet(k);
  c.localGet(q).i32Const(16).i32Add().localSet(q);
  c.br(0);
  c.end().end();
}
const FRAME_LOOP_LOCALS = [I32, I32, V128, V128, V128, V128];

/**
 * `mix(n, at)`: out copies [at, at+n) += wet [0, n) × the wet level, ramping linearly from the last
 * span's level to the parameter (clamped to 0..1; the first span jumps).
 */
function mixCode(L: Layout): { code: Code; locals: number[] } {
  const n = 0, at = 1;
  const level = 2, g0 = 3, tmp = 4, g0v = 5, dgv = 6, g = 7, a = 8;
  const c = new Code();
  clamp01(c, PARAMS + 16, tmp);
  c.localSet(level);
  c.i32Const(0).i32Load(FRESH).if();
  c.i32Const(0).localGet(level).f64Store(WET_NOW);
  c.i32Const(0).i32Const(0).i32Store(FRESH);
  c.end();
  c.i32Const(0).f64Load(WET_NOW).localTee(g0).f32DemoteF64().f32x4Splat().localSet(g0v);
  c.localGet(level).localGet(g0).f64Sub().localGet(n).f64ConvertI32S().f64Div().f32DemoteF64().f32x4Splat().localSet(dgv);
  c.i32Const(0).localGet(level).f64Store(WET_NOW);
  c.localGet(at).i32Const(2).i32Shl().localSet(a);
  frameLoop(c, n, 9, (q, m, k) => {
    c.localGet(g0v).localGet(dgv).localGet(k).f32x4Mul().f32x4Add().localSet(g);
    for (const [wet, out] of [[L.wetL, L.outL], [L.wetR, L.outR]]) {
      c.localGet(q).localGet(a).i32Add();
      c.localGet(q).localGet(a).i32Add().v128Load(out, 2).localGet(q).v128Load(wet).localGet(g).f32x4Mul().localGet(m).v128And().f32x4Add().v128Store(out, 2);
    }
  });
  return { code: c, locals: [F64, F64, F64, V128, V128, V128, I32, ...FRAME_LOOP_LOCALS] };
}

/** `silent(n, at)`: 1 when input copies [at, at+n) are all ±0, else 0. */
function silentCode(L: Layout): { code: Code; locals: number[] } {
  const n = 0, at = 1;
  const a = 2, acc = 3;
  const c = new Code();
  c.localGet(at).i32Const(2).i32Shl().localSet(a);
  frameLoop(c, n, 4, (q, m) => {
    c.localGet(q).localGet(a).i32Add().v128Load(L.inL, 2).localGet(q).localGet(a).i32Add().v128Load(L.inR, 2).v128Or();
    c.i32Const(0).v128Load(K_MAGNITUDE).v128And().localGet(m).v128And().localGet(acc).v128Or().localSet(acc);
  });
  c.localGet(acc).v128AnyTrue().i32Eqz();
  return { code: c, locals: [I32, V128, ...FRAME_LOOP_LOCALS] };
}

/** `below(n, level)`: 1 when every wet sample of frames [0, n) is under `level` in magnitude, else 0. */
function belowCode(L: Layout): { code: Code; locals: number[] } {
  const n = 0, level = 1;
  const pk = 2;
  const c = new Code();
  frameLoop(c, n, 3, (q, m) => {
    for (const wet of [L.wetL, L.wetR]) c.localGet(pk).localGet(q).v128Load(wet).f32x4Abs().localGet(m).v128And().f32x4Pmax().localSet(pk);
  });
  c.localGet(pk).localGet(level).f32x4Splat().f32x4Lt().i32x4Bitmask().i32Const(15).i32Eq();
  return { code: c, locals: [V128, ...FRAME_LOOP_LOCALS] };
}

type Run = (n: number, w: number, at: number) => void;
type Mix = (n: number, at: number) => void;
type Silent = (n: number, at: number) => number;
type Below = (n: number, level: number) => number;

export class Freeverb {
  readonly sampleRate: number;
  /** The longest comb (samples): a tail has fully left the combs after this long without input. */
  readonly longestComb: number;
  /**
   * [room, damp, wet] (slots FREEVERB_ROOM, _DAMP, _WET), read by the next `run` / `addWet`: set
   * them with setRoom/setDamp/setWet, or write them directly (a kernel parameter's `fill` stores a
   * double without boxing it).
   */
  readonly params: Float64Array;
  /** The wet output of the last `run`, frames [0, end − start). */
  readonly wetL: Float32Array;
  readonly wetR: Float32Array;
  private readonly runFn: Run;
  private readonly mixFn: Mix;
  private readonly silentFn: Silent;
  private readonly belowFn: Below;
  private readonly mem: Float32Array;
  /** Kernel memory: 1 until the first span (FRESH), and the wet level the last span ended on (WET_NOW). */
  private readonly fresh: Int32Array;
  private readonly wetNow: Float64Array;
  /** The kernel's copies of the buses (`maxBlock` frames). */
  private readonly inL: Float32Array;
  private readonly inR: Float32Array;
  private readonly outL: Float32Array;
  private readonly outR: Float32Array;
  /** Delay of each line (samples). */
  private readonly delays: Int32Array;
  /** f32 index of each line's start. */
  private readonly lineAt: Int32Array;
  /** The longest delay: `w` never goes below it. */
  private readonly history: number;
  /** The largest `w` a run may end at. */
  private readonly wLimit: number;
  /** The frame index the next run writes at. */
  private w = 0;
  /** The loaded span: its length, where it starts in the caller's arrays and in the kernel's copies. */
  private n = 0;
  private start = 0;
  private at = 0;

  constructor(sampleRate: number, maxBlock: number) {
    this.sampleRate = sampleRate;
    const scale = sampleRate / FREEVERB_TUNING_RATE;
    const delays = new Int32Array(LINES);
    const tune = (t: number) => Math.max(MIN_DELAY, Math.round(t * scale));
    for (let ch = 0; ch < 2; ch++) {
      const spread = ch === 0 ? 0 : FREEVERB_STEREO_SPREAD;
      for (let k = 0; k < COMBS; k++) delays[ch * COMBS + k] = tune(FREEVERB_COMB_TUNING[k] + spread);
      for (let a = 0; a < ALLPASSES; a++) delays[AP0 + ch * ALLPASSES + a] = tune(FREEVERB_ALLPASS_TUNING[a] + spread);
    }
    this.delays = delays;
    let longestComb = 0;
    let history = 0;
    for (let i = 0; i < LINES; i++) {
      if (i < AP0 && delays[i] > longestComb) longestComb = delays[i];
      if (delays[i] > history) history = delays[i];
    }
    this.longestComb = longestComb;
    this.history = history;
    const L = layout(maxBlock, history);
    this.wLimit = history + Math.max(ROOM, maxBlock);
    const m = new WasmModule().memory(L.pages);
    const add = (name: string, params: number[], built: { code: Code; locals: number[] }, results: number[] = []) =>
      m.func(name, params as never, results as never, built.locals as never, built.code);
    add('run', [I32, I32, I32], runCode(L, Array.from(delays), history));
    add('mix', [I32, I32], mixCode(L));
    add('silent', [I32, I32], silentCode(L), [I32]);
    add('below', [I32, F32], belowCode(L), [I32]);
    const { exports, memory } = m.instantiate();
    const buffer = (memory as WasmMemory).buffer;
    this.runFn = exports.run as Run;
    this.mixFn = exports.mix as Mix;
    this.silentFn = exports.silent as Silent;
    this.belowFn = exports.below as Below;
    this.mem = new Float32Array(buffer);
    this.params = new Float64Array(buffer, PARAMS, 3);
    this.inL = new Float32Array(buffer, L.inL, maxBlock);
    this.inR = new Float32Array(buffer, L.inR, maxBlock);
    this.outL = new Float32Array(buffer, L.outL, maxBlock);
    this.outR = new Float32Array(buffer, L.outR, maxBlock);
    this.wetL = new Float32Array(buffer, L.wetL, maxBlock);
    this.wetR = new Float32Array(buffer, L.wetR, maxBlock);
    this.lineAt = new Int32Array(LINES);
    for (let i = 0; i < LINES; i++) this.lineAt[i] = (L.lines + i * L.stride) / 4;
    this.w = history;
    const mem = this.mem;
    const i32 = new Int32Array(buffer);
    for (let i = 0; i < 4; i++) {
      mem[K_HALF / 4 + i] = FREEVERB_ALLPASS_FEEDBACK;
      mem[K_TINY / 4 + i] = 1e-20;
      mem[K_IN / 4 + i] = FREEVERB_FIXED_GAIN;
      mem[K_LIMIT / 4 + i] = LIMIT;
      mem[K_RAMP / 4 + i] = i + 1;
      i32[K_MAGNITUDE / 4 + i] = 0x7fffffff;
    }
    i32[FRESH / 4] = 1;
    this.fresh = new Int32Array(buffer, FRESH, 1);
    this.wetNow = new Float64Array(buffer, WET_NOW, 1);
    const applied = new Float64Array(buffer, APPLIED, 2);
    applied.fill(-1);
    this.params[FREEVERB_ROOM] = 0.5;
    this.params[FREEVERB_DAMP] = 0.5;
    this.params[FREEVERB_WET] = 1;
  }

  /** Room size 0..1 (clamped): comb feedback 0.7 … 0.98. Takes effect at the next run. */
  setRoom(room: number): void {
    this.params[FREEVERB_ROOM] = room;
  }

  /** Damping 0..1 (clamped): high frequencies die faster as it rises. Takes effect at the next run. */
  setDamp(damp: number): void {
    this.params[FREEVERB_DAMP] = damp;
  }

  /** Wet level 0..1 (clamped) for `addWet`, reached at the end of the next span (the first span jumps to it). */
  setWet(level: number): void {
    this.params[FREEVERB_WET] = level;
  }

  /**
   * Reverberates `inL/inR[start..end)` and WRITES the wet stereo signal (at unity level) to
   * `outL/outR[start..end)`. `end − start` ≤ maxBlock. Allocation-free.
   */
  process(inL: Float32Array, inR: Float32Array, outL: Float32Array | Float64Array, outR: Float32Array | Float64Array, start: number, end: number): void {
    this.render(inL, inR, start, end);
    const wl = this.wetL;
    const wr = this.wetR;
    for (let i = 0; i < this.n; i++) {
      outL[start + i] = wl[i];
      outR[start + i] = wr[i];
    }
  }

  /** `load` then `run`: the wet signal of `inL/inR[start..end)` in `wetL/wetR[0 … end − start)`. */
  render(inL: Float32Array, inR: Float32Array, start: number, end: number): void {
    this.load(inL, inR, start, end);
    this.run();
  }

  /**
   * Takes `inL/inR[start..end)` as the span to process (`end − start` ≤ maxBlock; a longer span is
   * cut to maxBlock frames rather than overrunning the kernel's buffers). True when it is silent
   * (every sample ±0).
   */
  load(inL: Float32Array, inR: Float32Array, start: number, end: number): boolean {
    const cap = this.inL.length;
    const n = end - start < cap ? end - start : cap;
    this.n = n > 0 ? n : 0;
    this.start = start;
    if (n <= 0) return true;
    this.at = loadStereo(inL, inR, start, n, this.inL, this.inR);
    return this.silentFn(n, this.at) !== 0;
  }

  /** Reverberates the loaded span into `wetL/wetR[0, n)`. */
  run(): void {
    const n = this.n;
    if (n <= 0) return;
    if (this.w + n > this.wLimit) this.rewind();
    this.runFn(n, this.w, this.at);
    this.w += n;
  }

  /** ADDS the run's wet signal × the wet level (ramping, see `setWet`) into `outL/outR` over the loaded span. */
  addWet(outL: Float32Array, outR: Float32Array): void {
    if (this.n > 0) mixStereo(outL, outR, this.start, this.n, this.outL, this.outR, this.mixFn);
  }

  /** True when every sample of the run's wet signal is under `level` in magnitude. */
  wetBelow(level: number): boolean {
    return this.belowFn(this.n, level) !== 0;
  }

  /** Silences the tail. */
  clear(): void {
    const mem = this.mem;
    for (let i = 0; i < LINES; i++) {
      const at = this.lineAt[i] + this.w;
      mem.fill(0, at - this.delays[i], at);
    }
    mem.fill(0, SPREV / 4, SPREV / 4 + 2 * COMBS);
  }

  /** Copies of every history and filter state (between blocks; allocates about 100 KB at 48 kHz). */
  getState(): FreeverbState {
    const combs: Float32Array[] = [];
    const allpasses: Float32Array[] = [];
    for (let i = 0; i < LINES; i++) {
      const at = this.lineAt[i] + this.w;
      (i < AP0 ? combs : allpasses).push(this.mem.slice(at - this.delays[i], at));
    }
    return {
      v: 1,
      combs,
      combPos: new Array<number>(2 * COMBS).fill(0),
      combStore: Array.from(this.mem.subarray(SPREV / 4, SPREV / 4 + 2 * COMBS)),
      allpasses,
      allpassPos: new Array<number>(2 * ALLPASSES).fill(0),
      ...(this.fresh[0] === 0 ? { wetNow: this.wetNow[0] } : {}),
    };
  }

  /**
   * Restores `getState()` output (also that of the JavaScript Freeverb, whose rings start anywhere:
   * `pos` marks the oldest sample). Histories of another length (another sample rate) are copied as
   * far as they fit; missing or malformed parts leave the current contents.
   */
  setState(state: unknown): void {
    const s = state as Partial<FreeverbState> | null;
    if (s === null || typeof s !== 'object') return;
    this.restoreLines(s.combs, s.combPos, 0, 2 * COMBS);
    this.restoreLines(s.allpasses, s.allpassPos, AP0, 2 * ALLPASSES);
    const store = s.combStore as unknown;
    if (Array.isArray(store) && store.length === 2 * COMBS) {
      for (let i = 0; i < store.length; i++) {
        const v = store[i];
        this.mem[SPREV / 4 + i] = typeof v === 'number' && Number.isFinite(v) ? v : 0;
      }
    }
    if (typeof s.wetNow === 'number' && s.wetNow >= 0 && s.wetNow <= 1) {
      this.wetNow[0] = s.wetNow;
      this.fresh[0] = 0;
    }
  }

  /** Ring `k` of `buffers` (oldest sample at `positions[k]`) into line `first + k`, as the JS Freeverb restored its rings. */
  private restoreLines(buffers: unknown, positions: unknown, first: number, count: number): void {
    if (!Array.isArray(buffers) || buffers.length !== count) return;
    for (let k = 0; k < count; k++) {
      const src = buffers[k] as unknown;
      if (!(src instanceof Float32Array || src instanceof Float64Array || Array.isArray(src))) continue;
      const a = src as ArrayLike<number>;
      const d = this.delays[first + k];
      const fit = a.length < d ? a.length : d;
      const p = Array.isArray(positions) ? positions[k] : 0;
      const pos = typeof p === 'number' && Number.isInteger(p) && p >= 0 && p < d ? p : 0;
      // Ring slot (pos + j) mod d holds the sample written d − j frames ago: line frame w − d + j.
      const at = this.lineAt[first + k] + this.w - d;
      for (let j = 0; j < d; j++) {
        const slot = (pos + j) % d;
        const v = slot < fit ? Number(a[slot]) : 0;
        this.mem[at + j] = Number.isFinite(v) ? v : 0;
      }
    }
  }

  /** `w` would pass the end of the lines: move each line's history to the front. */
  private rewind(): void {
    const mem = this.mem;
    const h = this.history;
    for (let i = 0; i < LINES; i++) {
      const d = this.delays[i];
      const at = this.lineAt[i];
      mem.copyWithin(at + h - d, at + this.w - d, at + this.w);
    }
    this.w = h;
  }
}

