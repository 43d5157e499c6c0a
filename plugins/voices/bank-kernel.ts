/**
 * The voice bank's WebAssembly SIMD code (built once by VoiceBank's constructor with plugin-sdk's
 * wasm assembler). `render`, per group of 4 lanes and per sample — one pass, nothing written back to
 * the voice buffers:
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
 *     acc[k] += o (4 lanes), peak = max(peak, |o|); with per-voice sends also, per send bus j,
 *       accS_j[k] += o·(level_j + k·step_j)  (one accumulator per send bus the plugin feeds)
 *
 * and at the end of each call flushes denormals and NaN from the filter state. `mix` then sums the
 * lanes of acc per sample into mono outputs.
 *
 * Rendering two groups per loop iteration, or the oscillators and the filters in two passes, measured
 * no faster: the loop is bound by instruction throughput (V8 spills the 20-odd live vectors), not by
 * the filter's dependency chain.
 */
import { BLEP_LATENCY, BLEP_PHASES, BLEP_TAPS, Code, F32, F64, I32, V128 } from 'plugin-sdk';
import { C1, C2, D, GAIN, GINC, IC1, IC2, INC01, INC23, K_LANE, K_ONE, K_ONE64, M11, M22, P01, P23, PEAK, sendLevel, sendStep, type Layout } from './bank-layout.ts';

const Z = BLEP_LATENCY;
const TAPS = BLEP_TAPS;
const PHASES = BLEP_PHASES;

/** A function's code and the types of its locals (after its parameters). */
export interface Built {
  code: Code;
  locals: number[];
}

/**
 * `render`'s local indices: params 0 g, 1 s, 2 e, then i32, v128, f64, f32 locals in that order;
 * `sends[j]`: send bus j's level and step (v128 locals).
 */
function renderLocals(sendCount: number) {
  let next = 11;
  const v = () => next++;
  const R = {
    g: 0,
    s: 1,
    e: 2,
    gr: 3,
    wk: 4,
    wend: 5,
    acck: 6,
    ph: 7,
    rowp: 8,
    lane: 9,
    lag: 10,
    p01: v(), p23: v(), inc01: v(), inc23: v(), a: v(), z: v(),
    m11: v(), m12: v(), m22: v(), b1: v(), b2: v(), c1: v(), c2: v(), d: v(),
    gain: v(), ginc: v(), hi: v(), lo: v(), x: v(), y: v(), n1: v(), o: v(), mk01: v(), mk23: v(), pf: v(),
    t: v(), nk: v(), mask: v(),
    // Constants, loaded from memory into locals: a v128.const would be rebuilt at every use in the loop.
    one64: v(), one32: v(),
    sends: Array.from({ length: sendCount }, () => ({ level: v(), step: v() })),
    xf: 0,
    af: 0,
  };
  const vectors = next - 11;
  R.xf = next++;
  R.af = next++;
  const types = [...Array(8).fill(I32), ...Array(vectors).fill(V128), F64, F32];
  return { R, types };
}

type Locals = ReturnType<typeof renderLocals>['R'];

/** `render(g, s, e)`: one group over block frames [s, e). `sends`: also the per-lane send accumulators. */
export function renderCode(L: Layout, sends: boolean): Built {
  const { R, types } = renderLocals(sends ? L.sends : 0);
  const c = new Code();
  loadGroup(c, L, R, sends);
  // The group's look-ahead into W rows [s, s + TAPS) (every other row of W is 0 between calls).
  for (let i = 0; i < TAPS; i++) c.localGet(R.wk).localGet(R.lag).v128Load(16 * i).v128Store(16 * i);
  c.block().loop();
  c.localGet(R.wk).localGet(R.wend).i32GeS().brIf(1);
  wrapPhases(c, L, R);
  sample(c, L, R, sends);
  c.localGet(R.wk).i32Const(16).i32Add().localSet(R.wk);
  c.localGet(R.acck).i32Const(16).i32Add().localSet(R.acck);
  c.br(0);
  c.end().end();
  storeGroup(c, R);
  return { code: c, locals: types };
}

/** The group record into locals; pointers to its first W row, accumulator row and look-ahead. */
function loadGroup(c: Code, L: Layout, R: Locals, sends: boolean): void {
  // gr = groups + g·GS; state into locals.
  c.localGet(R.g).i32Const(L.gs).i32Mul().i32Const(L.groups).i32Add().localSet(R.gr);
  const load = (local: number, off: number) => c.localGet(R.gr).v128Load(off).localSet(local);
  load(R.p01, P01);
  load(R.p23, P23);
  load(R.inc01, INC01);
  load(R.inc23, INC23);
  load(R.a, IC1);
  load(R.z, IC2);
  load(R.m11, M11);
  load(R.m22, M22);
  load(R.c1, C1);
  load(R.c2, C2);
  load(R.d, D);
  c.localGet(R.c1).localGet(R.c1).f32x4Add().localTee(R.b1).f32x4Neg().localSet(R.m12);
  c.localGet(R.d).localGet(R.d).f32x4Add().localSet(R.b2);
  load(R.gain, GAIN);
  load(R.ginc, GINC);
  c.f32x4Const(0, 0, 0, 0).localTee(R.hi).localTee(R.lo).localSet(R.nk);
  c.i32Const(0).v128Load(L.consts + K_ONE64).localSet(R.one64);
  c.i32Const(0).v128Load(L.consts + K_ONE).localSet(R.one32);
  if (sends) {
    R.sends.forEach((s, j) => {
      load(s.level, sendLevel(j));
      load(s.step, sendStep(j));
    });
  }
  // wk = w + 16·s; wend = w + 16·e; acck = accM + 16·s; lag = la + g·16·TAPS.
  c.localGet(R.s).i32Const(4).i32Shl().i32Const(L.w).i32Add().localSet(R.wk);
  c.localGet(R.e).i32Const(4).i32Shl().i32Const(L.w).i32Add().localSet(R.wend);
  c.localGet(R.s).i32Const(4).i32Shl().i32Const(L.accM).i32Add().localSet(R.acck);
  c.localGet(R.g).i32Const(16 * TAPS).i32Mul().i32Const(L.la).i32Add().localSet(R.lag);
}

/** Phase (float64, exact like Oscillator's): lanes reaching 1 wrap and get the BLEP residual of a step of −2. */
function wrapPhases(c: Code, L: Layout, R: Locals): void {
  c.localGet(R.p01).localGet(R.inc01).f64x2Add().localTee(R.p01).localGet(R.one64).f64x2Ge().localSet(R.mk01);
  c.localGet(R.p23).localGet(R.inc23).f64x2Add().localTee(R.p23).localGet(R.one64).f64x2Ge().localSet(R.mk23);
  c.localGet(R.mk01).localGet(R.mk23).v128Or().i32x4Bitmask().if();
  {
    c.localGet(R.p01).localGet(R.mk01).localGet(R.one64).v128And().f64x2Sub().localSet(R.p01);
    c.localGet(R.p23).localGet(R.mk23).localGet(R.one64).v128And().f64x2Sub().localSet(R.p23);
    // One pass per wrapped lane, lowest first (one code path for every lane: no per-lane branch to
    // mispredict). The phases go to the group record (written back at the end anyway) so the lane's
    // phase and increment load by index.
    c.localGet(R.gr).localGet(R.p01).v128Store(P01);
    c.localGet(R.gr).localGet(R.p23).v128Store(P23);
    c.localGet(R.mk01).i64x2Bitmask().localGet(R.mk23).i64x2Bitmask().i32Const(2).i32Shl().i32Or().localSet(R.ph);
    c.loop();
    addResidual(c, L, R);
    c.localGet(R.ph).localGet(R.ph).i32Const(1).i32Sub().i32And().localTee(R.ph).brIf(0);
    c.end();
  }
  c.end();
}

/** The BLEP residual of the lowest lane in the wrap mask `ph`, added into its W rows [k, k + TAPS). */
function addResidual(c: Code, L: Layout, R: Locals): void {
  c.localGet(R.ph).i32Ctz().localSet(R.lane);
  // frac = phase / inc ∈ [0, 1) (samples since the step), x = frac · PHASES, row ⌊x⌋, a = x − ⌊x⌋.
  c.localGet(R.lane).i32Const(3).i32Shl().localGet(R.gr).i32Add().localTee(R.rowp).f64Load(P01).localGet(R.rowp).f64Load(INC01).f64Div().f64Const(PHASES).f64Mul().localTee(R.xf);
  c.i32TruncSatF64S().localTee(R.rowp).i32Const(PHASES - 1).localGet(R.rowp).i32Const(PHASES - 1).i32LeS().select().localSet(R.rowp);
  c.localGet(R.xf).localGet(R.rowp).f64ConvertI32S().f64Sub().f32DemoteF64().localSet(R.af);
  c.localGet(R.rowp).i32Const(TAPS * 4).i32Mul().localSet(R.rowp);
  c.localGet(R.lane).i32Const(4).i32Shl().v128Load(L.consts + K_LANE).localSet(R.mask);
  for (let q = 0; q < TAPS / 4; q++) {
    // t = taps 4q … 4q+3: res + a · slope, from tables holding −2 × the SDK's (the residual of a
    // step of −2: exactly −2 · (res + a · slope)).
    c.localGet(R.rowp).v128Load(L.res + 16 * q, 2);
    c.localGet(R.af).f32x4Splat().localGet(R.rowp).v128Load(L.slo + 16 * q, 2).f32x4Mul().f32x4Add().localSet(R.t);
    for (let i = 0; i < 4; i++) {
      // Row k+4q+i += tap i in this lane (broadcast, masked), 0 in the others (whole-row access: no
      // partial stores for the next row load to trip over).
      const off = 16 * (4 * q + i);
      c.localGet(R.wk).localGet(R.wk).v128Load(off).localGet(R.t).localGet(R.t).i32x4Shuffle(i, i, i, i).localGet(R.mask).v128And().f32x4Add().v128Store(off);
    }
  }
}

/** One frame after the phase step: naive saw into W, filter, gain ramp, accumulators, peak. */
function sample(c: Code, L: Layout, R: Locals, sends: boolean): void {
  // W[k + Z] += 2·phase − 1 (the naive saw; the phase rounded to float32 first).
  c.localGet(R.p01).f32x4DemoteF64x2Zero().localGet(R.p23).f32x4DemoteF64x2Zero().i32x4Shuffle(0, 1, 4, 5).localSet(R.pf);
  c.localGet(R.wk).localGet(R.wk).v128Load(16 * Z).localGet(R.pf).localGet(R.pf).f32x4Add().localGet(R.one32).f32x4Sub().f32x4Add().v128Store(16 * Z);
  // Filter (the row read is cleared for the next call: W is shared).
  c.localGet(R.wk).v128Load().localSet(R.x);
  c.localGet(R.wk).f32x4Const(0, 0, 0, 0).v128Store();
  c.localGet(R.c1).localGet(R.a).f32x4Mul().localGet(R.c2).localGet(R.z).f32x4Mul().f32x4Add().localGet(R.d).localGet(R.x).f32x4Mul().f32x4Add().localSet(R.y);
  c.localGet(R.m11).localGet(R.a).f32x4Mul().localGet(R.m12).localGet(R.z).f32x4Mul().f32x4Add().localGet(R.b1).localGet(R.x).f32x4Mul().f32x4Add().localSet(R.n1);
  c.localGet(R.b1).localGet(R.a).f32x4Mul().localGet(R.m22).localGet(R.z).f32x4Mul().f32x4Add().localGet(R.b2).localGet(R.x).f32x4Mul().f32x4Add().localSet(R.z);
  c.localGet(R.n1).localSet(R.a);
  // gain + k·step (k counted exactly in f32; a running sum would drift by its rounding).
  c.localGet(R.y).localGet(R.gain).localGet(R.nk).localGet(R.ginc).f32x4Mul().f32x4Add().f32x4Mul().localSet(R.o);
  c.localGet(R.nk).localGet(R.one32).f32x4Add().localSet(R.nk);
  c.localGet(R.acck).localGet(R.acck).v128Load().localGet(R.o).f32x4Add().v128Store();
  // Peak: running max and min (pseudo-min/max: one instruction each).
  c.localGet(R.hi).localGet(R.o).f32x4Pmax().localSet(R.hi);
  c.localGet(R.lo).localGet(R.o).f32x4Pmin().localSet(R.lo);
  if (sends) {
    // nk was already counted up: send j's level at this frame is level_j + (nk − 1)·step_j (t = nk − 1,
    // computed for the first send and kept for the others).
    R.sends.forEach((s, j) => {
      const off = L.accS[j] - L.accM;
      c.localGet(R.acck).localGet(R.acck).v128Load(off).localGet(R.o).localGet(s.level);
      if (j === 0) c.localGet(R.nk).localGet(R.one32).f32x4Sub().localTee(R.t);
      else c.localGet(R.t);
      c.localGet(s.step).f32x4Mul().f32x4Add().f32x4Mul().f32x4Add().v128Store(off);
    });
  }
}

/** After the last frame: the look-ahead back to the group, its state written back (filter state flushed), the peak. */
function storeGroup(c: Code, R: Locals): void {
  // The look-ahead, W rows [e, e + TAPS), back to the group (and W cleared).
  for (let i = 0; i < TAPS; i++) {
    c.localGet(R.lag).localGet(R.wk).v128Load(16 * i).v128Store(16 * i);
    c.localGet(R.wk).f32x4Const(0, 0, 0, 0).v128Store(16 * i);
  }
  c.localGet(R.gr).localGet(R.p01).v128Store(P01);
  c.localGet(R.gr).localGet(R.p23).v128Store(P23);
  // Denormal / NaN guard on the filter state: |x| > 1e-20 keeps x, anything else (NaN too) becomes 0.
  for (const st of [R.a, R.z]) c.localGet(st).localGet(st).f32x4Abs().f32x4Const(1e-20, 1e-20, 1e-20, 1e-20).f32x4Gt().v128And().localSet(st);
  c.localGet(R.gr).localGet(R.a).v128Store(IC1);
  c.localGet(R.gr).localGet(R.z).v128Store(IC2);
  c.localGet(R.gr).localGet(R.hi).localGet(R.lo).f32x4Neg().f32x4Pmax().v128Store(PEAK);
}

/** `mix(s, e)`: sums the 4 lanes of acc rows [s, e) into the mono output(s) and clears the rows. */
export function mixCode(L: Layout, sends: boolean): Built {
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
  if (sends) for (let j = 0; j < L.sends; j++) hsum(L.accS[j], L.outS[j]);
  c.localGet(k).i32Const(1).i32Add().localSet(k);
  c.br(0);
  c.end().end();
  return { code: c, locals: [I32, V128] };
}

/**
 * `addInto(src, n)`: the mono output at byte offset `src` (`mix`'s) added into both channels of the
 * stereo bus copied in at `into`, frames [0, n) (n a multiple of 4). `scaled`: times the level at
 * `intoLevel`, in float64 as the JS `bus += src · level` does (the product and the sum rounded to
 * float64, then the sum to float32), so the result is the same to the bit; else a float32 sum (the
 * same as `bus += src`).
 */
export function addIntoCode(L: Layout, maxBlock: number, scaled: boolean): Built {
  const SRC = 0, N = 1, K = 2, X = 3, G = 4, LO = 5, HI = 6, D = 7;
  const right = Math.ceil(maxBlock / 4) * 16;
  const c = new Code();
  if (scaled) c.i32Const(0).f64Load(L.intoLevel).f64x2Splat().localSet(G);
  c.block().loop();
  c.localGet(K).localGet(N).i32Const(2).i32Shl().i32GeS().brIf(1);
  c.localGet(SRC).localGet(K).i32Add().v128Load(0, 2).localSet(X);
  if (scaled) {
    c.localGet(X).f64x2PromoteLowF32x4().localGet(G).f64x2Mul().localSet(LO);
    c.localGet(X).localGet(X).i32x4Shuffle(2, 3, 2, 3).f64x2PromoteLowF32x4().localGet(G).f64x2Mul().localSet(HI);
  }
  for (const off of [0, right]) {
    c.localGet(K); // the address of the store
    if (scaled) {
      c.localGet(K).v128Load(L.into + off, 2).localTee(D).f64x2PromoteLowF32x4().localGet(LO).f64x2Add().f32x4DemoteF64x2Zero();
      c.localGet(D).localGet(D).i32x4Shuffle(2, 3, 2, 3).f64x2PromoteLowF32x4().localGet(HI).f64x2Add().f32x4DemoteF64x2Zero();
      c.i32x4Shuffle(0, 1, 4, 5);
    } else {
      c.localGet(K).v128Load(L.into + off, 2).localGet(X).f32x4Add();
    }
    c.v128Store(L.into + off, 2);
  }
  c.localGet(K).i32Const(16).i32Add().localSet(K);
  c.br(0);
  c.end().end();
  return { code: c, locals: [I32, V128, V128, V128, V128, V128] };
}
