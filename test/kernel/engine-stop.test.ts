/**
 * `/engine/stop` silences the output as the old engine did (pyo's server stopped): the output fades
 * to zero over OUTPUT_FADE_MS, gates are ignored until `/engine/start`, and the audio clock keeps
 * running; `/engine/start` fades back in and gates sound again. Rendered offline, sample by sample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';
import { OUTPUT_FADE_MS } from '../../kernel/audio/audio-engine.ts';

const SR = 48000;
const FADE = Math.round((OUTPUT_FADE_MS / 1000) * SR);

const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

async function status(e: OfflineEngine): Promise<{ stopped: boolean; activeGates: number; framesRendered: number }> {
  await e.send('/engine/status');
  return JSON.parse(String(e.lastReply('/engine/status')!.args[0]));
}

test('/engine/stop fades the output to silence in OUTPUT_FADE_MS and /engine/start fades it back in; the clock runs on', async (t) => {
  // dc1's `step` (unsmoothed) is a constant on the right channel: what the output does to it is the fade.
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['dc'] });
  t.after(() => e.close());
  await e.send('/mod/dc1/step', [0.5]);
  assert.equal(e.render(0.01).r.at(-1), 0.5);

  const at = e.frame;
  await e.send('/engine/stop');
  const { r } = e.render(0.05);
  assert.equal(e.frame, at + r.length, 'the clock keeps running');
  assert.ok(r[0] < 0.5 && r[0] > 0.49, `the fade starts at the next block (${r[0]})`);
  for (let i = 1; i < FADE; i++) assert.ok(r[i] < r[i - 1], `falling at ${i}`);
  assert.ok(r.subarray(FADE).every((x) => x === 0), `silent from ${FADE} samples on`);
  assert.equal((await status(e)).stopped, true);

  await e.send('/engine/start');
  const back = e.render(0.05).r;
  assert.ok(back[0] > 0 && back[0] < 0.01, `fades in from silence (${back[0]})`);
  assert.equal(back[FADE + 1], 0.5);
  assert.equal((await status(e)).stopped, false);
});

test('gates are ignored while stopped and sound again after /engine/start', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  t.after(() => e.close());
  await e.send('/mod/tone1/amp', [0.5]);
  await e.send('/gate/tone1', [1]);
  assert.ok(peak(e.render(0.05).l) > 0.4, 'the tone sounds');
  await e.send('/engine/stop');
  await e.send('/gate/tone1', [1]);
  assert.equal(peak(e.render(0.1).l), 0, 'silent, the gate sent while stopped ignored');
  assert.equal((await status(e)).activeGates, 0);
  await e.send('/engine/start');
  assert.equal(peak(e.render(0.05).l), 0, 'start does not reopen a gate that was ignored');
  await e.send('/gate/tone1', [1]);
  assert.ok(peak(e.render(0.05).l) > 0.4, 'a gate after /engine/start sounds');
  assert.equal((await status(e)).activeGates, 1);
});
