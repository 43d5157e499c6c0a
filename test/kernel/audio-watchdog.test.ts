/**
 * The audio watchdog: a plugin that loops forever on the audio thread is found by name, the audio
 * thread is replaced with every other plugin, value and gate as they were, the culprit is quarantined,
 * and fixing its file brings it back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AudioWatchdog } from '../../kernel/host/audio-watchdog.ts';
import { loadConfig } from '../../kernel/base/config.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { engineStatus } from '../../kernel/status/engine-status.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { SharedState, Slot } from '../../kernel/audio/shared-state.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from '../helpers/offline-engine.ts';
import { hangAfter, writeEffectPlugin } from '../helpers/hanging-plugins.ts';

test('watchdog: the same call running past the limit on the CPU is a stall, named by its slot', () => {
  const shared = new SharedState();
  const v = shared.values;
  let cpu = 0;
  const stalls: unknown[] = [];
  const dog = new AudioWatchdog(shared, { blockMs: 100, callMs: 1000 }, (s) => stalls.push(s), () => cpu);
  v[Slot.AudioTid] = 1;
  v[Slot.RunningSlot] = 7;
  v[Slot.CallSeq] = 1;
  dog.check(0);
  dog.check(60);
  cpu = 50;
  dog.check(90);
  assert.equal(stalls.length, 0, 'not yet at the limit');
  cpu = 90;
  dog.check(130);
  assert.deepEqual(stalls, [{ slotId: 7, betweenBlocks: false, stalledMs: 130 }]);
  dog.check(500);
  assert.equal(stalls.length, 1, 'one stall is reported once');
});

test('watchdog: calls that keep changing, and a thread that is not running, are not hangs (until 10x the limit)', () => {
  const shared = new SharedState();
  const v = shared.values;
  const stalls: unknown[] = [];
  const dog = new AudioWatchdog(shared, { blockMs: 100, callMs: 1000 }, (s) => stalls.push(s), () => 5);
  v[Slot.AudioTid] = 1;
  v[Slot.RunningSlot] = 3;
  for (let t = 0; t < 1000; t += 10) {
    v[Slot.CallSeq]++;
    dog.check(t);
  }
  assert.equal(stalls.length, 0, 'a new call every check');
  v[Slot.RunningBetweenBlocks] = 0;
  dog.check(1000);
  for (let t = 1000; t <= 1980; t += 10) dog.check(t); // the call was first seen at 990
  assert.equal(stalls.length, 0, 'stuck but not on the CPU (starved): not yet');
  dog.check(2010);
  assert.equal(stalls.length, 1, 'stuck for ten times the limit: a stall all the same');
  v[Slot.RunningSlot] = 0;
  dog.reset();
  for (let t = 3000; t < 5000; t += 10) dog.check(t);
  assert.equal(stalls.length, 1, 'no plugin running: nothing to watch');
});


test('a plugin that loops in process() on the real-time engine: sound back, the others as they were, the culprit quarantined and back once fixed', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-watchdog-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  const folder = await writeEffectPlugin(path.join(root, 'plugins'), 'looper', 'loop1', hangAfter(1.5));
  const config = loadConfig({ root, env: {} });
  config.audio.dedicatedCpu = false;
  const errors: unknown[][] = [];
  const engine = await Engine.start({ config, root, backend: 'null', listen: false, status: false, watch: false, log: Logger.silent() });
  t.after(() => engine.stop());
  engine.onBroadcast = (address, args) => {
    if (address === '/engine/error') errors.push([...args]);
  };
  const tone = engine.registry.modules.get('tone1')!;
  const freq = tone.params.get('freq')!;
  engine.control.set(freq.index, 330);
  engine.control.gate(tone.gate!, 1);

  const until = Date.now() + 30_000;
  while (errors.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(errors.length, 1, 'one report');
  const [id, code, message] = errors[0] as [string, string, string];
  assert.equal(id, 'looper');
  assert.equal(code, 'PLUGIN_HUNG');
  assert.match(message, /plugins\/looper\/index\.ts: hung the audio thread for \d+ ms in process\(\) \(an endless loop\?\); quarantined until its files change; sound back after \d+ ms/);
  assert.equal(engine.recovery!.status.restarts, 1);
  assert.ok(engine.plugins.quarantined.has('looper'));

  // The fresh audio thread renders, with the tone at its value and its gate open, and without the looper.
  const v = engine.audio.shared.values;
  const before = v[Slot.FramesRendered];
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(v[Slot.FramesRendered] > before, 'frames advance again');
  assert.equal(v[Slot.Running], 1);
  const slots = await engine.audio.call('plugins');
  assert.deepEqual(slots.map((s) => s.pluginId), ['tone']);
  assert.equal(v[Slot.ActiveGates], 1, 'the gate is open again');
  assert.ok(Math.max(v[Slot.PeakL], v[Slot.PeakR]) > 0.1, 'the tone sounds');
  assert.equal(engine.registry.values[freq.index], 330);
  const status = engineStatus(engine);
  assert.equal(status.running, true);
  assert.equal(status.watchdog?.restarts, 1);
  assert.deepEqual(status.watchdog?.quarantined, ['looper']);
  assert.match(status.watchdog?.last?.outcome ?? '', /quarantined/);

  // Fixed: the plugin comes back.
  await writeFile(path.join(folder, 'index.ts'), hangAfter(1e9));
  await engine.plugins.load(folder);
  assert.ok(!engine.plugins.quarantined.has('looper'));
  assert.deepEqual((await engine.audio.call('plugins')).map((s) => s.pluginId).sort(), ['looper', 'tone']);
});
