/**
 * The WAV writer's int24 conversion of two channels in WebAssembly: the same numbers as `quantize24`
 * (writer.ts) — float64 x·8388607, floor(y + 0.5), clipped to ±8388607, NaN → 0 — each sample
 * stored as a little-endian 32-bit word 3 bytes after the previous one (its high byte overwritten
 * by the next). About eight times faster than the JS loop; the bytes are the same.
 *
 * The module has its memory of its own: a piece of up to PIECE frames of each channel is copied in,
 * converted, and its bytes copied out. Thread: the control thread (the writer's); allocates views.
 */
import { Code, I32, WasmModule, type WasmMemory } from '../dsp/wasm.ts';

/** Frames converted per call. */
const PIECE = 1024;
const L_AT = 0;
const R_AT = 4 * PIECE;
const OUT_AT = 8 * PIECE;
/** Input floats, then the output bytes (6 per frame) and the spare byte of the last word. */
const BYTES = OUT_AT + 6 * PIECE + 4;

/** `enc(n)`: frames [0, n) of the two input channels into bytes [0, 6n) of the output. */
function encodeCode(): Code {
  const N = 0, I = 1, O = 2;
  const c = new Code();
  const sample = (input: number, at: number) => {
    c.localGet(O);
    c.localGet(I).i32Const(2).i32Shl().f32Load(input).f64PromoteF32().f64Const(8388607).f64Mul();
    c.f64Const(0.5).f64Add().f64Floor().f64Const(8388607).f64Min().f64Const(-8388607).f64Max().i32TruncSatF64S();
    c.i32Store(OUT_AT + at, 0);
  };
  c.block().loop();
  c.localGet(I).localGet(N).i32GeS().brIf(1);
  sample(L_AT, 0);
  sample(R_AT, 3);
  c.localGet(I).i32Const(1).i32Add().localSet(I);
  c.localGet(O).i32Const(6).i32Add().localSet(O);
  c.br(0);
  c.end().end();
  return c;
}

export class Int24StereoEncoder {
  private readonly fn: (n: number) => void;
  private readonly l: Float32Array;
  private readonly r: Float32Array;
  private readonly out: Uint8Array;

  constructor() {
    const m = new WasmModule().memory(Math.ceil(BYTES / 65536));
    m.func('enc', [I32], [], [I32, I32], encodeCode());
    const { exports, memory } = m.instantiate();
    const buffer = (memory as WasmMemory).buffer;
    this.fn = exports.enc as (n: number) => void;
    this.l = new Float32Array(buffer, L_AT, PIECE);
    this.r = new Float32Array(buffer, R_AT, PIECE);
    this.out = new Uint8Array(buffer, OUT_AT, 6 * PIECE);
  }

  /** Frames [start, start + frames) of `l` and `r` as int24 into `dst` from byte `at` (6 bytes a frame). */
  encode(dst: Uint8Array, at: number, l: Float32Array, r: Float32Array, start: number, frames: number): void {
    for (let done = 0; done < frames; done += PIECE) {
      const n = Math.min(PIECE, frames - done);
      const from = start + done;
      this.l.set(l.subarray(from, from + n));
      this.r.set(r.subarray(from, from + n));
      this.fn(n);
      dst.set(this.out.subarray(0, 6 * n), at + 6 * done);
    }
  }
}
