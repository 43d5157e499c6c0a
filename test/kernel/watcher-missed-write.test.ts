/**
 * kernel/plugins/plugin-watcher.ts: chokidar drops a file's change that comes within 5 ms of its last
 * one (an editor's truncate, then write). A load that read the file half written and failed is then
 * not reported when the file changed meanwhile: what is there now loads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { loadConfig } from '../../kernel/base/config.ts';
import { PluginWatcher } from '../../kernel/plugins/plugin-watcher.ts';
import type { PluginHost } from '../../kernel/plugins/plugin-host.ts';
import { writeTestConfig } from '../helpers/offline-engine.ts';

test('a failed load whose file changed with no event loads again and is not reported', async (t) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'chronus-missed-write-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(path.join(root, 'config'));
  await writeTestConfig(root);
  const folder = path.join(root, 'plugins', 'fx');
  const entry = path.join(folder, 'index.ts');
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'plugin.json'), '{}');
  writeFileSync(entry, 'half');
  const config = loadConfig({ root, env: {} });
  const loads: string[] = [];
  const failed: string[] = [];
  // A host whose first load finds the file half written, and meanwhile the rest of the save lands.
  const host = {
    loaded: new Map(),
    inFolder: () => ({ inputs: [entry] }),
    load: async () => {
      loads.push(readFileSync(entry, 'utf8'));
      if (loads.length > 1) return undefined;
      writeFileSync(entry, 'whole');
      throw new Error('half written');
    },
    unload: async () => undefined,
    forget: () => undefined,
  };
  const watcher = await PluginWatcher.start(host as unknown as PluginHost, config, null, { failed: (_folder, e) => failed.push(e.message), configRejected: () => undefined });
  t.after(() => watcher.close());
  // From here on chokidar reports nothing: the write during the load is one whose event it dropped.
  for (const w of (watcher as unknown as { watchers: FSWatcher[] }).watchers) await w.close();
  (watcher as unknown as { now(folder: string): void }).now(folder);
  await watcher.idle();
  assert.deepEqual(loads, ['half', 'whole'], 'loaded again as it is now');
  assert.deepEqual(failed, [], 'the half-written step is not reported');
});
