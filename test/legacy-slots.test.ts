/**
 * Music Chronus slot files read with what the loaded plugins declare (plugin-sdk/legacy.ts): with the
 * project's plugins every old module is read as before — dist1's and acid1's fields checked strictly —
 * and an old module or section no loaded plugin reads is skipped with a notice.
 */
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';

const SLOTS = path.join(PROJECT_ROOT, 'test/fixtures/old-engine/music-chronus-slots');
let e: OfflineEngine;
before(async () => {
  e = await OfflineEngine.start({ only: ['voices', 'distortion', 'acid', 'reverb', 'delay', 'lfo', 'sequencer', 'patterns'] });
});
after(() => e.close());

const slot = (n: number) => path.join(e.root, 'patterns/slots', `slot_${String(n).padStart(3, '0')}.json`);
const value = (m: string, p: string) => e.engine.registry.values[e.engine.registry.param(m, p)!.index];

async function load(n: number): Promise<{ error?: string; info?: { notices: string[] } }> {
  const from = e.replies.length;
  await e.send('/pattern/load', [n, 'immediate']);
  const replies = e.replies.slice(from);
  const err = replies.find((r) => r.address === '/error');
  if (err) return { error: `${String(err.args[1])}: ${String(err.args[2])}` };
  return { info: JSON.parse(String(replies.find((r) => r.address === '/pattern/loaded')!.args[1])) };
}

test('slot_001 with the project\'s plugins: voices, acid1, dist1 and the sequencer are read', async () => {
  await copyFile(path.join(SLOTS, 'slot_001.json'), slot(1));
  const { info, error } = await load(1);
  assert.equal(error, undefined);
  assert.ok(!info!.notices.some((n) => n.includes('acid1')), JSON.stringify(info!.notices));
  assert.equal(value('voice2', 'osc/type'), 1);
  assert.equal(value('voice1', 'filter/freq'), 1150);
});

test("an unknown field of a module a loaded plugin reads refuses the slot, naming it (distortion's dist1)", async () => {
  await writeFile(slot(2), '{"chronus_version":"1.0.0","schema_version":"1.0","modules":{"dist1":{"drive":0.1,"boom":1}}}');
  assert.match((await load(2)).error ?? '', /^PATTERN_INVALID: .*modules\.dist1\.boom: unknown key/s);
});

test('what no loaded plugin reads is skipped with a notice', async () => {
  await writeFile(slot(3), '{"chronus_version":"1.0.0","schema_version":"1.0","modules":{"granular1":{"grain":5},"dist1":{"drive":0.25}},"mixer":{"x":1}}');
  const { info } = await load(3);
  assert.deepEqual(info!.notices.sort(), [
    '"mixer" is not read by any loaded plugin; skipped',
    'module "granular1" is not loaded (no loaded plugin reads the Music Chronus "granular1"); skipped',
  ]);
  assert.equal(value('dist1', 'drive'), 0.25);
});
