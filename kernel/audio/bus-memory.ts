/**
 * The kernel's buses in WebAssembly memory, so that the check after a plugin's call (bus-check.ts)
 * reads four samples at a time (f32x4: |x| < 64, false for NaN, and-ed over the span) instead of
 * one (measured alone, 8 checks of 256 frames a block for 11,250 blocks: ~11 ms, 42–60 ms in JS). Measured on a 32-voice reference render: the check was 6.6 % of the render in JS.
 *
 * The memory holds CHANNELS channels of `maxBlock` floats and never grows (growing would detach every
 * bus view a plugin holds), so a bus beyond its capacity is a plain pair of Float32Arrays that the
 * check reads in JS. A bus's channels are views at a fixed place for as long as the bus lives.
 *
 * Thread: the audio thread's engine. The constructor allocates (between blocks, as `AudioEngine` is
 * made); `take` and `give` run between blocks (a bus made or dropped); `check` is allocation-free.
 */
import type { Bus } from '../../plugin-sdk/types.ts';
import { Code, I32, V128, WasmModule } from '../../plugin-sdk/dsp/wasm.ts';

/** Channels the memory holds: 64 stereo buses (an engine with every plugin uses about 20). */
const CHANNELS = 128;
const PAGE = 65536;
/** After the channels: `clip`'s peaks (2 × f32x4) and sum of squares (f64x2). */
const STATS_BYTES = 48;

/**
 * One output sample clipped to ±1, NaN → 0 (what `clip` does four at a time). Every comparison runs
 * on an in-range sample, so none is first met late (the first clipped sample), when it would throw
 * away V8's optimised code of the whole block.
 */
export function clipSample(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
}

/** Adds frames [start, end) of `l` and `r` to `meters`: [0], [1] the peak |x| of each (a max), [2] the sum of squares. */
export function addMeters(l: Float32Array, r: Float32Array, start: number, end: number, meters: Float64Array): void {
  let peakL = meters[0];
  let peakR = meters[1];
  let sq = meters[2];
  for (let i = start; i < end; i++) {
    const a = l[i];
    const b = r[i];
    const aa = a < 0 ? -a : a;
    const bb = b < 0 ? -b : b;
    if (aa > peakL) peakL = aa;
    if (bb > peakR) peakR = bb;
    sq += a * a + b * b;
  }
  meters[0] = peakL;
  meters[1] = peakR;
  meters[2] = sq;
}

/** A bus in the memory: its channels and their byte offsets there. */
export interface MemoryBus {
  bus: Bus;
  lp: number;
  rp: number;
}

/**
 * `check(l, r, bytes)`: 1 when every float of both channels' first `bytes` (a multiple of 32) is
 * within ±64 and not NaN. Eight frames an iteration, four accumulators (independent and-chains).
 */
function checkCode(): Code {
  const L = 0, R = 1, N = 2, I = 3, LIM = 4;
  const OK = [5, 6, 7, 8];
  const c = new Code();
  for (const ok of OK) c.f32x4Const(0, 0, 0, 0).f32x4Const(0, 0, 0, 0).f32x4Ge().localSet(ok); // all lanes true
  c.f32x4Const(64, 64, 64, 64).localSet(LIM);
  c.block().loop();
  c.localGet(I).localGet(N).i32GeS().brIf(1);
  [L, R].forEach((ch, k) => {
    for (const half of [0, 1]) {
      const ok = OK[2 * k + half];
      c.localGet(ok).localGet(ch).localGet(I).i32Add().v128Load(16 * half, 2).f32x4Abs().localGet(LIM).f32x4Lt().v128And().localSet(ok);
    }
  });
  c.localGet(I).i32Const(32).i32Add().localSet(I);
  c.br(0);
  c.end().end();
  c.localGet(OK[0]).localGet(OK[1]).v128And().localGet(OK[2]).localGet(OK[3]).v128And().v128And().i32x4Bitmask().i32Const(15).i32Eq();
  return c;
}

/** `add(to, from, bytes)`: the floats at `from` added into those at `to`, `bytes` a multiple of 16. */
function addCode(): Code {
  const TO = 0, FROM = 1, N = 2, I = 3;
  const c = new Code();
  c.block().loop();
  c.localGet(I).localGet(N).i32GeS().brIf(1);
  c.localGet(TO).localGet(I).i32Add();
  c.localGet(TO).localGet(I).i32Add().v128Load(0, 2);
  c.localGet(FROM).localGet(I).i32Add().v128Load(0, 2);
  c.f32x4Add().v128Store(0, 2);
  c.localGet(I).i32Const(16).i32Add().localSet(I);
  c.br(0);
  c.end().end();
  return c;
}

/**
 * `clip(l, r, bytes, stats)`: both channels clipped to ±1 in place, NaN → 0; at `stats` the peak
 * |x| of each channel (f32x4 per channel: four lanes to reduce) and the sum of squares (f64x2).
 */
function clipCode(): Code {
  const L = 0, R = 1, N = 2, STATS = 3, I = 4, A = 5, PL = 6, PR = 7, SQ = 8, ONE = 9, MONE = 10;
  const c = new Code();
  c.f32x4Const(1, 1, 1, 1).localSet(ONE).f32x4Const(-1, -1, -1, -1).localSet(MONE);
  c.block().loop();
  c.localGet(I).localGet(N).i32GeS().brIf(1);
  for (const [ch, peak] of [[L, PL], [R, PR]]) {
    c.localGet(ch).localGet(I).i32Add().v128Load(0, 2).localGet(MONE).f32x4Max().localGet(ONE).f32x4Min().localTee(A);
    c.localGet(A).localGet(A).f32x4Ge().v128And().localSet(A); // NaN fails x ≥ x: its lane becomes 0
    c.localGet(ch).localGet(I).i32Add().localGet(A).v128Store(0, 2);
    c.localGet(peak).localGet(A).f32x4Abs().f32x4Max().localSet(peak);
    c.localGet(SQ).localGet(A).f64x2PromoteLowF32x4().localGet(A).f64x2PromoteLowF32x4().f64x2Mul().f64x2Add().localSet(SQ);
    c.localGet(A).localGet(A).i32x4Shuffle(2, 3, 2, 3).localSet(A);
    c.localGet(SQ).localGet(A).f64x2PromoteLowF32x4().localGet(A).f64x2PromoteLowF32x4().f64x2Mul().f64x2Add().localSet(SQ);
  }
  c.localGet(I).i32Const(16).i32Add().localSet(I);
  c.br(0);
  c.end().end();
  c.localGet(STATS).localGet(PL).v128Store(0, 2);
  c.localGet(STATS).localGet(PR).v128Store(16, 2);
  c.localGet(STATS).localGet(SQ).v128Store(32, 2);
  return c;
}

export class BusMemory {
  private readonly buffer: ArrayBuffer;
  private readonly maxBlock: number;
  private readonly channelBytes: number;
  /** Byte offsets of the free channels (the lowest on top). */
  private readonly free: number[] = [];
  private readonly checkFn: (l: number, r: number, bytes: number) => number;
  private readonly addFn: (to: number, from: number, bytes: number) => void;
  private readonly clipFn: (l: number, r: number, bytes: number, stats: number) => void;
  /** `clip`'s results: byte offset and views (peaks L and R as four lanes each, the sum of squares as two). */
  private readonly statsAt: number;
  private readonly statsF32: Float32Array;
  private readonly statsF64: Float64Array;

  constructor(maxBlock: number) {
    this.maxBlock = maxBlock;
    this.channelBytes = Math.ceil((4 * maxBlock) / 16) * 16;
    this.statsAt = CHANNELS * this.channelBytes;
    const m = new WasmModule().memory(Math.ceil((this.statsAt + STATS_BYTES) / PAGE));
    m.func('check', [I32, I32, I32], [I32], [I32, V128, V128, V128, V128, V128], checkCode());
    m.func('add', [I32, I32, I32], [], [I32], addCode());
    m.func('clip', [I32, I32, I32, I32], [], [I32, V128, V128, V128, V128, V128, V128], clipCode());
    const { exports, memory } = m.instantiate();
    if (memory === null) throw new Error('bus memory: the module has no memory');
    this.buffer = memory.buffer as ArrayBuffer;
    this.checkFn = exports.check as (l: number, r: number, bytes: number) => number;
    this.addFn = exports.add as (to: number, from: number, bytes: number) => void;
    this.clipFn = exports.clip as (l: number, r: number, bytes: number, stats: number) => void;
    this.statsF32 = new Float32Array(this.buffer, this.statsAt, 8);
    this.statsF64 = new Float64Array(this.buffer, this.statsAt + 32, 2);
    for (let k = CHANNELS - 1; k >= 0; k--) this.free.push(k * this.channelBytes);
  }

  /** A silent bus in the memory, or null when the memory is full. */
  take(): MemoryBus | null {
    if (this.free.length < 2) return null;
    const lp = this.free.pop() as number;
    const rp = this.free.pop() as number;
    const bus = { l: new Float32Array(this.buffer, lp, this.maxBlock), r: new Float32Array(this.buffer, rp, this.maxBlock) };
    bus.l.fill(0);
    bus.r.fill(0);
    return { bus, lp, rp };
  }

  /** A dropped bus's channels are free again (no one may use its views any more). */
  give(lp: number, rp: number): void {
    this.free.push(rp, lp);
  }

  /**
   * True when frames [start, end) of the channels at byte offsets `lp` and `rp` (views `l`, `r`) are
   * finite and within ±64 (exclusive): whole groups of eight in wasm, the rest (≤ 7 frames) here.
   */
  check(lp: number, rp: number, l: Float32Array, r: Float32Array, start: number, end: number): boolean {
    const n = end - start;
    const whole = n & ~7;
    if (whole > 0 && this.checkFn(lp + 4 * start, rp + 4 * start, 4 * whole) === 0) return false;
    for (let i = start + whole; i < end; i++) {
      const a = l[i];
      const b = r[i];
      if (!(a > -64 && a < 64 && b > -64 && b < 64)) return false;
    }
    return true;
  }

  /**
   * Adds frames [start, end) of the channel at byte offset `fromAt` (view `from`) into the one at
   * `toAt` (view `to`): whole groups of four in wasm, the rest (≤ 3 frames) here. The same float32
   * sums as `to[i] += from[i]` (a float64 sum of two floats rounds to the same float).
   */
  add(toAt: number, fromAt: number, to: Float32Array, from: Float32Array, start: number, end: number): void {
    const whole = (end - start) & ~3;
    if (whole > 0) this.addFn(toAt + 4 * start, fromAt + 4 * start, 4 * whole);
    for (let i = start + whole; i < end; i++) to[i] += from[i];
  }

  /**
   * Frames [0, frames) of the channels at byte offsets `lp`, `rp` (views `l`, `r`) clipped to ±1 in
   * place, NaN → 0: whole groups of four in wasm, the rest here. Into `meters`: the peak |x| of each
   * channel and the sum of squares of both (its last bits depend on the order of the sum).
   */
  clip(lp: number, rp: number, l: Float32Array, r: Float32Array, frames: number, meters: Float64Array): void {
    const whole = frames & ~3;
    const st = this.statsF32;
    meters.fill(0);
    if (whole > 0) {
      this.clipFn(lp, rp, 4 * whole, this.statsAt);
      meters[0] = Math.max(st[0], st[1], st[2], st[3]);
      meters[1] = Math.max(st[4], st[5], st[6], st[7]);
      meters[2] = this.statsF64[0] + this.statsF64[1];
    }
    for (let i = whole; i < frames; i++) {
      l[i] = clipSample(l[i]);
      r[i] = clipSample(r[i]);
    }
    addMeters(l, r, whole, frames, meters);
  }
}
