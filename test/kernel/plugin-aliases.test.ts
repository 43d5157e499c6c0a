/**
 * An old address belongs to one plugin: a second plugin declaring an alias another loaded plugin has
 * (here the voices' `sine1`) is refused with PLUGIN_MODULE_CONFLICT, and the alias keeps reaching the
 * plugin that had it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from '../helpers/offline-engine.ts';

test('a second plugin declaring an old address another plugin has is refused; the first keeps it', async () => {
  const oe = await OfflineEngine.start({ pluginsFrom: [path.join(PROJECT_ROOT, 'plugins')], only: ['voices'] });
  try {
    const folder = path.join(oe.root, 'plugins', 'copycat');
    await cp(path.join(FIXTURE_PLUGINS, 'tone'), folder, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(folder, 'plugin.json'), 'utf8')) as Record<string, unknown>;
    // The fixture's modules are tone1, tone2 (a pattern); copycat claims voices' old name for tone1.
    await writeFile(path.join(folder, 'plugin.json'), JSON.stringify({ ...manifest, id: 'copycat', modules: ['cat1'], aliases: { sine1: 'cat1' } }));
    await assert.rejects(oe.engine.plugins.load(folder), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PLUGIN_MODULE_CONFLICT');
      assert.match(e.message, /\/mod\/sine1\/ is declared by both "voices" and "copycat"/);
      return true;
    });
    assert.equal(oe.engine.plugins.loaded.has('copycat'), false);
    await oe.send('/mod/sine1/freq', [220]);
    assert.equal(oe.engine.registry.values[oe.engine.registry.param('voice1', 'freq')!.index], 220, 'sine1 still reaches voice1');
  } finally {
    await oe.close();
  }
});
