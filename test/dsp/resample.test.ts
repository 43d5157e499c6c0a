/**
 * plugin-sdk/resample.ts `resample`: a tone keeps its frequency and level across rates (error below
 * −80 dB away from the ends), DC stays DC, what the new rate cannot hold is filtered out (not folded
 * back), the length is ceil(n · to / from), and equal rates give a copy.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resample } from '../../plugin-sdk/index.ts';

const tone = (freq: number, rate: number, n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * freq * i) / rate));

function worstError(y: Float32Array, freq: number, rate: number, margin: number): number {
  let err = 0;
  for (let j = margin; j < y.length - margin; j++) err = Math.max(err, Math.abs(y[j] - Math.sin((2 * Math.PI * freq * j) / rate)));
  return err;
}

for (const [from, to, freq] of [[44100, 48000, 1000], [48000, 44100, 5000], [22050, 48000, 3000], [96000, 48000, 10000], [48000, 96000, 15000]] as const) {
  test(`${from} → ${to} Hz: a ${freq} Hz tone keeps its frequency and level`, () => {
    const y = resample(tone(freq, from, from / 2), from, to);
    assert.equal(y.length, Math.ceil(((from / 2) * to) / from));
    const err = worstError(y, freq, to, 200);
    assert.ok(err < 1e-4, `worst error ${err}`);
  });
}

test('DC stays DC; equal rates give a copy', () => {
  const y = resample(new Float32Array(2000).fill(0.5), 44100, 48000);
  for (let j = 100; j < y.length - 100; j++) assert.ok(Math.abs(y[j] - 0.5) < 1e-4, `frame ${j}: ${y[j]}`);
  const x = tone(100, 48000, 100);
  const same = resample(x, 48000, 48000);
  assert.deepEqual(same, x);
  assert.notEqual(same, x);
});

test('going down in rate, what the new rate cannot hold is filtered out, not folded back', () => {
  // 30 kHz at 96 kHz cannot exist at 48 kHz (Nyquist 24 kHz): it would alias to 18 kHz.
  const y = resample(tone(30000, 96000, 48000), 96000, 48000);
  let peak = 0;
  for (let j = 200; j < y.length - 200; j++) peak = Math.max(peak, Math.abs(y[j]));
  assert.ok(peak < 1e-3, `what is left: ${peak}`);
});

test('rates must be positive', () => {
  assert.throws(() => resample(new Float32Array(4), 0, 48000), RangeError);
});

test('near the band edge: flat to 0.43 × the lower rate, and 85 dB down past its Nyquist frequency', () => {
  const level = (freq: number, from: number, to: number) => {
    const y = resample(tone(freq, from, from / 4), from, to);
    let peak = 0;
    for (let j = 1000; j < y.length - 1000; j++) peak = Math.max(peak, Math.abs(y[j]));
    return 20 * Math.log10(peak);
  };
  for (const [from, to] of [[44100, 48000], [48000, 44100]] as const) {
    assert.ok(level(19000, from, to) > -0.35, `${from} → ${to}: 19 kHz ${level(19000, from, to)} dB`);
    assert.ok(level(22000, from, to) < -85, `${from} → ${to}: 22 kHz ${level(22000, from, to)} dB`);
  }
  assert.ok(level(23000, 48000, 44100) < -85, '23 kHz does not fold back to 21.1 kHz');
});
