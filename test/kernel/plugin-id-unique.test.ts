/**
 * A plugin id names one folder (issue "Containment …": a second folder whose manifest claimed
 * `voices` replaced the real voices, and deleting it removed them). The second folder is refused
 * with an error naming both; the loaded plugin, its slot and its sound stay; deleting the second
 * folder unloads nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isChronusError } from '../../kernel/base/errors.ts';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';

const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/**
 * Copies the tone fixture into `folder` under another manifest id. Made beside plugins/ and moved in
 * whole, so a watching engine never sees the copy with the fixture's own id.
 */
async function impostor(e: OfflineEngine, folder: string, id: string, extra: Record<string, unknown> = {}): Promise<string> {
  const dir = path.join(e.engine.config.paths.plugins, folder);
  const staging = path.join(e.root, `.staging-${folder}`);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), staging, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(staging, 'plugin.json'), 'utf8'));
  await writeFile(path.join(staging, 'plugin.json'), JSON.stringify({ ...manifest, id, name: `not ${id}`, ...extra }));
  await rename(staging, dir);
  return dir;
}

test('a second folder claiming a loaded id is refused, naming both folders; the first stays as it was', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  t.after(() => e.close());
  const first = e.engine.plugins.loaded.get('tone')!;
  const twin = await impostor(e, 'tone-twin', 'tone');
  await assert.rejects(e.engine.plugins.load(twin), (error: unknown) => {
    assert.ok(isChronusError(error, 'PLUGIN_ID_CONFLICT'), String(error));
    assert.match(error.message, /plugins\/tone-twin\/plugin\.json: plugin id "tone" is already loaded from plugins\/tone; plugins\/tone-twin is not loaded/);
    assert.match(error.message, /Give the plugin in plugins\/tone-twin an id of its own, or remove one of the two folders/);
    return true;
  });
  assert.equal(e.engine.plugins.loaded.get('tone'), first, 'the same loaded plugin, same slot');
  assert.equal(first.folder, path.join(e.engine.config.paths.plugins, 'tone'));
  await e.send('/gate/tone1', [1]);
  assert.ok(peak(e.render(0.1).l) > 0.05, 'and it still sounds');
  // Its own folder still reloads as usual.
  const again = await e.engine.plugins.load(first.folder);
  assert.equal(again?.folder, first.folder);
});

test('live: a folder dropped in with the id "voices" is refused; deleting it leaves the real voices playing', async (t) => {
  const e = await OfflineEngine.start({ only: ['voices'], watch: true });
  t.after(() => e.close());
  const voices = e.engine.plugins.loaded.get('voices')!;
  assert.ok(voices);
  const dir = await impostor(e, 'zz-voices', 'voices');
  const refused = await e.waitFor('/engine/error', (r) => r.args[0] === 'zz-voices');
  assert.equal(refused.args[1], 'PLUGIN_ID_CONFLICT', String(refused.args[2]));
  assert.match(String(refused.args[2]), /already loaded from plugins\/voices/);
  assert.equal(e.engine.plugins.loaded.get('voices'), voices);

  await rm(dir, { recursive: true, force: true });
  // A probe folder dropped in after the deletion: once it is loaded, the deletion has been handled
  // (the watcher sees the file events in order and runs both debounces in that order).
  await impostor(e, 'zz-probe', 'probe-tone', { modules: ['probe1'] });
  await e.waitFor('/engine/plugin/loaded', (r) => r.args[0] === 'probe-tone');
  await e.engine.watcher?.idle();
  assert.equal(e.engine.plugins.loaded.get('voices'), voices, 'the real voices are still loaded');
  assert.equal(e.replies.some((r) => r.address === '/engine/plugin/unloaded'), false, 'nothing was unloaded');
  await e.send('/mod/voice1/amp', [1]);
  await e.send('/gate/voice1', [1]);
  assert.ok(peak(e.render(0.2).l) > 0.05, 'voice1 sounds');
});
