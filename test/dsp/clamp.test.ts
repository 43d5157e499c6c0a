import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clamp } from '../../plugin-sdk/dsp/clamp.ts';

test('clamp: inside stays, outside lands on the nearer bound, the bounds themselves stay', () => {
  assert.equal(clamp(0.5, 0, 1), 0.5);
  assert.equal(clamp(-3, 0, 1), 0);
  assert.equal(clamp(7, 0, 1), 1);
  assert.equal(clamp(0, 0, 1), 0);
  assert.equal(clamp(1, 0, 1), 1);
  assert.equal(clamp(440, 20, 20), 20);
});

test('clamp: NaN gives lo and ±Infinity the nearer bound (a clamped value is never NaN)', () => {
  assert.equal(clamp(NaN, 20, 5000), 20);
  assert.equal(clamp(Infinity, 20, 5000), 5000);
  assert.equal(clamp(-Infinity, 20, 5000), 20);
});
