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
