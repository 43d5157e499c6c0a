/**
 * dist1's WebAssembly SIMD kernel: the wet path of dsp.ts for both channels at once. The filters at
 * the base rate run in float64, one channel per `f64x2` lane (L, R); the oversampled core runs in
 * float32 on `f32x4` (L, R of an even sample, L, R of the odd one), which halves its work (a
 * float64 core measured 30 ns per stereo frame, this one 22; the output changes by about 1e-7).
 *
 * `run(off, n)` processes frames [off, off + n) of the two float32 channel buffers in place, one
 * stage per loop (a loop with one short recursion lets the out-of-order core overlap many frames;
 * fusing stages measured slower):
 *
 *   1. highpass   f64   20 Hz high-pass × pre-gain ramp → A; dry × dry-gain ramp → DRY
 *   2. upsample   f32   ↑2: polyphase IIR half-band (plugin-sdk's OVERSAMPLER_COEFS), + bias → B
 *   3. shaper     f32   ADAA (two loops, below) or plain, − sat(bias), in place at B
 *   4. downsample f32   ↓2: the same half-band → A
 *   5. output     f64   DC blocker, tone high-pass and low-pass, × make-up × wet-gain ramps, + DRY
 *
 * then flushes denormals and NaN from the filter states. Without oversampling, stages 2 and 4 only
 * convert (B then holds each frame twice). The two-pole filters run in state-space form (two
 * multiply-adds per state update: a short recursion), with the responses of dsp.ts.
 *
 * The ADAA shaper. sat(u) = u/9 + (8/3)·u/(u² + 3) on |u| < 3 (±1 beyond) has the antiderivative
 * F(u) = u²/18 + (4/3)·ln(u² + 3); the first-order ADAA output is (F(v) − F(v₁)) / (v − v₁). With
 * a = v² + 3, b = v₁² + 3 and ln a − ln b = 2·atanh((a − b)/(a + b)) that is, for |v|, |v₁| ≤ 3,
 *
 *     D(v, v₁) = s/18 + (s/q)·P(z²),   s = v + v₁, q = v² + v₁² + 6, z = (v − v₁)·s/q,
 *     P(t) = (8/3)·atanh(√t)/√t
 *
 * exactly, with no cancellation (so no small-step fallback): |z| ≤ 0.6, and P is the degree-7
 * Chebyshev interpolant on t ∈ [0, 0.36] below (|error| < 1e-8, under float32 rounding). Clipped
 * inputs: with c = clamp(v, ±3) and e = v − c, F(v) = F(c) + |e|, so in general
 *
 *     y = (D(c, c₁)·(c − c₁) + |e| − |e₁|) / (v − v₁) = D(c, c₁)·α + β
 *     α = (c − c₁ + ε)/(v − v₁ + ε), β = (|e| − |e₁|)/(v − v₁ + ε),  ε = ±1e-30 (the sign of v − v₁)
 *
 * where ε only keeps v = v₁ from dividing by 0 (clipping needs steps far above 1e-30): while
 * neither input clips α = 1 and β = 0 (to an ulp), so y = D(v, v₁). The first loop computes t = z²,
 * δ = (s/q)·α and γ = (s/18)·α + β − sat(b) (everything that needs the previous input: two
 * divisions); the second y = γ + δ·P(t). No logarithm, no branch.
 *
 * Thread: `buildKernel` allocates (create); `run` is allocation-free.
 */
import { Code, I32, OVERSAMPLER_COEFS, V128, WasmModule, type WasmMemory } from 'plugin-sdk';

/** (8/3)·atanh(√t)/√t ≈ Σ ADAA_POLY[k]·t^k on [0, 0.36] (Chebyshev interpolant, 8 nodes). */
export const ADAA_POLY = [
  2.66666666063011, 0.888891029728737, 0.5332100780779531, 0.3836225568459288, 0.2683621961387341, 0.39695594114662847,
  -0.24514259839860886, 0.7788027679090961,
];

// Memory layout from byte 0: 16-byte slots for constants, parameters and states (f64x2: lane 0
// left, lane 1 right; f32x4: left, right of the even sample, left, right of the odd one); then the
// buffers.
let slot = 0;
const next = () => 16 * slot++;

/** Slots of a two-pole filter in state-space form: s ← M·s + b·x, y = c·s + d·x. */
export interface TwoPoleSlots {
  m11: number;
  m12: number;
  m21: number;
  m22: number;
  b1: number;
  b2: number;
  c1: number;
  c2: number;
  d: number;
}

const twoPole = (): TwoPoleSlots => ({ m11: next(), m12: next(), m21: next(), m22: next(), b1: next(), b2: next(), c1: next(), c2: next(), d: next() });

// Constants (written once by `buildKernel`), f64x2 and f32x4.
const K_FLUSH64 = next();
const K_ABS64 = next();
const K_TINY64 = next();
const K_FLUSH = next();
const K_ABS = next();
const K_SIGN = next();
const K_EPS = next();
const K_ONE = next();
const K_THREE = next();
const K_MINUS_THREE = next();
const K_SIX = next();
const K_27 = next();
const K_9 = next();
const K_EIGHTEENTH = next();
const K_HALF = next();
const K_LIMIT = next();
/** Half-band sections as (a_even, a_even, a_odd, a_odd): both paths of a section in one vector. */
const K_HB = [0, 1, 2].map(() => next());
const K_POLY = ADAA_POLY.map(() => next());
// Parameters (written by the driver); a ramp is its value before the first frame and its step per frame.
export const P_GAIN = next();
export const P_GAIN_STEP = next();
export const P_MAKEUP = next();
export const P_MAKEUP_STEP = next();
export const P_DRY = next();
export const P_DRY_STEP = next();
export const P_WET = next();
export const P_WET_STEP = next();
/** f32x4: the shaper's bias and sat(bias). */
export const P_BIAS = next();
export const P_SAT_BIAS = next();
export const P_HP: TwoPoleSlots = twoPole();
export const P_DC_R = next();
/** Tone high-pass (1-pole TPT, gain G): h = (1 − G)·(x − s), s ← (1 − 2G)·s + 2G·x. */
export const P_TONE_H = next();
export const P_TONE_M = next();
export const P_TONE_B = next();
export const P_LP: TwoPoleSlots = twoPole();
// States: f64x2 per lane pair, except the f32x4 oversampled core.
export const S_HP1 = next();
export const S_HP2 = next();
/** Upsampler (f32x4): the previous input (L, R, L, R), then per section the even and odd paths' previous outputs. */
export const S_UP_IN = next();
export const S_UP_Y = [0, 1, 2].map(() => next());
/** Downsampler (f32x4): the paths' previous inputs (odd sample L, R, even sample L, R), then per section the paths' previous outputs. */
export const S_DOWN_IN = next();
export const S_DOWN_Y = [0, 1, 2].map(() => next());
/** ADAA (f32x4): the previous shaper input in lanes 2, 3. */
export const S_ADAA = next();
export const S_DC_X = next();
export const S_DC_Y = next();
export const S_TONE_HP = next();
export const S_LP1 = next();
export const S_LP2 = next();
const SLOTS_END = 16 * slot;

/** Byte offsets of the buffers, for up to `maxBlock` frames per call. */
interface Buffers {
  /** The float32 channel buffers, in and out. */
  inL: number;
  inR: number;
  /** f64x2 per frame: the high-passed, pre-gained input; later the downsampled shaper output. */
  a: number;
  /** f64x2 per frame: the dry part of the output (after `a`: loops reach it at a fixed offset). */
  dry: number;
  /** f32x4 per frame: the oversampled frame pair, the shaper's input and then its output. */
  b: number;
  /** f32x4 per frame: ADAA intermediates t, δ, γ. */
  t: number;
  d: number;
  g: number;
  bytes: number;
}

function buffers(maxBlock: number): Buffers {
  const inL = SLOTS_END;
  const inR = inL + 4 * maxBlock;
  const a = inR + 4 * maxBlock;
  const dry = a + 16 * maxBlock;
  const b = dry + 16 * maxBlock;
  const t = b + 16 * maxBlock;
  const d = t + 16 * maxBlock;
  const g = d + 16 * maxBlock;
  return { inL, inR, a, dry, b, t, d, g, bytes: g + 16 * maxBlock };
}

/** A pointer a loop advances: byte address `from` (+ 4 × the `off` parameter if `offset`) by `stride`. */
interface Cursor {
  local: number;
  from: number;
  /** The channel buffers start at frame `off`. */
  offset?: boolean;
  stride: number;
}

/** A loop body with its cursors (the first one bounds the loop) and what follows the loop. */
interface Stage {
  cursors: Cursor[];
  body(): void;
  finish?(): void;
}

/**
 * The code generator: one method per stage, each loading what it needs into fresh locals (wasm
 * locals are function-wide) and returning its loop. Constants live in memory and are loaded once:
 * V8 recomputes a constant computed in code (a v128.const, a conversion) at every use in the loop.
 */
class KernelCode {
  readonly c = new Code();
  readonly locals: number[] = [];
  /** Parameters: frame offset in the channel buffers, frame count. */
  private readonly off = 0;
  private readonly n = 1;
  private readonly end = this.i32();

  constructor(private readonly B: Buffers) {}

  i32(): number {
    this.locals.push(I32);
    return 2 + this.locals.length - 1;
  }

  v(): number {
    this.locals.push(V128);
    return 2 + this.locals.length - 1;
  }

  /** A new local holding the slot at byte offset `off`. */
  load(off: number): number {
    const l = this.v();
    this.c.i32Const(0).v128Load(off).localSet(l);
    return l;
  }

  store(off: number, local: number): void {
    this.c.i32Const(0).localGet(local).v128Store(off);
  }

  /** One loop running the stage's body once per frame, then its `finish`. */
  run(stage: Stage): void {
    const c = this.c;
    const [first] = stage.cursors;
    for (const k of stage.cursors) {
      c.i32Const(k.from);
      if (k.offset) c.localGet(this.off).i32Const(2).i32Shl().i32Add();
      c.localSet(k.local);
    }
    c.localGet(this.n).i32Const(Math.log2(first.stride)).i32Shl().localGet(first.local).i32Add().localSet(this.end);
    c.block().loop();
    c.localGet(first.local).localGet(this.end).i32GeS().brIf(1);
    stage.body();
    for (const k of stage.cursors) c.localGet(k.local).i32Const(k.stride).i32Add().localSet(k.local);
    c.br(0);
    c.end().end();
    stage.finish?.();
  }

  /** Loads the 9 coefficients of a two-pole filter into locals. */
  twoPoleCoefs(s: TwoPoleSlots): TwoPoleSlots {
    return { m11: this.load(s.m11), m12: this.load(s.m12), m21: this.load(s.m21), m22: this.load(s.m22), b1: this.load(s.b1), b2: this.load(s.b2), c1: this.load(s.c1), c2: this.load(s.c2), d: this.load(s.d) };
  }

  /** f64x2: y = c·s + d·x (left on the stack); s ← M·s + b·x. `tmp` is a scratch local. */
  twoPoleStep(k: TwoPoleSlots, x: number, s1: number, s2: number, tmp: number): void {
    const c = this.c;
    c.localGet(k.b1).localGet(x).f64x2Mul().localGet(k.m12).localGet(s2).f64x2Mul().f64x2Add().localGet(k.m11).localGet(s1).f64x2Mul().f64x2Add().localSet(tmp);
    c.localGet(k.c1).localGet(s1).f64x2Mul().localGet(k.c2).localGet(s2).f64x2Mul().f64x2Add().localGet(k.d).localGet(x).f64x2Mul().f64x2Add();
    c.localGet(k.b2).localGet(x).f64x2Mul().localGet(k.m21).localGet(s1).f64x2Mul().f64x2Add().localGet(k.m22).localGet(s2).f64x2Mul().f64x2Add().localSet(s2);
    c.localGet(tmp).localSet(s1);
  }

  /**
   * f32x4: the three allpass sections of both half-band paths on `x` (even path in lanes 0, 1, odd
   * path in lanes 2, 3); leaves the output in `x`. t_k = (in_k − y_k)·a_k + in_k(previous frame),
   * where in_k(previous frame) is y_{k−1} before this frame (as plugin-sdk's Upsampler2x).
   */
  allpass(x: number, xPrev: number, coef: readonly number[], ys: readonly number[], t: readonly number[]): void {
    const c = this.c;
    for (let k = 0; k < 3; k++) {
      c.localGet(k === 0 ? x : t[k - 1]).localGet(ys[k]).f32x4Sub().localGet(coef[k]).f32x4Mul();
      c.localGet(k === 0 ? xPrev : ys[k - 1]).f32x4Add().localSet(t[k]);
    }
    c.localGet(x).localSet(xPrev);
    for (let k = 0; k < 3; k++) c.localGet(t[k]).localSet(ys[k]);
    c.localGet(t[2]).localSet(x);
  }

  /** f32x4 |x| (an AND with a loaded mask: f32x4.abs rebuilds its mask at every use). */
  abs(x: number, mask: number): void {
    this.c.localGet(x).localGet(mask).v128And();
  }

  /** Channels → A: high-pass × pre-gain ramp; dry × dry-gain ramp → DRY. */
  highpass(): Stage {
    const c = this.c;
    const B = this.B;
    const hp = this.twoPoleCoefs(P_HP);
    const s1 = this.load(S_HP1), s2 = this.load(S_HP2), g = this.load(P_GAIN), dg = this.load(P_GAIN_STEP);
    const dry = this.load(P_DRY), dd = this.load(P_DRY_STEP);
    const x = this.v(), tmp = this.v();
    const pl = this.i32(), pa = this.i32();
    // The ramps start one step in: the gains reach their targets at the span's last frame.
    c.localGet(g).localGet(dg).f64x2Add().localSet(g);
    c.localGet(dry).localGet(dd).f64x2Add().localSet(dry);
    const body = () => {
      c.localGet(pl).f32Load().f64PromoteF32().f64x2Splat().localGet(pl).f32Load(B.inR - B.inL).f64PromoteF32().f64x2ReplaceLane(1).localSet(x);
      c.localGet(pa).localGet(x).localGet(dry).f64x2Mul().v128Store(B.dry - B.a);
      c.localGet(pa);
      this.twoPoleStep(hp, x, s1, s2, tmp);
      c.localGet(g).f64x2Mul().v128Store();
      c.localGet(g).localGet(dg).f64x2Add().localSet(g);
      c.localGet(dry).localGet(dd).f64x2Add().localSet(dry);
    };
    const finish = () => {
      this.store(S_HP1, s1);
      this.store(S_HP2, s2);
    };
    return { cursors: [{ local: pl, from: B.inL, offset: true, stride: 4 }, { local: pa, from: B.a, stride: 16 }], body, finish };
  }

  /**
   * A → B: ↑2 (each frame becomes an even and an odd sample), + bias; without `filter` each frame
   * is only doubled. Values below 1e-30 become 0 (no float32 denormals downstream).
   */
  upsample(filter: boolean): Stage {
    const c = this.c;
    const absMask = this.load(K_ABS64), tiny = this.load(K_TINY64), bias = this.load(P_BIAS);
    const coef = K_HB.map((off) => this.load(off));
    const prev = this.load(S_UP_IN);
    const ys = S_UP_Y.map((off) => this.load(off));
    const x = this.v();
    const t = [this.v(), this.v(), this.v()];
    const pa = this.i32(), pb = this.i32();
    const body = () => {
      c.localGet(pa).v128Load().localTee(x).localGet(tiny).localGet(x).localGet(absMask).v128And().f64x2Lt().v128And();
      c.f32x4DemoteF64x2Zero().localTee(x).localGet(x).i32x4Shuffle(0, 1, 4, 5).localSet(x);
      if (filter) this.allpass(x, prev, coef, ys, t);
      c.localGet(pb).localGet(x).localGet(bias).f32x4Add().v128Store();
    };
    const finish = () => {
      this.store(S_UP_IN, prev);
      S_UP_Y.forEach((off, k) => this.store(off, ys[k]));
    };
    return { cursors: [{ local: pa, from: this.B.a, stride: 16 }, { local: pb, from: this.B.b, stride: 16 }], body, finish };
  }

  /** In place at B (the input carries the bias): x ← sat(x) − sat(bias). */
  plainShaper(): Stage {
    const c = this.c;
    const lo = this.load(K_MINUS_THREE), hi = this.load(K_THREE), k27 = this.load(K_27), k9 = this.load(K_9), sb = this.load(P_SAT_BIAS);
    const u = this.v(), u2 = this.v();
    const p = this.i32();
    const body = () => {
      c.localGet(p).v128Load().localGet(lo).f32x4Pmax().localGet(hi).f32x4Pmin().localTee(u);
      c.localGet(u).f32x4Mul().localSet(u2);
      // u(27 + u²)/(27 + 9u²) − sat(b)
      c.localGet(p);
      c.localGet(u).localGet(k27).localGet(u2).f32x4Add().f32x4Mul().localGet(k27).localGet(k9).localGet(u2).f32x4Mul().f32x4Add().f32x4Div();
      c.localGet(sb).f32x4Sub().v128Store();
    };
    return { cursors: [{ local: p, from: this.B.b, stride: 16 }], body };
  }

  /** ADAA, first loop (at B, the input carries the bias): t, δ, γ → T, D, G. */
  adaaPrepare(): Stage {
    const c = this.c;
    const { t: T, d: Dl, g: G } = this.B;
    const lo = this.load(K_MINUS_THREE), hi = this.load(K_THREE), six = this.load(K_SIX), k18 = this.load(K_EIGHTEENTH);
    const one = this.load(K_ONE), eps = this.load(K_EPS), sign = this.load(K_SIGN), absMask = this.load(K_ABS), sb = this.load(P_SAT_BIAS);
    // The previous frame pair's values (the previous sample is in lanes 2, 3).
    const pv = this.load(S_ADAA), pc = this.v(), pcc = this.v(), pae = this.v();
    const v = this.v(), v1 = this.v(), cl = this.v(), cc = this.v(), ae = this.v(), dv = this.v(), e = this.v(), rdv = this.v(), s = this.v(), d = this.v(), sqq = this.v(), al = this.v();
    const p = this.i32(), q = this.i32();
    c.localGet(pv).localGet(lo).f32x4Pmax().localGet(hi).f32x4Pmin().localTee(pc).localGet(pc).f32x4Mul().localSet(pcc);
    c.localGet(pv).localGet(pc).f32x4Sub().localSet(pae);
    this.abs(pae, absMask);
    c.localSet(pae);
    /** Pushes (prev lanes 2, 3, cur lanes 0, 1): each lane's previous sample. */
    const previous = (prev: number, cur: number) => c.localGet(prev).localGet(cur).i32x4Shuffle(2, 3, 4, 5);
    const body = () => {
      c.localGet(p).v128Load().localSet(v);
      previous(pv, v).localSet(v1);
      c.localGet(v).localGet(lo).f32x4Pmax().localGet(hi).f32x4Pmin().localSet(cl);
      c.localGet(cl).localGet(cl).f32x4Mul().localSet(cc);
      c.localGet(v).localGet(cl).f32x4Sub().localSet(ae);
      this.abs(ae, absMask);
      c.localSet(ae);
      // ε = ±1e-30 with the sign of v − v₁; r = 1/(v − v₁ + ε) never divides by 0.
      c.localGet(v).localGet(v1).f32x4Sub().localTee(dv).localGet(sign).v128And().localGet(eps).v128Or().localTee(e);
      c.localGet(dv).f32x4Add().localSet(dv);
      c.localGet(one).localGet(dv).f32x4Div().localSet(rdv);
      previous(pc, cl).localSet(v1);
      c.localGet(cl).localGet(v1).f32x4Add().localSet(s);
      c.localGet(cl).localGet(v1).f32x4Sub().localSet(d);
      // s/q with q = c² + c₁² + 6; t = (d·s/q)²
      c.localGet(s).localGet(cc).localGet(six).f32x4Add();
      previous(pcc, cc).f32x4Add().f32x4Div().localSet(sqq);
      c.localGet(q).localGet(d).localGet(sqq).f32x4Mul().localTee(al).localGet(al).f32x4Mul().v128Store(T);
      // α = (c − c₁ + ε)·r, δ = (s/q)·α
      c.localGet(d).localGet(e).f32x4Add().localGet(rdv).f32x4Mul().localSet(al);
      c.localGet(q).localGet(sqq).localGet(al).f32x4Mul().v128Store(Dl);
      // γ = (s/18)·α + (|e| − |e₁|)·r − sat(b)
      c.localGet(q).localGet(s).localGet(k18).f32x4Mul().localGet(al).f32x4Mul();
      c.localGet(ae);
      previous(pae, ae).f32x4Sub().localGet(rdv).f32x4Mul();
      c.f32x4Add().localGet(sb).f32x4Sub().v128Store(G);
      c.localGet(v).localSet(pv);
      c.localGet(cl).localSet(pc);
      c.localGet(cc).localSet(pcc);
      c.localGet(ae).localSet(pae);
    };
    const finish = () => {
      // A runaway input (|v| ≥ 1e9 or NaN) restarts the ADAA memory at 0.
      c.i32Const(0).localGet(pv);
      this.abs(pv, absMask);
      c.i32Const(0).v128Load(K_LIMIT).f32x4Lt().v128And().v128Store(S_ADAA);
    };
    return { cursors: [{ local: p, from: this.B.b, stride: 16 }, { local: q, from: 0, stride: 16 }], body, finish };
  }

  /** ADAA, second loop: y = γ + δ·P(t) into B. */
  adaaFinish(): Stage {
    const c = this.c;
    const { t: T, d: Dl, g: G } = this.B;
    const poly = K_POLY.map((off) => this.load(off));
    const t = this.v(), t2 = this.v();
    const p = this.i32(), q = this.i32();
    const pair = (j: number) => c.localGet(poly[j]).localGet(poly[j + 1]).localGet(t).f32x4Mul().f32x4Add();
    const body = () => {
      c.localGet(q).v128Load(T).localTee(t).localGet(t).f32x4Mul().localSet(t2);
      c.localGet(p).localGet(q).v128Load(G).localGet(q).v128Load(Dl);
      // P by Estrin's scheme: (p01 + p23·t²) + t⁴·(p45 + p67·t²)
      pair(0);
      pair(2).localGet(t2).f32x4Mul().f32x4Add();
      pair(4);
      pair(6).localGet(t2).f32x4Mul().f32x4Add();
      c.localGet(t2).localGet(t2).f32x4Mul().f32x4Mul().f32x4Add();
      // y = γ + δ·P
      c.f32x4Mul().f32x4Add().v128Store();
    };
    return { cursors: [{ local: p, from: this.B.b, stride: 16 }, { local: q, from: 0, stride: 16 }], body };
  }

  /**
   * B → A: ↓2 — the odd sample through the even-coefficient path, the even one through the odd
   * path, out = (a + b)/2; without `filter` the even sample only.
   */
  downsample(filter: boolean): Stage {
    const c = this.c;
    const coef = K_HB.map((off) => this.load(off));
    const half = this.load(K_HALF), prev = this.load(S_DOWN_IN);
    const ys = S_DOWN_Y.map((off) => this.load(off));
    const x = this.v();
    const t = [this.v(), this.v(), this.v()];
    const pa = this.i32(), pb = this.i32();
    const body = () => {
      c.localGet(pa);
      if (filter) {
        c.localGet(pb).v128Load().localTee(x).localGet(x).i32x4Shuffle(2, 3, 0, 1).localSet(x);
        this.allpass(x, prev, coef, ys, t);
        c.localGet(x).localGet(x).localGet(x).i32x4Shuffle(2, 3, 0, 1).f32x4Add().localGet(half).f32x4Mul();
      } else c.localGet(pb).v128Load();
      c.f64x2PromoteLowF32x4().v128Store();
    };
    const finish = () => {
      this.store(S_DOWN_IN, prev);
      S_DOWN_Y.forEach((off, k) => this.store(off, ys[k]));
    };
    return { cursors: [{ local: pa, from: this.B.a, stride: 16 }, { local: pb, from: this.B.b, stride: 16 }], body, finish };
  }

  /** A, DRY → channels: DC blocker, tone high-pass and low-pass, × make-up × wet gain, + dry. */
  output(): Stage {
    const c = this.c;
    const B = this.B;
    const dcR = this.load(P_DC_R), dx = this.load(S_DC_X), dy = this.load(S_DC_Y);
    const th = this.load(P_TONE_H), tm = this.load(P_TONE_M), tb = this.load(P_TONE_B), hs = this.load(S_TONE_HP);
    const lp = this.twoPoleCoefs(P_LP);
    const s1 = this.load(S_LP1), s2 = this.load(S_LP2);
    const mk = this.load(P_MAKEUP), dmk = this.load(P_MAKEUP_STEP), w = this.load(P_WET), dw = this.load(P_WET_STEP);
    const x = this.v(), h = this.v(), tmp = this.v();
    const pl = this.i32(), pa = this.i32();
    c.localGet(mk).localGet(dmk).f64x2Add().localSet(mk);
    c.localGet(w).localGet(dw).f64x2Add().localSet(w);
    const body = () => {
      // DC blocker: dy = x − dx + R·dy
      c.localGet(pa).v128Load().localTee(x).localGet(dx).f64x2Sub().localGet(dcR).localGet(dy).f64x2Mul().f64x2Add().localSet(dy);
      c.localGet(x).localSet(dx);
      // Tone high-pass: h = (1 − G)·(dy − s), s ← (1 − 2G)·s + 2G·dy
      c.localGet(th).localGet(dy).localGet(hs).f64x2Sub().f64x2Mul().localSet(h);
      c.localGet(tm).localGet(hs).f64x2Mul().localGet(tb).localGet(dy).f64x2Mul().f64x2Add().localSet(hs);
      // Tone low-pass; out = lp·make-up·wet gain + the dry part
      this.twoPoleStep(lp, h, s1, s2, tmp);
      c.localGet(mk).f64x2Mul().localGet(w).f64x2Mul();
      c.localGet(pa).v128Load(B.dry - B.a).f64x2Add().f32x4DemoteF64x2Zero().localSet(x);
      c.localGet(pl).localGet(x).f32x4ExtractLane(0).f32Store();
      c.localGet(pl).localGet(x).f32x4ExtractLane(1).f32Store(B.inR - B.inL);
      c.localGet(mk).localGet(dmk).f64x2Add().localSet(mk);
      c.localGet(w).localGet(dw).f64x2Add().localSet(w);
    };
    const finish = () => {
      this.store(S_DC_X, dx);
      this.store(S_DC_Y, dy);
      this.store(S_TONE_HP, hs);
      this.store(S_LP1, s1);
      this.store(S_LP2, s2);
    };
    return { cursors: [{ local: pl, from: B.inL, offset: true, stride: 4 }, { local: pa, from: B.a, stride: 16 }], body, finish };
  }

  /** Denormal / NaN guard: each slot keeps x where |x| > 1e-20, else 0 (f64x2 or f32x4 slots). */
  flush(f64Slots: readonly number[], f32Slots: readonly number[]): void {
    const c = this.c;
    const x = this.v();
    for (const [slots, lim, mask, lt] of [
      [f64Slots, this.load(K_FLUSH64), this.load(K_ABS64), () => c.f64x2Lt()],
      [f32Slots, this.load(K_FLUSH), this.load(K_ABS), () => c.f32x4Lt()],
    ] as const) {
      for (const off of slots) {
        c.i32Const(0).v128Load(off).localSet(x);
        c.i32Const(0).localGet(x).localGet(lim).localGet(x).localGet(mask).v128And();
        lt();
        c.v128And().v128Store(off);
      }
    }
  }
}

function runCode(B: Buffers, oversample: boolean, adaa: boolean): KernelCode {
  const k = new KernelCode(B);
  k.run(k.highpass());
  k.run(k.upsample(oversample));
  if (adaa) {
    k.run(k.adaaPrepare());
    k.run(k.adaaFinish());
  } else k.run(k.plainShaper());
  k.run(k.downsample(oversample));
  k.run(k.output());
  k.flush([S_HP1, S_HP2, S_DC_X, S_DC_Y, S_TONE_HP, S_LP1, S_LP2], [S_UP_IN, ...S_UP_Y, S_DOWN_IN, ...S_DOWN_Y]);
  return k;
}

/** The compiled kernel over its memory. */
export interface Kernel {
  /** f64 view of the whole memory (f64x2 slot at byte offset `off`: lanes `off/8`, `off/8 + 1`). */
  readonly f64: Float64Array;
  /** f32 view of the whole memory (f32x4 slot at `off`: lanes `off/4` … `off/4 + 3`). */
  readonly f32: Float32Array;
  /** The channel buffers, `maxBlock` frames each. */
  readonly left: Float32Array;
  readonly right: Float32Array;
  /** Processes frames [off, off + n) of `left`/`right` in place. */
  readonly run: (off: number, n: number) => void;
}

/** Builds and instantiates the kernel for up to `maxBlock` frames per call. Allocates. */
export function buildKernel(maxBlock: number, oversample: boolean, adaa: boolean): Kernel {
  const B = buffers(maxBlock);
  const m = new WasmModule().memory(Math.ceil(B.bytes / 65536));
  const k = runCode(B, oversample, adaa);
  m.func('run', [I32, I32], [], k.locals as never, k.c);
  const { exports, memory } = m.instantiate();
  const buffer = (memory as WasmMemory).buffer;
  const f64 = new Float64Array(buffer);
  const f32 = new Float32Array(buffer);
  const i32 = new Int32Array(buffer);
  const put64 = (off: number, value: number) => f64.fill(value, off / 8, off / 8 + 2);
  const put32 = (off: number, a: number, b = a) => f32.set([a, a, b, b], off / 4);
  put64(K_FLUSH64, 1e-20);
  put64(K_TINY64, 1e-30);
  i32.set([-1, 0x7fffffff, -1, 0x7fffffff], K_ABS64 / 4);
  put32(K_FLUSH, 1e-20);
  i32.fill(0x7fffffff, K_ABS / 4, K_ABS / 4 + 4);
  i32.fill(-0x80000000, K_SIGN / 4, K_SIGN / 4 + 4);
  put32(K_EPS, 1e-30);
  put32(K_ONE, 1);
  put32(K_THREE, 3);
  put32(K_MINUS_THREE, -3);
  put32(K_SIX, 6);
  put32(K_27, 27);
  put32(K_9, 9);
  put32(K_EIGHTEENTH, 1 / 18);
  put32(K_HALF, 0.5);
  put32(K_LIMIT, 1e9);
  K_HB.forEach((off, s) => put32(off, OVERSAMPLER_COEFS[2 * s], OVERSAMPLER_COEFS[2 * s + 1]));
  K_POLY.forEach((off, j) => put32(off, ADAA_POLY[j]));
  return {
    f64,
    f32,
    left: new Float32Array(buffer, B.inL, maxBlock),
    right: new Float32Array(buffer, B.inR, maxBlock),
    run: exports.run as (off: number, n: number) => void,
  };
}
