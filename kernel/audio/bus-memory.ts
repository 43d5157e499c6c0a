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

export class BusMemory {
  private readonly buffer: ArrayBuffer;
  private readonly maxBlock: number;
  private readonly channelBytes: number;
  /** Byte offsets of the free channels (the lowest on top). */
  private readonly free: number[] = [];
  private readonly checkFn: (l: number, r: number, bytes: number) => number;

  constructor(maxBlock: number) {
    this.maxBlock = maxBlock;
    this.channelBytes = Math.ceil((4 * maxBlock) / 16) * 16;
    const m = new WasmModule().memory(Math.ceil((CHANNELS * this.channelBytes) / PAGE));
    m.func('check', [I32, I32, I32], [I32], [I32, V128, V128, V128, V128, V128], checkCode());
    const { exports, memory } = m.instantiate();
    if (memory === null) throw new Error('bus memory: the module has no memory');
    this.buffer = memory.buffer as ArrayBuffer;
    this.checkFn = exports.check as (l: number, r: number, bytes: number) => number;
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
}
