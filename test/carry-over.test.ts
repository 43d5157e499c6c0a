/**
 * What an engine carries into the one its supervisor starts after a failure (cli/carry-over.ts):
 * written while it plays, put back into a fresh engine — parameter values, plugin states, and a
 * sequencer that was playing plays on (a pattern load would leave the transport alone). A file that
 * is not a carry-over changes nothing and says why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { keepCarryOver, restoreCarryOver } from '../cli/carry-over.ts';
import { OfflineEngine } from './helpers/offline-engine.ts';

async function seqStatus(e: OfflineEngine): Promise<{ running: boolean; bpm: number; tracks: unknown }> {
  await e.send('/seq/status');
  return JSON.parse(String(e.lastReply('/seq/status')!.args[0])) as { running: boolean; bpm: number; tracks: unknown };
}

test('values, states and a playing sequencer come back in a fresh engine; a bad file changes nothing', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-carry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'carry.json');

  const before = await OfflineEngine.start();
  t.after(() => before.close());
  await before.send('/mod/voice1/filter/freq', [1234]);
  await before.send('/seq/bpm', [96]);
  await before.send('/seq/add', ['kick', 'drum1', 'x...x...x...x...']);
  await before.send('/seq/start');
  before.render(0.1);
  const stop = keepCarryOver(before.engine, file, (text) => assert.fail(text));
  t.after(stop);
  for (let tries = 0; !(await readFile(file, 'utf8').catch(() => '')).includes('"filter/freq":1234'); tries++) {
    assert.ok(tries < 200, 'the carry-over file is written');
    // An offline engine takes calls (the states asked for) between the blocks it renders.
    before.render(0.01);
    await new Promise((r) => setTimeout(r, 25));
  }

  const after = await OfflineEngine.start();
  t.after(() => after.close());
  assert.equal((await seqStatus(after)).running, false);
  assert.match(await restoreCarryOver(after.engine, file), /^carried over \d+ parameter values and the state of \d+ plugins/);
  after.render(0.05);
  const freq = after.engine.registry.param('voice1', 'filter/freq')!.index;
  assert.equal(after.engine.registry.values[freq], 1234);
  const seq = await seqStatus(after);
  assert.equal(seq.running, true, 'the sequencer plays on');
  assert.equal(seq.bpm, 96);
  assert.deepEqual(seq.tracks, (await seqStatus(before)).tracks);

  const fresh = await OfflineEngine.start();
  t.after(() => fresh.close());
  await writeFile(file, JSON.stringify({ params: { voice1: { 'filter/freq': 'high' } }, plugins: {} }));
  assert.match(await restoreCarryOver(fresh.engine, file), /^values not carried over: .* is not a carry-over file/);
  assert.notEqual(fresh.engine.registry.values[fresh.engine.registry.param('voice1', 'filter/freq')!.index], 1234);
  assert.match(await restoreCarryOver(fresh.engine, path.join(dir, 'missing.json')), /none had been written yet/);
});

test('a capture under way when the carry-over stops fails quietly; one that fails while it runs is said once', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-carry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  /** An engine whose audio thread answers a capture only when the test says so. */
  const fakeEngine = () => {
    const asked: ((e: Error) => void)[] = [];
    const engine = {
      registry: { modules: new Map(), values: [] as number[] },
      plugins: { loaded: new Map([['synth', { definition: {} }]]) },
      audio: { call: () => new Promise<never>((_resolve, reject) => asked.push(reject)) },
      control: { set: () => undefined },
      router: { counters: { messages: 0 } },
    } as unknown as Parameters<typeof keepCarryOver>[0];
    return { engine, asked };
  };
  const captureAsked = async (asked: unknown[]) => {
    // The first tick comes a second after the start; bounded, not timed.
    for (let tries = 0; asked.length === 0; tries++) {
      assert.ok(tries < 300, 'a capture was asked for');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const running = fakeEngine();
  const warnings: string[] = [];
  const stopRunning = keepCarryOver(running.engine, path.join(dir, 'a.json'), (text) => warnings.push(text));
  t.after(stopRunning);
  await captureAsked(running.asked);
  running.asked[0](new Error('the audio thread is restarting'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(warnings, ['carry-over for a restart not written: the audio thread is restarting']);

  const stopping = fakeEngine();
  const stop = keepCarryOver(stopping.engine, path.join(dir, 'b.json'), (text) => assert.fail(`said at a stop: ${text}`));
  await captureAsked(stopping.asked);
  stop();
  stopping.asked[0](new Error('the audio thread has stopped'));
  await new Promise((r) => setImmediate(r));
});
