/**
 * delay1's WebAssembly kernel (see dsp.ts for the DSP it computes): the memory layout, the code of
 * its functions, built with plugin-sdk's assembler, and `delayKernel`, which assembles and
 * instantiates them. Every function works on one span of frames:
 *
 * | function             | does                                                                |
 * | -------------------- | ------------------------------------------------------------------- |
 * | silent(n, at)        | 1 when the input bus copies are all ±0 over the span                |
 * | take(n, skip)        | the span's ramps from the parameters; changed cutoffs; its `Kind`   |
 * | whole, still, moving | (n, at): the lines over the span, echo × mix into the echo buffer;  |
 * |                      | 1 when every echo stayed under -110 dBFS                            |
 * | mix(n, at)           | the echo added into the output bus copies                           |
 *
 * Thread: `delayKernel` allocates and compiles (create); the functions are allocation-free.
 */
import { Code, F64, I32, V128, WasmModule, type WasmMemory } from 'plugin-sdk';

/** Largest change of the delay per sample (samples): the read head runs at 0.5× … 1.5× while it moves. */
export const MAX_SLEW = 0.5;
/** Echo level under which a silent-input delay counts as finished (-110 dBFS). */
const QUIET = 3.2e-6;
/** Anything beyond this in the loop is a fault (NaN/Infinity from a broken source); it is dropped. */
const LIMIT = 1e6;

/** Slots of the parameters (`DelayDsp.params`). */
export const TIME = 0;
export const FEEDBACK = 1;
export const MIX = 2;
export const LOWCUT = 3;
export const HIGHCUT = 4;

// Memory layout (bytes). No double passes through the per-block JavaScript: the parameters live
// here, and the kernel derives, ramps and tests everything itself (V8 boxes each double a function
// handles until it has optimised it, and a function called once per block is optimised late).
/** The parameters (f64), slots TIME … HIGHCUT. */
export const PARAMS = 0;
/** Ramps over the span (f64): the value at frame k (1-based) is v0 + dv·k, reaching v1 at the end. */
export const T0 = 40;
export const T1 = 48;
const F0 = 56;
const F1 = 64;
const M0 = 72;
const M1 = 80;
const DT = 88;
const DF = 96;
const DM = 104;
/** The lowcut and highcut the filter gains are for (f64). */
const CUTS = 112;
/** The sample rate and the longest delay in samples (f64). */
const RATE = 128;
const MAX_DELAY = 136;
/** The delay now (f64), the ring position (i32), 1 until the first span (i32). */
export const DELAY = 144;
export const POS = 152;
export const FRESH = 156;
/** Filter gains (f64x2 each): high-pass a1 a2 a3, then low-pass a1 a2 a3. */
export const HP = 176;
export const LP = 224;
/** Filter states (f64x2: left, right): hp ic1, ic2, lp ic1, ic2. */
export const ST = 272;
// Constants (16 bytes each; f64x2 unless noted). The loops load them where they are used: V8 would
// rebuild a v128.const at every use, and sinks values computed before a loop into it.
/** The f64 sign mask (|x| = x & K_ABS). */
const K_ABS = 336;
/** f32x4 (1, 2, 3, 4): frame numbers within a step. */
const K_RAMP = 352;
const K_ONE = 368;
const K_TWO = 384;
const K_HALF = 400;
const K_15 = 416;
const K_25 = 432;
const K_SQRT2 = 448;
const K_LIMIT = 464;
const K_TINY = 480;
/** i32x4 0x7fffffff: a float32 sample's bits but the sign (non-zero unless the sample is ±0). */
const K_MAGNITUDE = 496;
/** Hermite weights of xm1, x0, x1, x2 for the span's fixed delay. */
const W = 512;
/** The mix and feedback of a span where they do not ramp (f64x2 each). */
const GAINS = 576;
const BUFFERS = 608;

/** `take` results: a cutoff changed (its gains are due), and the kind of span (else `moving`). */
export const LOWCUT_CHANGED = 1;
export const HIGHCUT_CHANGED = 2;
export const WHOLE = 4;
export const STILL = 8;

export interface Layout {
  /** Copies of the buses (`cap` frames, float32). */
  inL: number;
  inR: number;
  outL: number;
  outR: number;
  /** The span's input as stereo frames (float32 pairs). */
  in2: number;
  /** The span's echo × mix as stereo frames (f64x2). */
  echo: number;
  /** The ring: `size` stereo float32 frames, 3 mirrored frames, one scratch frame. */
  ring: number;
  pages: number;
}

function layoutOf(cap: number, size: number): Layout {
  const bus = Math.ceil(((cap + 4) * 4) / 16) * 16;
  const inL = BUFFERS;
  const inR = inL + bus;
  const outL = inR + bus;
  const outR = outL + bus;
  const in2 = outR + bus;
  const echo = in2 + (cap + 4) * 8;
  const ring = echo + (cap + 4) * 16;
  return { inL, inR, outL, outR, in2, echo, ring, pages: Math.ceil((ring + (size + 4) * 8) / 65536) };
}

/**
 * How a span's delay is read: `whole` — still at a whole number of samples, one tap; `still` — still
 * between samples, Hermite weights computed once; `moving` — following the time ramp per sample
 * (slew-limited, Hermite polynomial per sample). Feedback and mix ramp only in `moving` (the still
 * kinds take them as constants).
 */
type Kind = 'whole' | 'still' | 'moving';

/**
 * `run(n, at)` for one `Kind`: bus-copy frames [at, at+n) through the lines; echo × mix into the
 * echo buffer [0, n); returns 1 when every |echo| stayed under QUIET. Per frame, both sides in the
 * lanes of an f64x2 — the operations of the float64 JavaScript this replaced, so a side computes
 * what it did (to the last bit, but for the Hermite weights of `still`).
 */
function runCode(L: Layout, size: number, kind: Kind): { code: Code; locals: number[] } {
  const n = 0, at = 1;
  const moving = kind === 'moving';
  let next = 2;
  const local = () => next++;
  const q = local(), qend = local(), o = local(), pos = local(), rd = local(), mir = local(), di = local();
  const i32s = next - 2;
  const d = local(), f = local(), kf = local(), diff = local(), bits = local();
  const f64s = next - 2 - i32s;
  const v0 = next;
  const h1 = local(), h2 = local(), l1 = local(), l2 = local(), kv = local(), pk = local(), fs = local();
  const a = local(), b = local(), x2 = local(), x1 = local(), x0 = local(), xm1 = local(), e = local(), v1 = local(), v2 = local(), v3 = local(), hp = local(), w = local();
  const locals = [...Array(i32s).fill(I32), ...Array(f64s).fill(F64), ...Array(next - v0).fill(V128)];
  const mask = size - 1;
  const c = new Code();
  /** Pushes the v128 at byte `off` / the f64 at `off` splatted. */
  const k = (off: number) => c.i32Const(0).v128Load(off);
  const ks = (off: number) => c.i32Const(0).f64Load(off).f64x2Splat();
  /** The low two f32 lanes of `from` (or its high two) as f64x2. */
  const pair = (from: number, high: boolean, to: number) => {
    c.localGet(from);
    if (high) c.localGet(from).i32x4Shuffle(2, 3, 0, 1);
    c.f64x2PromoteLowF32x4().localSet(to);
  };
  /** mir = the mirror frame of pos (pos < 3: pos + size; else the scratch frame size + 3). */
  const mirror = () => c.localGet(pos).i32Const(size).i32Add().i32Const(size + 3).localGet(pos).i32Const(3).i32LtS().select().localSet(mir);
  /** rd = the first tap's frame: (pos − ⌊d⌋) mod size for `whole`, else the oldest of four, (pos − ⌊d⌋ − 2) mod size. */
  const firstTap = () => {
    c.localGet(pos).localGet(d).i32TruncF64S().localTee(di).i32Sub();
    if (kind !== 'whole') c.i32Const(2).i32Sub();
    c.i32Const(mask).i32And().localSet(rd);
  };
  /** Per frame: the mix (`g0` = M0) or feedback (F0) gain, ramping with slope `dg` in `moving`, else constant. */
  const gain = (g0: number, dg: number) => {
    if (!moving) {
      k(GAINS + (g0 === M0 ? 0 : 16));
      return;
    }
    ks(g0);
    ks(dg).localGet(kv).f64x2Mul().f64x2Add();
  };

  // The input as stereo frames: in2[k] = (inL[at+k], inR[at+k]), four frames per step.
  c.localGet(at).i32Const(2).i32Shl().localSet(o);
  c.localGet(n).i32Const(3).i32Shl().localSet(qend);
  c.block().loop();
  c.localGet(q).localGet(qend).i32GeS().brIf(1);
  c.localGet(o).v128Load(L.inL, 2).localSet(a);
  c.localGet(o).v128Load(L.inR, 2).localSet(b);
  c.localGet(q).localGet(a).localGet(b).i32x4Shuffle(0, 4, 1, 5).v128Store(L.in2);
  c.localGet(q).localGet(a).localGet(b).i32x4Shuffle(2, 6, 3, 7).v128Store(L.in2 + 16);
  c.localGet(o).i32Const(16).i32Add().localSet(o);
  c.localGet(q).i32Const(32).i32Add().localSet(q);
  c.br(0);
  c.end().end();

  [h1, h2, l1, l2].forEach((to, i) => k(ST + 16 * i).localSet(to));
  c.f64x2Const(0, 0).localTee(kv).localSet(pk);
  c.i32Const(0).f64Load(DELAY).localSet(d);
  c.i32Const(0).i32Load(POS).localSet(pos);
  if (kind !== 'whole') {
    // `whole` writes no mirror: bring it up to date (frames 0–2 past the end) and keep it so.
    c.i32Const(0).i32Const(0).v128Load(L.ring).v128Store(L.ring + 8 * size);
    c.i32Const(0).i32Const(0).f64Load(L.ring + 16).f64Store(L.ring + 8 * size + 16);
    mirror();
  }
  if (kind === 'still') {
    // The weights of xm1, x0, x1, x2 at f = d − ⌊d⌋: w = c0 + f·(c1 + f·(c2 + f·c3)).
    firstTap();
    c.localGet(d).localGet(di).f64ConvertI32S().f64Sub().localSet(f);
    const weight = (off: number, c0: number, c1: number, c2: number, c3: number) => {
      c.i32Const(0).localGet(f).f64Const(c3).f64Mul().f64Const(c2).f64Add().localGet(f).f64Mul().f64Const(c1).f64Add();
      c.localGet(f).f64Mul().f64Const(c0).f64Add().f64x2Splat().v128Store(off);
    };
    weight(W, 0, -0.5, 1, -0.5);
    weight(W + 16, 1, 0, -2.5, 1.5);
    weight(W + 32, 0, 0.5, 2, -1.5);
    weight(W + 48, 0, 0, -0.5, 0.5);
  }
  if (kind === 'whole') firstTap();
  if (!moving) {
    c.i32Const(0);
    ks(M0).v128Store(GAINS);
    c.i32Const(0);
    ks(F0).v128Store(GAINS + 16);
  }

  c.i32Const(0).localSet(q);
  c.i32Const(0).localSet(o);
  c.block().loop();
  c.localGet(q).localGet(qend).i32GeS().brIf(1);
  if (moving) {
    // d += clamp(t0 + dt·k − d, ±MAX_SLEW); then the taps and f for it.
    c.localGet(kf).f64Const(1).f64Add().localTee(kf).i32Const(0).f64Load(DT).f64Mul().i32Const(0).f64Load(T0).f64Add().localGet(d).f64Sub().localSet(diff);
    c.f64Const(MAX_SLEW);
    c.f64Const(-MAX_SLEW).localGet(diff).localGet(diff).f64Const(-MAX_SLEW).f64Lt().select();
    c.f64Const(MAX_SLEW).localGet(diff).f64Lt().select();
    c.localGet(d).f64Add().localSet(d);
    firstTap();
    c.localGet(d).localGet(di).f64ConvertI32S().f64Sub().f64x2Splat().localSet(fs);
    c.localGet(kv);
    k(K_ONE).f64x2Add().localSet(kv);
  }
  if (kind === 'whole') {
    c.localGet(rd).i32Const(3).i32Shl().v128Load(L.ring, 2).f64x2PromoteLowF32x4().localSet(e);
  } else {
    // Taps x2, x1, x0, xm1: frames rd … rd+3 (the mirror covers rd+3 ≥ size), two frames per load.
    c.localGet(rd).i32Const(3).i32Shl().localTee(di).v128Load(L.ring, 2).localSet(a);
    c.localGet(di).v128Load(L.ring + 16, 2).localSet(b);
    pair(a, false, x2);
    pair(a, true, x1);
    pair(b, false, x0);
    pair(b, true, xm1);
  }
  if (moving) {
    // Catmull-Rom as the JavaScript did it: c3 (v3), c2 (v2), c1 (v1), then Horner in f.
    k(K_HALF).localGet(x2).localGet(xm1).f64x2Sub().f64x2Mul();
    k(K_15).localGet(x0).localGet(x1).f64x2Sub().f64x2Mul().f64x2Add().localSet(v3);
    c.localGet(xm1);
    k(K_25).localGet(x0).f64x2Mul().f64x2Sub();
    k(K_TWO).localGet(x1).f64x2Mul().f64x2Add();
    k(K_HALF).localGet(x2).f64x2Mul().f64x2Sub().localSet(v2);
    k(K_HALF).localGet(x1).localGet(xm1).f64x2Sub().f64x2Mul().localSet(v1);
    c.localGet(v3).localGet(fs).f64x2Mul().localGet(v2).f64x2Add().localGet(fs).f64x2Mul().localGet(v1).f64x2Add().localGet(fs).f64x2Mul().localGet(x0).f64x2Add().localSet(e);
  } else if (kind === 'still') {
    k(W).localGet(xm1).f64x2Mul();
    k(W + 16).localGet(x0).f64x2Mul().f64x2Add();
    k(W + 32).localGet(x1).f64x2Mul().f64x2Add();
    k(W + 48).localGet(x2).f64x2Mul().f64x2Add().localSet(e);
  }
  // High-pass then low-pass (TPT SVF steps with gains a1 a2 a3 at `g`): what is fed back is the low-pass v2.
  // (2·v as v + v: the same value, without a constant to load.)
  const svf = (x: number, ic1: number, ic2: number, g: number) => {
    c.localGet(x).localGet(ic2).f64x2Sub().localSet(v3);
    k(g).localGet(ic1).f64x2Mul();
    k(g + 16).localTee(a).localGet(v3).f64x2Mul().f64x2Add().localSet(v1);
    c.localGet(ic2).localGet(a).localGet(ic1).f64x2Mul().f64x2Add();
    k(g + 32).localGet(v3).f64x2Mul().f64x2Add().localSet(v2);
    c.localGet(v1).localGet(v1).f64x2Add().localGet(ic1).f64x2Sub().localSet(ic1);
    c.localGet(v2).localGet(v2).f64x2Add().localGet(ic2).f64x2Sub().localSet(ic2);
  };
  svf(e, h1, h2, HP);
  c.localGet(e);
  k(K_SQRT2).localGet(v1).f64x2Mul().f64x2Sub().localGet(v2).f64x2Sub().localSet(hp);
  svf(hp, l1, l2, LP);
  // echo × mix
  c.localGet(o).localGet(e);
  gain(M0, DM);
  c.f64x2Mul().v128Store(L.echo);
  // line[pos] = in + feedback·lowpass, dropped when beyond ±LIMIT (NaN fails the compare too).
  c.localGet(q).v128Load(L.in2).f64x2PromoteLowF32x4();
  gain(F0, DF);
  c.localGet(v2).f64x2Mul().f64x2Add().localTee(w);
  c.localGet(w);
  k(K_ABS).v128And();
  k(K_LIMIT).f64x2Lt().v128And();
  c.f32x4DemoteF64x2Zero().f64x2ExtractLane(0).localSet(bits);
  c.localGet(pos).i32Const(3).i32Shl().localGet(bits).f64Store(L.ring);
  if (kind !== 'whole') c.localGet(mir).i32Const(3).i32Shl().localGet(bits).f64Store(L.ring);
  c.localGet(pk).localGet(e);
  k(K_ABS).v128And().f64x2Pmax().localSet(pk);
  c.localGet(pos).i32Const(1).i32Add().i32Const(mask).i32And().localSet(pos);
  if (kind !== 'whole') mirror();
  if (!moving) c.localGet(rd).i32Const(1).i32Add().i32Const(mask).i32And().localSet(rd);
  c.localGet(q).i32Const(8).i32Add().localSet(q);
  c.localGet(o).i32Const(16).i32Add().localSet(o);
  c.br(0);
  c.end().end();

  // Filter states flushed (|x| > 1e-20 keeps x; denormals and NaN become 0), delay, position, peak.
  [h1, h2, l1, l2].forEach((st, i) => {
    c.i32Const(0).localGet(st);
    k(K_TINY).localGet(st);
    k(K_ABS).v128And().f64x2Lt().v128And().v128Store(ST + 16 * i);
  });
  c.i32Const(0).localGet(d).f64Store(DELAY);
  c.i32Const(0).localGet(pos).i32Store(POS);
  // The result: 1 when every |echo| of the span was under QUIET.
  c.localGet(pk).localGet(pk).localGet(pk).i32x4Shuffle(2, 3, 0, 1).f64x2Pmax().f64x2ExtractLane(0).f64Const(QUIET).f64Lt();
  return { code: c, locals };
}

/** Pushes the f64 at byte `off` clamped to [0, hi], NaN → 0 (as `x > 0 ? (x < hi ? x : hi) : 0`). */
function clamp(c: Code, off: number, hi: number, tmp: number): void {
  c.i32Const(0).f64Load(off).localTee(tmp);
  c.f64Const(hi).localGet(tmp).f64Const(hi).f64Lt().select();
  c.f64Const(0).f64Const(0).localGet(tmp).f64Lt().select();
}

/** Pushes 1 when the f64s at byte offsets `a` and `b` differ (NaN differs from everything), else 0. */
function differ(c: Code, a: number, b: number): void {
  c.i32Const(0).f64Load(a).i32Const(0).f64Load(b).f64Ge();
  c.i32Const(0).f64Load(b).i32Const(0).f64Load(a).f64Ge().i32And().i32Eqz();
}

/**
 * `take(n, skip)`: the span's ramps from the parameters (the first span jumps to them), as
 * `setParams` did it in JavaScript; returns LOWCUT_CHANGED / HIGHCUT_CHANGED (the caller computes
 * those gains) and the span's kind (WHOLE, STILL, else moving). `skip` (an idle delay and a silent
 * span): the delay jumps to the new time instead.
 */
function takeCode(): { code: Code; locals: number[] } {
  const n = 0, skip = 1;
  const flags = 2, tmp = 3, inv = 4;
  const c = new Code();
  const copy = (from: number, to: number) => c.i32Const(0).i32Const(0).f64Load(from).f64Store(to);
  copy(T1, T0);
  copy(F1, F0);
  copy(M1, M0);
  // T1 = time · rate, at least 2, at most MAX_DELAY (NaN → 2).
  c.i32Const(0);
  c.i32Const(0).f64Load(MAX_DELAY);
  c.i32Const(0).f64Load(PARAMS + 8 * TIME).i32Const(0).f64Load(RATE).f64Mul().localTee(tmp);
  c.i32Const(0).f64Load(MAX_DELAY).localGet(tmp).f64Lt().select();
  c.f64Const(2).localGet(tmp).f64Const(2).f64Ge().select().f64Store(T1);
  c.i32Const(0);
  clamp(c, PARAMS + 8 * FEEDBACK, 0.99, tmp);
  c.f64Store(F1);
  c.i32Const(0);
  clamp(c, PARAMS + 8 * MIX, 1, tmp);
  c.f64Store(M1);
  c.i32Const(0).i32Load(FRESH).if();
  copy(T1, T0);
  copy(F1, F0);
  copy(M1, M0);
  copy(T1, DELAY);
  c.i32Const(0).i32Const(0).i32Store(FRESH);
  c.end();
  c.f64Const(1).localGet(n).f64ConvertI32S().f64Div().localSet(inv);
  for (const [v0, v1, dv] of [[T0, T1, DT], [F0, F1, DF], [M0, M1, DM]]) {
    c.i32Const(0).i32Const(0).f64Load(v1).i32Const(0).f64Load(v0).f64Sub().localGet(inv).f64Mul().f64Store(dv);
  }
  differ(c, PARAMS + 8 * LOWCUT, CUTS);
  differ(c, PARAMS + 8 * HIGHCUT, CUTS + 8);
  c.i32Const(1).i32Shl().i32Or().localSet(flags);
  copy(PARAMS + 8 * LOWCUT, CUTS);
  copy(PARAMS + 8 * HIGHCUT, CUTS + 8);
  c.localGet(skip).if();
  copy(T1, DELAY);
  c.localGet(flags).return();
  c.end();
  // Moving while the delay is not at the time yet, or anything ramps; else whole or between samples.
  differ(c, DELAY, T0);
  differ(c, T1, T0);
  c.i32Or();
  differ(c, F1, F0);
  c.i32Or();
  differ(c, M1, M0);
  c.i32Or().if();
  c.localGet(flags).return();
  c.end();
  c.i32Const(WHOLE).i32Const(STILL);
  c.i32Const(0).f64Load(DELAY).localTee(tmp).i32TruncF64S().f64ConvertI32S().localGet(tmp).f64Ge();
  c.select().localGet(flags).i32Or();
  return { code: c, locals: [I32, F64, F64] };
}

/** `mix(n, at)`: output bus copies [at, at+n) += echo [0, n) (to float32), four frames per step, frames past n masked off. */
function mixCode(L: Layout): { code: Code; locals: number[] } {
  const n = 0, at = 1;
  const q = 2, qend = 3, o = 4;
  const k = 5, four = 6, nv = 7, a = 8, b = 9, ab = 10, cd = 11, m = 12;
  const c = new Code();
  c.i32Const(0).v128Load(K_RAMP).localSet(k);
  c.f32Const(4).f32x4Splat().localSet(four);
  c.localGet(n).f32ConvertI32S().f32x4Splat().localSet(nv);
  c.localGet(at).i32Const(2).i32Shl().localSet(o);
  c.localGet(n).i32Const(4).i32Shl().localSet(qend);
  c.block().loop();
  c.localGet(q).localGet(qend).i32GeS().brIf(1);
  // Four stereo f64x2 frames → (L0, R0, L1, R1), (L2, R2, L3, R3) → L0…L3 and R0…R3.
  const frames = (off: number, to: number) => {
    c.localGet(q).v128Load(L.echo + off).f32x4DemoteF64x2Zero().localSet(a);
    c.localGet(q).v128Load(L.echo + off + 16).f32x4DemoteF64x2Zero().localSet(b);
    c.localGet(a).localGet(b).i32x4Shuffle(0, 1, 4, 5).localSet(to);
  };
  frames(0, ab);
  frames(32, cd);
  c.localGet(nv).localGet(k).f32x4Ge().localSet(m);
  for (const [out, lanes] of [[L.outL, [0, 2, 4, 6]], [L.outR, [1, 3, 5, 7]]] as const) {
    c.localGet(o).localGet(o).v128Load(out, 2).localGet(ab).localGet(cd).i32x4Shuffle(lanes[0], lanes[1], lanes[2], lanes[3]).localGet(m).v128And().f32x4Add().v128Store(out, 2);
  }
  c.localGet(k).localGet(four).f32x4Add().localSet(k);
  c.localGet(o).i32Const(16).i32Add().localSet(o);
  c.localGet(q).i32Const(64).i32Add().localSet(q);
  c.br(0);
  c.end().end();
  return { code: c, locals: [I32, I32, I32, V128, V128, V128, V128, V128, V128, V128, V128] };
}

/** `silent(n, at)`: 1 when input copies [at, at+n) are all ±0, else 0 (frames past n masked off). */
function silentCode(L: Layout): { code: Code; locals: number[] } {
  const n = 0, at = 1;
  const o = 2, oend = 3, k = 4, four = 5, nv = 6, acc = 7;
  const c = new Code();
  c.i32Const(0).v128Load(K_RAMP).localSet(k);
  c.f32Const(4).f32x4Splat().localSet(four);
  c.localGet(n).f32ConvertI32S().f32x4Splat().localSet(nv);
  c.localGet(at).i32Const(2).i32Shl().localTee(o).localGet(n).i32Const(2).i32Shl().i32Add().localSet(oend);
  c.block().loop();
  c.localGet(o).localGet(oend).i32GeS().brIf(1);
  c.localGet(o).v128Load(L.inL, 2).localGet(o).v128Load(L.inR, 2).v128Or();
  c.i32Const(0).v128Load(K_MAGNITUDE).v128And();
  c.localGet(nv).localGet(k).f32x4Ge().v128And().localGet(acc).v128Or().localSet(acc);
  c.localGet(k).localGet(four).f32x4Add().localSet(k);
  c.localGet(o).i32Const(16).i32Add().localSet(o);
  c.br(0);
  c.end().end();
  c.localGet(acc).v128AnyTrue().i32Eqz();
  return { code: c, locals: [I32, I32, V128, V128, V128, V128] };
}

/** A span function: (frames, where they start in the bus copies or `skip` for take) → its flags. */
export type SpanFn = (n: number, at: number) => number;

export interface DelayKernel {
  layout: Layout;
  buffer: ArrayBuffer;
  take: SpanFn;
  silent: SpanFn;
  whole: SpanFn;
  still: SpanFn;
  moving: SpanFn;
  mix: (n: number, at: number) => void;
}

/**
 * The kernel for a ring of `size` stereo frames (a power of two) and spans of up to `maxBlock`
 * frames at `sampleRate`, its constants written, its delay and filters not yet set (FRESH).
 */
export function delayKernel(sampleRate: number, size: number, maxBlock: number): DelayKernel {
  const layout = layoutOf(maxBlock, size);
  const m = new WasmModule().memory(layout.pages);
  const add = (name: string, built: { code: Code; locals: number[] }, results: number[]) =>
    m.func(name, [I32, I32], results as never, built.locals as never, built.code);
  add('take', takeCode(), [I32]);
  add('silent', silentCode(layout), [I32]);
  for (const kind of ['whole', 'still', 'moving'] as const) add(kind, runCode(layout, size, kind), [I32]);
  add('mix', mixCode(layout), []);
  const { exports, memory } = m.instantiate();
  const buffer = (memory as WasmMemory).buffer;
  const f64 = new Float64Array(buffer);
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);
  for (let i = 0; i < 4; i++) {
    i32[K_ABS / 4 + i] = i & 1 ? 0x7fffffff : -1;
    i32[K_MAGNITUDE / 4 + i] = 0x7fffffff;
    f32[K_RAMP / 4 + i] = i + 1;
  }
  for (const [at, v] of [[K_ONE, 1], [K_TWO, 2], [K_HALF, 0.5], [K_15, 1.5], [K_25, 2.5], [K_SQRT2, Math.SQRT2], [K_LIMIT, LIMIT], [K_TINY, 1e-20]]) {
    f64[at / 8] = v;
    f64[at / 8 + 1] = v;
  }
  f64[RATE / 8] = sampleRate;
  f64[MAX_DELAY / 8] = size - 3;
  f64[CUTS / 8] = -1;
  f64[CUTS / 8 + 1] = -1;
  i32[FRESH / 4] = 1;
  const fn = (name: string) => exports[name] as SpanFn;
  return { layout, buffer, take: fn('take'), silent: fn('silent'), whole: fn('whole'), still: fn('still'), moving: fn('moving'), mix: exports.mix as DelayKernel['mix'] };
}
