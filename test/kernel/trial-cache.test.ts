/**
 * Passed trials are remembered (kernel/plugins/trial-cache.ts): a start whose plugins passed before,
 * under the same engine build, takes the recorded passes and asks the staging worker nothing; another
 * build, or no build stamp at all (the sources under tsx), tries again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';
import { passedBefore, recordPass } from '../../kernel/plugins/trial-cache.ts';

/** Runs `fn` with CHRONUS_CACHE_DIR on a fresh folder and CHRONUS_SOURCES as given; restores both. */
async function withCache(t: { after(fn: () => Promise<void>): void }, build: string | undefined): Promise<{ dir: string; setBuild(b: string | undefined): void }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-trials-'));
  const saved = { cache: process.env.CHRONUS_CACHE_DIR, build: process.env.CHRONUS_SOURCES };
  const set = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  set('CHRONUS_CACHE_DIR', dir);
  set('CHRONUS_SOURCES', build);
  t.after(async () => {
    set('CHRONUS_CACHE_DIR', saved.cache);
    set('CHRONUS_SOURCES', saved.build);
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, setBuild: (b) => set('CHRONUS_SOURCES', b) };
}

const entries = async (dir: string) => (await readdir(path.join(dir, 'trials')).catch(() => [])).filter((n) => n.endsWith('.json'));

test('a pass is recorded for its engine build only, and nothing without a build stamp', async (t) => {
  const cache = await withCache(t, 'build-a');
  const request = { code: 'x', values: [[1, 0.5]] };
  assert.equal(passedBefore('trial', request), undefined);
  recordPass('trial', request, { blocks: 3 });
  assert.deepEqual(passedBefore('trial', request), { blocks: 3 });
  assert.equal(passedBefore('trial', { ...request, values: [[1, 0.6]] }), undefined, 'other starting values are another request');
  cache.setBuild('build-b');
  assert.equal(passedBefore('trial', request), undefined, 'another build tries again');
  cache.setBuild(undefined);
  recordPass('trial', { other: true }, true);
  assert.equal(passedBefore('trial', { other: true }), undefined);
  assert.equal((await entries(cache.dir)).length, 1, 'without a build stamp nothing is written');
});

test('a start whose plugin passed before under the same build asks the staging worker nothing', async (t) => {
  const cache = await withCache(t, 'build-a');
  const first = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  assert.ok(first.engine.plugins.loaded.has('tone'));
  await first.close();
  const recorded = await entries(cache.dir);
  assert.ok(recorded.length >= 2, `its evaluation and its trial are recorded (${recorded.length} entries)`);

  // A 1 ms limit refuses anything the staging worker is actually asked: the recorded passes stand in.
  const again = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'], configure: (c) => (c.engine.trialTimeoutMs = 1) });
  t.after(() => again.close());
  assert.ok(again.engine.plugins.loaded.has('tone'), 'loaded on its recorded passes');
  assert.deepEqual(await entries(cache.dir), recorded, 'nothing new was tried or written');

  cache.setBuild('build-b');
  const other = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  await other.close();
  assert.ok((await entries(cache.dir)).length > recorded.length, 'another build tries it again and records its own passes');
});
