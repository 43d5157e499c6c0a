/** The kernel's check of a plugin's buses: the integer (bit-pattern) test refuses exactly what the float test refuses. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { busBits, saneBus } from '../../kernel/audio/bus-check.ts';

const VALUES = [0, -0, 1e-40, 0.5, -1, 63.99999, -63.99999, 64, -64, 64.00001, 1e30, -1e30, Infinity, -Infinity, NaN];

test('saneBus refuses |x| ≥ 64, ±Infinity and NaN on either channel, at any frame, and accepts the rest', () => {
  for (const x of VALUES) {
    const expected = x > -64 && x < 64;
    for (const side of ['l', 'r'] as const) {
      for (const at of [0, 7, 255]) {
        const bus = { l: new Float32Array(256).fill(0.25), r: new Float32Array(256).fill(-0.25) };
        bus[side][at] = x;
        assert.equal(saneBus(bus, busBits(bus), 0, 256), expected, `${x} in ${side}[${at}] (integer views)`);
        assert.equal(saneBus(bus, undefined, 0, 256), expected, `${x} in ${side}[${at}] (floats)`);
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
