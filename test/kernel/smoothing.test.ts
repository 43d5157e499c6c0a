import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';

test('a parameter change glides to within 1 % of the step in 20 ms, monotonically, from the exact sample', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['dc'] });
  t.after(() => e.close());
  await e.send('/mod/dc1/level', [0.8], 1000);
  const { l } = e.render(0.1);
  assert.equal(l[999], 0);
  assert.ok(l[1000] > 0 && l[1000] < 0.01, `first sample moves a little (${l[1000]})`);
  const twentyMs = 1000 + 960;
  assert.ok(l[twentyMs - 2] < 0.8 * 0.99, `not there before 20 ms (${l[twentyMs - 2]})`);
  assert.ok(l[twentyMs + 1] >= 0.8 * 0.99 - 1e-6, `within 1 % at 20 ms (${l[twentyMs + 1]})`);
  for (let i = 1001; i < l.length; i++) assert.ok(l[i] >= l[i - 1] - 1e-7, `monotonic at ${i}`);
  assert.ok(Math.abs(l[l.length - 1] - 0.8) < 1e-6, 'lands on the target');
});

test('a parameter with smoothingMs 0 steps at the exact sample', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['dc'] });
  t.after(() => e.close());
  await e.send('/mod/dc1/step', [0.5], 777);
  const { r } = e.render(0.05);
  assert.equal(r[776], 0);
  assert.equal(r[777], 0.5);
});

test('no click: an amplitude jump on a sounding tone changes no sample by more than the tone itself does', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  t.after(() => e.close());
  await e.send('/mod/tone1/amp', [0.1]);
  await e.send('/gate/tone1', [1]);
  e.render(0.1);
  await e.send('/mod/tone1/amp', [1], e.frame + 100);
  const { l } = e.render(0.1);
  // A 440 Hz sine at amplitude 1 moves at most 2π·440/48000 ≈ 0.0576 per sample.
  let maxJump = 0;
  for (let i = 1; i < l.length; i++) maxJump = Math.max(maxJump, Math.abs(l[i] - l[i - 1]));
  assert.ok(maxJump < 0.0576 * 1.05, `largest sample jump ${maxJump.toFixed(4)}`);
});
