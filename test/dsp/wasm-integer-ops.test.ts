/**
 * Integer instructions of the SDK's WebAssembly assembler used by the voice bank's kernel:
 * `i32.ctz` (its loop over the lanes of a wrap bitmask) and `i32.trunc_sat_f64_s` (a BLEP table
 * row from a phase fraction, without the trap check of `i32.trunc_f64_s`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, F64, I32, WasmModule } from '../../plugin-sdk/dsp/wasm.ts';

test('i32.ctz counts trailing zero bits (32 for 0)', () => {
  const c = new Code();
  c.localGet(0).i32Ctz();
  const m = new WasmModule();
  m.func('ctz', [I32], [I32], [], c);
  const ctz = m.instantiate().exports.ctz as (x: number) => number;
  assert.equal(ctz(1), 0);
  assert.equal(ctz(0b1000), 3);
  assert.equal(ctz(0b1100), 2);
  assert.equal(ctz(-2147483648), 31);
  assert.equal(ctz(0), 32);
});

test('i32.trunc_sat_f64_s truncates toward zero and saturates instead of trapping', () => {
  const c = new Code();
  c.localGet(0).i32TruncSatF64S();
  const m = new WasmModule();
  m.func('trunc', [F64], [I32], [], c);
  const trunc = m.instantiate().exports.trunc as (x: number) => number;
  assert.equal(trunc(63.999), 63);
  assert.equal(trunc(0.5), 0);
  assert.equal(trunc(-2.7), -2);
  assert.equal(trunc(1e12), 2147483647);
  assert.equal(trunc(-1e12), -2147483648);
  assert.equal(trunc(NaN), 0);
});
