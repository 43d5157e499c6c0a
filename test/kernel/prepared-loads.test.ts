/**
 * kernel/audio/prepared-loads.ts: a version evaluated ahead of its load is taken by that load only,
 * and a load renders ahead only the blocks its plugin's last load needs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PreparedLoads } from '../../kernel/audio/prepared-loads.ts';
import { trialEngine } from '../../kernel/audio/trial-engine.ts';
import type { SlotSpec } from '../../kernel/audio/slot-spec.ts';

const BLOCK_MS = (256 / 48000) * 1000;
const spec = (slotId: number, code: string): SlotSpec => ({
  slotId, pluginId: 'p', version: '1', role: 'effect', order: 0, code, filename: 'p/index.js',
  modules: [], params: [], gates: [], follows: [], config: {}, numVoices: 1,
});
const PLUGIN = 'module.exports = { default: { params: {}, create() { return { process() {} }; } } };';

test('a prepared version is taken by its own load once, not by another version of the plugin', () => {
  const loads = new PreparedLoads(BLOCK_MS, 3);
  const engine = trialEngine(48000, 256, 20);
  loads.prepare(engine, spec(7, PLUGIN), () => undefined);
  assert.equal(loads.take(spec(8, PLUGIN)), undefined, 'another version is evaluated by its load');
  const taken = loads.take({ ...spec(7, ''), codeByReference: true });
  assert.equal(typeof taken?.definition.create, 'function');
  assert.deepEqual(taken?.spec, spec(7, PLUGIN), 'a load sent by reference gets the code it was prepared from');
  assert.equal(loads.take(spec(7, PLUGIN)), undefined, 'taken once');
  loads.prepare(engine, spec(9, 'throw new Error("top level")'), () => undefined);
  assert.equal(loads.take(spec(9, '')), undefined, 'a version that fails to evaluate is left to its load to report');
});

test('a prepare or load renders ahead the whole lead the first time, then what twice the longest of the last four needs beyond the lead', () => {
  const loads = new PreparedLoads(BLOCK_MS, 3);
  assert.equal(loads.aheadFor('load', 'p'), 3);
  loads.took('load', 'p', 1);
  assert.equal(loads.aheadFor('load', 'p'), 0, 'a 1 ms load fits the two blocks the loop keeps queued');
  loads.took('load', 'p', 8);
  assert.equal(loads.aheadFor('load', 'p'), 1, '16 ms: one block more');
  loads.took('load', 'p', 200);
  assert.equal(loads.aheadFor('load', 'p'), 3, 'never more than the lead');
  for (let i = 0; i < 3; i++) loads.took('load', 'p', 1);
  assert.equal(loads.aheadFor('load', 'p'), 3, 'a slow load weighs for the next four');
  loads.took('load', 'p', 1);
  assert.equal(loads.aheadFor('load', 'p'), 0, 'then it is forgotten');
  assert.equal(loads.aheadFor('prepare', 'p'), 3, 'a prepare is timed on its own');
  const ahead: number[] = [];
  loads.prepare(trialEngine(48000, 256, 20), spec(3, PLUGIN), (blocks) => ahead.push(blocks));
  assert.deepEqual(ahead, [3], 'the first prepare renders the whole lead ahead');
});
