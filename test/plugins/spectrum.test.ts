import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandLevels, FFT_SIZE, legacyBandLevels, LEGACY_CENTRES_HZ, spectrum } from '../../plugin-sdk/analysis/spectrum.ts';

test('/viz/spectrum bands: a full-scale 440 Hz sine reads about 0.707 in the 400–1000 Hz band and little elsewhere', () => {
  const x = new Float64Array(FFT_SIZE).map((_, i) => Math.sin((2 * Math.PI * 440 * i) / 48000));
  const levels = bandLevels(x, 48000);
  assert.equal(levels.length, 8);
  assert.ok(Math.abs(levels[3] - 0.707) < 0.05, `band 3: ${levels[3]}`);
  for (const [i, v] of levels.entries()) if (i !== 3) assert.ok(v < 0.05, `band ${i}: ${v}`);
});

test('/viz/spectrum bands: silence is zero everywhere', () => {
  assert.deepEqual(bandLevels(new Float64Array(FFT_SIZE), 48000), [0, 0, 0, 0, 0, 0, 0, 0]);
});

const sine = (hz: number, amp: number) => new Float64Array(FFT_SIZE).map((_, i) => amp * Math.sin((2 * Math.PI * hz * i) / 48000));

test('/viz/spectrum legacy: the old engine\'s 8 bands centred 63 Hz … 8 kHz, a follower level ×50 clamped to 1', () => {
  assert.deepEqual(LEGACY_CENTRES_HZ, [63, 125, 250, 500, 1000, 2000, 4000, 8000]);
  // A quiet 1 kHz sine (0.01 peak): the 1k band reads 50 × mean|x| = 50 × 0.00637 ≈ 0.32; its neighbours a Q-2 band-pass less.
  const quiet = legacyBandLevels(sine(1000, 0.01), 48000);
  assert.equal(quiet.length, 8);
  assert.ok(Math.abs(quiet[4] - 0.318) < 0.02, `1k band ${quiet[4]}`);
  assert.equal(quiet.indexOf(Math.max(...quiet)), 4);
  assert.ok(quiet[3] < quiet[4] / 2 && quiet[5] < quiet[4] / 2, quiet.join(' '));
  assert.ok(quiet[0] < 0.03 && quiet[7] < 0.03, quiet.join(' ')); // three octaves away a Q-2 band-pass still passes 6 %
  // A loud mix saturates: every value stays within 0…1.
  const loud = legacyBandLevels(sine(250, 0.5), 48000);
  assert.equal(loud[2], 1);
  assert.ok(loud.every((v) => v >= 0 && v <= 1));
  assert.deepEqual(legacyBandLevels(new Float64Array(FFT_SIZE), 48000), [0, 0, 0, 0, 0, 0, 0, 0]);
  // viz.spectrum picks the form.
  assert.deepEqual(spectrum(sine(440, 1), 48000, 'raw'), bandLevels(sine(440, 1), 48000));
  assert.deepEqual(spectrum(sine(440, 1), 48000, 'legacy'), legacyBandLevels(sine(440, 1), 48000));
});
