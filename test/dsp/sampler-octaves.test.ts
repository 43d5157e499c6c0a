/**
 * The sampler's octaves down (plugins/sampler/octaves.ts) and how its voices read them
 * (plugins/sampler/dsp.ts): the half-band filter keeps the band below a fifth of the rate and takes
 * what would fold back 80 dB down; a pitch moving across an octave's edge crossfades without a step;
 * a voice still playing a replaced sample keeps that sample's octaves through a state round trip.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DrumKit } from '../../plugins/sampler/dsp.ts';
import { octaveDown, octavesOf } from '../../plugins/sampler/octaves.ts';

const SR = 48000;
const sine = (hz: number, frames: number, amp = 0.5) => Float32Array.from({ length: frames }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR));
const rms = (a: Float32Array, from = 0, to = a.length) => Math.sqrt(a.subarray(from, to).reduce((s, x) => s + x * x, 0) / (to - from));
const gainDb = (hz: number) => {
  const x = sine(hz, 24000);
  const y = octaveDown(x);
  // Away from the ends, where the filter meets the silence around the sample.
  return 20 * Math.log10(rms(y, 100, y.length - 100) / rms(x, 200, x.length - 200));
};

test('an octave down keeps what is below a fifth of the rate and takes what would fold back 80 dB down', () => {
  for (const hz of [50, 1000, 5000, 9600]) assert.ok(Math.abs(gainDb(hz)) < 0.01, `${hz} Hz: ${gainDb(hz).toFixed(3)} dB`);
  for (const hz of [14000, 16000, 20000, 23000]) assert.ok(gainDb(hz) < -79, `${hz} Hz: ${gainDb(hz).toFixed(1)} dB`);
  const [one, two] = octavesOf(sine(1000, 1001));
  assert.equal(one.length, 501);
  assert.equal(two.length, 251);
});

test('a pitch moving across an octave edge crossfades the reads over the span: no step in the output', () => {
  // Octaves made to differ (0 and then 0.5): a switch without a crossfade would step by 0.5.
  const n = 48000;
  const levels = [new Float32Array(n), new Float32Array(n / 2), new Float32Array(n / 4).fill(0.5)];
  const kit = new DrumKit(1, SR);
  kit.setSample(0, levels, levels);
  kit.trigger(0, 1);
  const frames = 4096;
  const l = new Float32Array(frames);
  const r = new Float32Array(frames);
  // Rate 1.8 → 2.2 (octave 1 to 2 at 2.0), in spans of 64 frames as a smoothed parameter would come.
  const rates = Float32Array.from({ length: frames }, (_, i) => 1.8 + (0.4 * i) / frames);
  for (let s = 0; s < frames; s += 64) kit.render(0, l, r, s, s + 64, rates, 1, 1);
  let jump = 0;
  for (let i = 1; i < frames; i++) jump = Math.max(jump, Math.abs(l[i] - l[i - 1]));
  assert.ok(jump <= 0.5 / 64 + 1e-6, `largest step ${jump}`);
  assert.equal(l[0], 0, 'octave 1 at first');
  assert.equal(l[frames - 1], 0.5, 'octave 2 at the end');
});

test('a voice on a replaced sample keeps that sample and its octaves through getState / setState', () => {
  const old = sine(15000, 4800);
  const kit = new DrumKit(1, SR);
  kit.setSample(0, [old, ...octavesOf(old)], null);
  kit.trigger(0, 1);
  const fresh = sine(100, 4800);
  kit.setSample(0, [fresh, ...octavesOf(fresh)], null);
  const state = kit.getState();
  assert.equal(state[0].left, old);
  assert.equal(state[0].octavesLeft?.length, 2);
  const again = new DrumKit(1, SR);
  again.setSample(0, [fresh, ...octavesOf(fresh)], null);
  again.setState(state);
  const l = new Float32Array(1024);
  const r = new Float32Array(1024);
  again.render(0, l, r, 0, 1024, null, 2, 1);
  // Still the old 15 kHz sample, read an octave down: silent, not its aliases.
  assert.ok(rms(l, 100, 1000) < 1e-3, `${rms(l, 100, 1000)}`);
});
