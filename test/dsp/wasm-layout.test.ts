/**
 * The assembler's binary byte for byte: sections, LEB128 sizes past one byte, run-length encoded
 * locals and bodies longer than the buffer's first allocation, against the format written out by hand
 * here. A kernel's bytes decide the machine code it compiles to, so a render stays bit-identical only
 * while the layout does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, F32, F64, I32, V128, WasmModule } from '../../plugin-sdk/dsp/wasm.ts';

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
};
const str = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s)];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

test('a module is laid out as the binary format says: types, functions, memory, exports, code', () => {
  // f(a, b) = a + b + 300 repeated 60 times (a body of ~430 bytes: two-byte sizes, buffer growth).
  const add = new Code().localGet(0).localGet(1).i32Add();
  for (let i = 0; i < 60; i++) add.i32Const(300).i32Add();
  const addBody = [0x20, 0, 0x20, 1, 0x6a];
  for (let i = 0; i < 60; i++) addBody.push(0x41, 0xac, 0x02, 0x6a);
  // g(): locals f64 f64 i32 v128 v128 v128 f32, a constant, a SIMD op with a two-byte opcode, a store.
  const g = new Code().i32Const(-1).f64Const(0.5).f64x2Splat().v128Store(16, 4).i32Const(0).f32Const(1).f32Store(200, 2);
  const gBody = [0x41, 0x7f, 0x44, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0xfd, 0x14, 0xfd, 0x0b, 4, 16, 0x41, 0, 0x43, 0, 0, 0x80, 0x3f, 0x38, 2, 0xc8, 0x01];
  assert.deepEqual(add.bytes, addBody);
  assert.deepEqual(g.bytes, gBody);

  const m = new WasmModule().memory(3);
  m.func('add', [I32, I32], [I32], [], add);
  m.func('g', [], [], [F64, F64, I32, V128, V128, V128, F32], g);
  const locals = [4, 2, F64, 1, I32, 3, V128, 1, F32];
  const expected = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [2, 0x60, 2, I32, I32, 1, I32, 0x60, 0, 0]),
    ...section(3, [2, 0, 1]),
    ...section(5, [1, 0x00, 3]),
    ...section(7, [3, ...str('add'), 0x00, 0, ...str('g'), 0x00, 1, ...str('memory'), 0x02, 0x00]),
    ...section(10, [2, ...uleb(addBody.length + 2), 0, ...addBody, 0x0b, ...uleb(gBody.length + locals.length + 1), ...locals, ...gBody, 0x0b]),
  ];
  assert.deepEqual([...m.build()], expected);
  // And the engine takes it.
  const { exports } = m.instantiate();
  assert.equal((exports.add as (a: number, b: number) => number)(1, 2), 3 + 60 * 300);
});

test('v128 constants are their lanes little-endian after the opcode', () => {
  const f32 = Buffer.alloc(16);
  [1, -2, 0.1, 3e38].forEach((v, i) => f32.writeFloatLE(v, i * 4));
  const f64 = Buffer.alloc(16);
  [1.5, -0.1].forEach((v, i) => f64.writeDoubleLE(v, i * 8));
  const c = new Code().f32x4Const(1, -2, 0.1, 3e38).f64x2Const(1.5, -0.1).f64Const(-0.1);
  assert.deepEqual(c.bytes, [0xfd, 0x0c, ...f32, 0xfd, 0x0c, ...f64, 0x44, ...f64.subarray(8)]);
});
