import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandLevels, FFT_SIZE } from '../../kernel/spectrum.ts';

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
