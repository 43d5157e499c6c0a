/** A fixed score through the full signal path matches the committed reference render: a DSP change that alters the sound shows up here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import wavefilePkg from 'wavefile';
import { GOLDEN_FILE, GOLDEN_SECONDS, renderGolden } from './golden/score.ts';

test('the golden render through the full path matches the reference within 16-bit quantisation', async () => {
  const wav = new wavefilePkg.WaveFile(await readFile(GOLDEN_FILE));
  const [refL, refR] = (wav.getSamples(false, Float64Array) as unknown as Float64Array[]).map((c) => c.map((x) => x / 32768));
  const { l, r } = await renderGolden();
  assert.equal(l.length, GOLDEN_SECONDS * 48000);
  assert.equal(refL.length, l.length);
  let maxDiff = 0;
  let sq = 0;
  let energy = 0;
  for (let i = 0; i < l.length; i++) {
    for (const [a, b] of [
      [l[i], refL[i]],
      [r[i], refR[i]],
    ]) {
      const d = Math.abs(a - b);
      maxDiff = Math.max(maxDiff, d);
      sq += d * d;
      energy += b * b;
    }
  }
  assert.ok(energy > 100, 'the reference is not silent');
  // 16-bit quantisation is ±1.5e-5; anything audible is far above 1e-3.
  assert.ok(maxDiff < 1e-3, `largest difference ${maxDiff.toExponential(2)} (a change of sound? if intended, run npm run golden)`);
  assert.ok(Math.sqrt(sq / energy) < 1e-3, `relative error ${Math.sqrt(sq / energy).toExponential(2)}`);
});
