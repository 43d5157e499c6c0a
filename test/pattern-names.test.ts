/**
 * `/pattern/save <slot> [name]` (ChronusOSC.pattern_save(slot, name)): the slot is saved and keeps
 * the name — in the slot file (validated like the rest of it) and in `/pattern/list`; a bad name is
 * refused with the reason and saves nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';
import { SlotDocumentSchema } from '../plugins/patterns/slot-schema.ts';

test('a slot keeps its name in the file and in /pattern/list; a bad name is refused', async (t) => {
  const e = await OfflineEngine.start({ pluginsFrom: [FIXTURE_PLUGINS, path.join(PROJECT_ROOT, 'plugins')], only: ['tone', 'patterns'] });
  t.after(() => e.close());
  const file = (slot: number) => path.join(e.root, 'patterns/slots', `slot_${String(slot).padStart(3, '0')}.json`);

  await e.send('/pattern/save', [6, 'my_groove']);
  assert.deepEqual(e.lastReply('/pattern/saved')!.args, [6, file(6), 'my_groove']);
  const doc = SlotDocumentSchema.parse(JSON.parse(await readFile(file(6), 'utf8')));
  assert.equal(doc.name, 'my_groove');
  await e.send('/pattern/save', [7]);
  assert.deepEqual(e.lastReply('/pattern/saved')!.args, [7, file(7)]);
  assert.equal('name' in JSON.parse(await readFile(file(7), 'utf8')), false, 'no name, no key');
  await e.send('/pattern/save', [8, 303]);
  assert.equal(e.lastReply('/pattern/saved')!.args[2], '303', 'a number is taken as its text');

  await e.send('/pattern/list');
  const list = JSON.parse(String(e.lastReply('/pattern/list')!.args[0])) as { slot: number; name?: string }[];
  assert.deepEqual(list.map((s) => [s.slot, s.name]), [[6, 'my_groove'], [7, undefined], [8, '303']]);
  // Saved again under a new name: the list follows the file.
  await e.send('/pattern/save', [6, 'groove two']);
  await e.send('/pattern/list');
  assert.equal((JSON.parse(String(e.lastReply('/pattern/list')!.args[0])) as { name?: string }[])[0].name, 'groove two');

  await e.send('/pattern/load', [6, 'immediate']);
  assert.equal(e.lastReply('/pattern/loaded')!.args[0], 6, 'a named slot loads');

  const errors = () => e.replies.filter((r) => r.address === '/error').length;
  const before = errors();
  await e.send('/pattern/save', [9, 'bad\nname']);
  await e.send('/pattern/save', [9, 'x'.repeat(129)]);
  assert.equal(errors(), before + 2);
  assert.match(String(e.lastReply('/error')!.args[2]), /argument 2: must be at most 128 characters/);
  await assert.rejects(readFile(file(9)), 'nothing saved');
});
