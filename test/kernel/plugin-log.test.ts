/** A plugin's ctx.log reaches the console and, for warnings and errors, the clients (/engine/notice). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PluginLogRelay } from '../../kernel/plugins/plugin-log.ts';
import { SharedState, Slot } from '../../kernel/audio/shared-state.ts';
import type { AudioHost } from '../../kernel/host/audio-host.ts';
import type { PluginLogEntry } from '../../kernel/audio/audio-engine.ts';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';

test('ctx.log.warn in create() is an /engine/notice from that plugin; info stays on the console', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  t.after(() => e.close());
  const folder = path.join(e.root, 'plugins', 'talker');
  await mkdir(folder);
  await writeFile(path.join(folder, 'plugin.json'), JSON.stringify({ id: 'talker', name: 'talker', version: '1.0.0', apiVersion: 1, role: 'effect', entry: 'index.ts', modules: ['talk1'] }));
  await writeFile(
    path.join(folder, 'index.ts'),
    `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { x: param(0, 1, 0) },
  create(ctx) {
    ctx.log.info('hello from create');
    ctx.log.warn('no bank here; rendering in JS');
    return { process() {} };
  },
});`,
  );
  await e.engine.plugins.load(folder);
  await e.engine.pluginLog.poll();
  const notices = e.replies.filter((r) => r.address === '/engine/notice' && r.args[0] === 'talker').map((r) => r.args[1]);
  assert.deepEqual(notices, ['no bank here; rendering in JS']);
  assert.equal(e.host.shared.values[Slot.PluginLogPending], 0, 'collected');
});

test('a plugin logging without pause is shown ten lines a second, then told how many were held back', async () => {
  const shared = new SharedState();
  let waiting: PluginLogEntry[] = [];
  const audio = {
    shared,
    async call(method: string) {
      assert.equal(method, 'takeLog');
      const entries = waiting;
      waiting = [];
      shared.values[Slot.PluginLogPending] = 0;
      return { entries, dropped: 0 };
    },
  } as unknown as AudioHost;
  const shown: string[] = [];
  const relay = new PluginLogRelay(audio, (id, level, text) => shown.push(`${id} ${level} ${text}`));
  waiting = Array.from({ length: 25 }, (_, i) => ({ pluginId: 'chatty', level: 'info' as const, text: `line ${i}` }));
  shared.values[Slot.PluginLogPending] = waiting.length;
  await relay.poll(1000);
  assert.equal(shown.length, 10);
  waiting = [{ pluginId: 'chatty', level: 'info', text: 'later' }];
  shared.values[Slot.PluginLogPending] = 1;
  await relay.poll(2100);
  assert.deepEqual(shown.slice(10), ['chatty warn 15 more log lines in one second were not shown', 'chatty info later']);
  await relay.poll(2200);
  assert.equal(shown.length, 12, 'nothing waiting: no call');
});
