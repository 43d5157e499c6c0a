/** kernel/plugins/load-ahead.ts: folders prepared one after another in order, each taken once; a failure is left to the load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoadAhead, outcomeOf, valueOf, type Prepared } from '../../kernel/plugins/load-ahead.ts';
import type { Manifest } from '../../kernel/plugins/manifest.ts';

const prepared = (id: string): Prepared<string> => ({ manifest: { id } as Manifest, bundle: null, definition: null, control: { value: `control of ${id}` } });

test('folders are prepared in order, one at a time; each is taken once; a failed one is null', async () => {
  const ahead = new LoadAhead<string>();
  const events: string[] = [];
  let running = 0;
  ahead.start(['a', 'b', 'c'], async (folder) => {
    running++;
    events.push(`start ${folder} (${running} running)`);
    await new Promise((r) => setImmediate(r));
    running--;
    events.push(`end ${folder}`);
    if (folder === 'b') throw new Error('b is broken');
    return prepared(folder);
  });
  // The load of c waits for its preparation (after a's and b's).
  assert.deepEqual((await ahead.take('c'))?.control, { value: 'control of c' });
  assert.deepEqual(events, ['start a (1 running)', 'end a', 'start b (1 running)', 'end b', 'start c (1 running)', 'end c']);
  assert.equal(await ahead.take('b'), null, "a failed preparation: the load does its own (and reports b's error)");
  assert.equal((await ahead.take('a'))?.manifest.id, 'a');
  assert.equal(await ahead.take('a'), null, 'taken once: a later load (a hot reload) prepares afresh');
  assert.equal(await ahead.take('elsewhere'), null, 'a folder never prepared');
});

test('clear drops what no load took', async () => {
  const ahead = new LoadAhead<string>();
  ahead.start(['a'], async (folder) => prepared(folder));
  ahead.clear();
  assert.equal(await ahead.take('a'), null);
});

test("a step's failure is kept as it was thrown and thrown again where the load takes the step", async () => {
  const hang = new Error('the top level did not finish within 5000 ms');
  const failed = await outcomeOf(async () => {
    throw hang;
  });
  assert.throws(() => valueOf(failed), (e) => e === hang, 'the same error: the load reports it as its own, without trying again');
  assert.equal(valueOf(await outcomeOf(() => 7)), 7);
});
