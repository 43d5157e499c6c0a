/** The kernel's check of a plugin's buses: the integer (bit-pattern) test refuses exactly what the float test refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busBits, saneBus } from '../../kernel/audio/bus-check.ts';
import { BusMemory } from '../../kernel/audio/bus-memory.ts';

const VALUES = [0, -0, 1e-40, 0.5, -1, 63.99999, -63.99999, 64, -64, 64.00001, 1e30, -1e30, Infinity, -Infinity, NaN];

test('saneBus refuses |x| ≥ 64, ±Infinity and NaN on either channel, at any frame, and accepts the rest', () => {
  const memory = new BusMemory(256);
  for (const x of VALUES) {
    const expected = x > -64 && x < 64;
    for (const side of ['l', 'r'] as const) {
      for (const at of [0, 7, 255]) {
        const bus = { l: new Float32Array(256).fill(0.25), r: new Float32Array(256).fill(-0.25) };
        bus[side][at] = x;
        assert.equal(saneBus(bus, busBits(bus), 0, 256), expected, `${x} in ${side}[${at}] (integer views)`);
        assert.equal(saneBus(bus, undefined, 0, 256), expected, `${x} in ${side}[${at}] (floats)`);
        const m = memory.take();
        assert.ok(m !== null);
        m.bus.l.set(bus.l);
        m.bus.r.set(bus.r);
        const bits = busBits(m.bus, m.lp, m.rp);
        assert.equal(saneBus(m.bus, bits, 0, 256, memory), expected, `${x} in ${side}[${at}] (bus memory)`);
        // Spans of every alignment: the wasm part and the frames after it.
        for (const [s, e] of [[0, 255], [1, 256], [at, at + 1], [Math.max(0, at - 9), Math.min(256, at + 3)]]) {
          const inside = at >= s && at < e;
          assert.equal(saneBus(m.bus, bits, s, e, memory), inside ? expected : true, `${x} at ${at}, span [${s}, ${e})`);
        }
        memory.give(m.lp, m.rp);
        // Only [start, end) counts.
        assert.equal(saneBus(bus, busBits(bus), at + 1, 256), true);
      }
    }
  }
});

test('a bus whose channel arrays were replaced is checked on the arrays it holds now', () => {
  const bus = { l: new Float32Array(8), r: new Float32Array(8) };
  const bits = busBits(bus);
  bus.l = new Float32Array(8).fill(NaN);
  assert.equal(saneBus(bus, bits, 0, 8), false);
});

test('the bus memory hands out silent, separate buses until it is full, and takes them back', () => {
  const memory = new BusMemory(64);
  const taken = [];
  for (let m = memory.take(); m !== null; m = memory.take()) taken.push(m);
  assert.equal(taken.length, 64, '64 stereo buses');
  const offsets = new Set(taken.flatMap((m) => [m.lp, m.rp]));
  assert.equal(offsets.size, 128, 'no two channels share memory');
  taken[3].bus.l.fill(1);
  memory.give(taken[3].lp, taken[3].rp);
  const again = memory.take();
  assert.ok(again !== null);
  assert.ok(again.bus.l.every((x) => x === 0), 'a bus taken again starts silent');
});

/** Floats of every kind the output meets: in range, past ±1, ±0, tiny, huge, infinite, NaN. */
function mixedFloats(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    out[i] = i % 17 === 3 ? VALUES[s % VALUES.length] : ((s / 2 ** 32) * 2 - 1) * 1.5;
  }
  return out;
}

test('the bus memory adds one channel into another exactly as += does, over spans of every alignment', () => {
  const memory = new BusMemory(256);
  const a = memory.take();
  const b = memory.take();
  assert.ok(a !== null && b !== null);
  for (const [s, e] of [[0, 256], [0, 255], [1, 256], [3, 8], [5, 6], [10, 10], [250, 256]]) {
    const to = mixedFloats(256, s + 1);
    const from = mixedFloats(256, e + 7);
    a.bus.l.set(to);
    b.bus.l.set(from);
    for (let i = s; i < e; i++) to[i] += from[i];
    memory.add(a.lp, b.lp, a.bus.l, b.bus.l, s, e);
    assert.deepEqual(a.bus.l, to, `span [${s}, ${e})`);
    assert.deepEqual(b.bus.l, from, 'the source is left alone');
  }
});

test('the bus memory clips the output to ±1 in place (NaN → 0) and measures its peaks and energy', () => {
  const memory = new BusMemory(256);
  const m = memory.take();
  assert.ok(m !== null);
  const meters = new Float64Array(3);
  for (const frames of [256, 255, 4, 3, 1]) {
    const l = mixedFloats(256, frames);
    const r = mixedFloats(256, frames + 100);
    m.bus.l.set(l);
    m.bus.r.set(r);
    memory.clip(m.lp, m.rp, m.bus.l, m.bus.r, frames, meters);
    let peakL = 0;
    let peakR = 0;
    let sq = 0;
    for (let i = 0; i < frames; i++) {
      const clip = (x: number) => (x === x ? Math.min(1, Math.max(-1, x)) : 0);
      assert.equal(m.bus.l[i], clip(l[i]), `l[${i}] = ${l[i]} of ${frames}`);
      assert.equal(m.bus.r[i], clip(r[i]), `r[${i}] = ${r[i]} of ${frames}`);
      peakL = Math.max(peakL, Math.abs(clip(l[i])));
      peakR = Math.max(peakR, Math.abs(clip(r[i])));
      sq += clip(l[i]) ** 2 + clip(r[i]) ** 2;
    }
    assert.equal(m.bus.l[frames], frames < 256 ? l[frames] : undefined, 'nothing after the frames');
    assert.equal(meters[0], peakL);
    assert.equal(meters[1], peakR);
    assert.ok(Math.abs(meters[2] - sq) <= 1e-12 * sq, `sum of squares ${meters[2]} ≈ ${sq}`);
  }
});
