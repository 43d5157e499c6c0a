/**
 * The SDK's WebAssembly assembler (plugin-sdk/dsp/wasm.ts): modules build, validate and compute what
 * the instructions say — integer and float scalars, control flow, memory, and the SIMD subset.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, compiledKernelCount, F32, F64, I32, V128, WasmModule } from '../../plugin-sdk/dsp/wasm.ts';

test('scalar arithmetic, locals and a loop: sum of 0..n-1', () => {
  const c = new Code();
  // (n) → Σ i for i < n, with a local counter and accumulator.
  c.block().loop();
  c.localGet(1).localGet(0).i32GeS().brIf(1);
  c.localGet(2).localGet(1).i32Add().localSet(2);
  c.localGet(1).i32Const(1).i32Add().localSet(1);
  c.br(0);
  c.end().end();
  c.localGet(2);
  const m = new WasmModule();
  m.func('sum', [I32], [I32], [I32, I32], c);
  const f = m.instantiate().exports.sum as (n: number) => number;
  assert.equal(f(10), 45);
  assert.equal(f(1000), 499500);
  assert.equal(f(-5), 0);
});

test('f64 and f32 constants, conversions and select', () => {
  const c = new Code();
  // x ≥ 0.5 ? trunc(x · 64) : -1 (as f64), then + 0.25 (f32 promoted)
  c.localGet(0).f64Const(64).f64Mul().i32TruncF64S().i32Const(-1).localGet(0).f64Const(0.5).f64Ge().select().f64ConvertI32S();
  c.f32Const(0.25).f64PromoteF32().f64Add();
  const m = new WasmModule();
  m.func('f', [F64], [F64], [], c);
  const f = m.instantiate().exports.f as (x: number) => number;
  assert.equal(f(0.75), 48.25);
  assert.equal(f(0.25), -0.75);
});

test('memory and SIMD: f32x4 arithmetic, shuffles, lanes, comparisons, f64x2 and bitmasks', () => {
  const m = new WasmModule().memory(1);
  const c = new Code();
  // mem[16..32) = (mem[0..16) · 2 + 1) shuffled by lanes (3, 2, 1, 0); returns the f32x4 ≥ 4 bitmask.
  c.i32Const(16).i32Const(0).v128Load().f32x4Const(2, 2, 2, 2).f32x4Mul().f32Const(1).f32x4Splat().f32x4Add().localTee(0);
  c.localGet(0).i32x4Shuffle(3, 2, 1, 0).v128Store();
  c.localGet(0).f32Const(4).f32x4Splat().f32x4Ge().i32x4Bitmask();
  m.func('f', [], [I32], [V128], c);
  const d = new Code();
  // f64x2 (a, b) + 1 ≥ 1.5 → i64x2 bitmask; demoted lane 1 written to mem[32].
  d.i32Const(32).localGet(0).f64x2Splat().localGet(1).f64x2ReplaceLane(1).f64x2Const(1, 1).f64x2Add().localTee(2).f32x4DemoteF64x2Zero().f32x4ExtractLane(1).f32Store();
  d.localGet(2).f64x2Const(1.5, 1.5).f64x2Ge().i64x2Bitmask();
  m.func('g', [F64, F64], [I32], [V128], d);
  const { exports, memory } = m.instantiate();
  const f32 = new Float32Array(memory!.buffer);
  f32.set([0, 1, 2, 3]);
  assert.equal((exports.f as () => number)(), 0b1100);
  assert.deepEqual(Array.from(f32.subarray(4, 8)), [7, 5, 3, 1]);
  assert.equal((exports.g as (a: number, b: number) => number)(0.25, 0.75), 0b10);
  assert.equal(f32[8], 1.75);
});

test('an ill-typed body is refused by the engine when compiling', () => {
  const c = new Code();
  c.f32Const(1).i32Const(1).i32Add();
  const m = new WasmModule();
  m.func('bad', [], [I32], [], c);
  assert.throws(() => m.instantiate(), /CompileError|expected type/);
});

test('identical kernels are compiled once and instantiated apart; a changed kernel compiles anew', () => {
  /** A kernel that stores `x · k` at address 0 and returns what was there before. */
  const kernel = (k: number) => {
    const c = new Code();
    c.i32Const(0).f32Load(0, 2);
    c.i32Const(0).localGet(0).f32Const(k).f32Mul().f32Store(0, 2);
    const m = new WasmModule().memory(1);
    m.func('swap', [F32], [F32], [], c);
    return m.instantiate().exports.swap as (x: number) => number;
  };
  const before = compiledKernelCount();
  const a = kernel(3);
  const b = kernel(3);
  assert.equal(compiledKernelCount(), before + 1, 'the same bytes: one compiled module');
  assert.equal(a(2), 0);
  assert.equal(b(5), 0, 'separate instances: separate memories');
  assert.equal(a(0), 6);
  assert.equal(b(0), 15);
  const c = kernel(4);
  assert.equal(compiledKernelCount(), before + 2, 'other bytes: compiled again');
  assert.equal(c(2), 0);
  assert.equal(c(0), 8);
});
