/**
 * The sampler's kit is not decoded and filtered again at every start: what loadSample made of a file
 * is kept by the SDK's derived-data cache (plugin-sdk/derived-cache.ts, plugins/sampler/sample-cache.ts)
 * under the file's bytes, the sample rate, the code that made it and the engine build. A cached
 * sample is bit for bit the one made from the file (every octave too) and renders the same samples;
 * an entry that is damaged, truncated or another key's is not used (the file is decoded again and the
 * entry written again); without a build stamp (the sources under tsx) nothing is cached.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { derivedKey, readDerived, writeDerived, type PluginFolder } from '../../plugin-sdk/index.ts';
import { loadSample, type LoadedSample } from '../../plugins/sampler/kit-files.ts';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';
import { samplerEngine } from '../helpers/sampler.ts';
import { tempCache } from '../helpers/temp-cache.ts';

const KIT = path.join(PROJECT_ROOT, 'plugins/sampler');

/** A temp cache folder and an engine build stamp for this test; `setBuild` changes the stamp. */
function withBuild(t: TestContext, build: string | undefined): { entries(): Promise<string[]>; setBuild(b: string | undefined): void } {
  const { cache } = tempCache(t, 'derived');
  const saved = process.env.CHRONUS_SOURCES;
  const setBuild = (b: string | undefined) => (b === undefined ? delete process.env.CHRONUS_SOURCES : (process.env.CHRONUS_SOURCES = b));
  setBuild(build);
  t.after(() => setBuild(saved));
  const dir = path.join(cache, 'derived');
  return { entries: async () => (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.bin')).map((n) => path.join(dir, n)), setBuild };
}

/** The shipped kit's folder, read only. */
const kitFolder: PluginFolder = {
  root: KIT,
  path: (name) => path.join(KIT, name),
  readFile: async (name) => new Uint8Array(await readFile(path.join(KIT, name))),
  readdir: async () => [],
  stat: async (name) => {
    const bytes = await readFile(path.join(KIT, name));
    return { size: bytes.length, mtimeMs: 1, isFile: true, isDirectory: false };
  },
  watch: () => undefined,
};

/** Every array of a loaded sample (both sides, every octave) as plain numbers, and what it says of itself. */
function contents(s: LoadedSample): unknown {
  const { left, right, octavesLeft, octavesRight } = s.sample;
  return { arrays: [left, right, ...octavesLeft, ...octavesRight].map((a) => Array.from(a)), frames: s.frames, channels: s.channels, source: s.source, scaledBy: s.scaledBy };
}

const load = (file = 'samples/drum3-closed-hat.wav') => loadSample(kitFolder, file, 48000, { maxSeconds: 10 });

test('derived data: kept per key and build; a damaged, truncated or foreign entry reads as none; no build stamp, no cache', async (t) => {
  const cache = withBuild(t, 'build-a');
  const key = await derivedKey(['x', new Uint8Array([1, 2, 3])]);
  assert.notEqual(key, null);
  assert.notEqual(await derivedKey(['x', new Uint8Array([1, 2, 4])]), key, 'other bytes, another key');
  assert.notEqual(await derivedKey(['x', '\u0001\u0002\u0003']), key, 'a string is not the same part as bytes');
  assert.equal(await readDerived(key), null);
  await writeDerived(key, new Uint8Array([9, 8, 7, 6]));
  assert.deepEqual(Array.from((await readDerived(key))!), [9, 8, 7, 6]);
  const [entry] = await cache.entries();

  const bytes = await readFile(entry);
  bytes[bytes.length - 1] ^= 1;
  await writeFile(entry, bytes);
  assert.equal(await readDerived(key), null, 'a flipped bit');
  await writeFile(entry, bytes.subarray(0, bytes.length - 2));
  assert.equal(await readDerived(key), null, 'truncated');
  await writeFile(entry, 'not an entry');
  assert.equal(await readDerived(key), null, 'not ours');

  const other = await derivedKey(['y']);
  await writeDerived(other, new Uint8Array([1]));
  await writeFile(entry, await readFile(path.join(path.dirname(entry), `${other}.bin`)));
  assert.equal(await readDerived(key), null, "another key's entry under this key's name");

  cache.setBuild('build-b');
  assert.notEqual(await derivedKey(['x', new Uint8Array([1, 2, 3])]), key, 'another engine build, another key');
  cache.setBuild(undefined);
  assert.equal(await derivedKey(['x']), null, 'no build stamp: nothing is cached');
});

test('loadSample: a cached sample is bit for bit the decoded one; a damaged entry is decoded again and rewritten', async (t) => {
  const cache = withBuild(t, undefined);
  const fresh = contents(await load());
  assert.deepEqual(await cache.entries(), [], 'no build stamp: nothing written');

  cache.setBuild('build-a');
  assert.deepEqual(contents(await load()), fresh);
  const [entry] = await cache.entries();
  assert.ok(entry, 'an entry was written');
  const written = await readFile(entry);
  const cached = await load();
  assert.deepEqual(contents(cached), fresh, 'from the cache, the same');
  assert.ok(cached.sample.left.buffer instanceof SharedArrayBuffer);
  // The entry is what a load takes: one whose last float says 0.25 (checksum right) plays 0.25 there.
  const key = path.basename(entry, '.bin');
  const data = Buffer.from((await readDerived(key))!);
  data.writeFloatLE(0.25, data.length - 4);
  await writeDerived(key, data);
  const planted = await load();
  const last = planted.sample.octavesLeft[planted.sample.octavesLeft.length - 1];
  assert.equal(last[last.length - 1], 0.25, 'the cached entry was used');
  await writeFile(entry, written);

  const damaged = Buffer.from(written);
  damaged[damaged.length - 3] ^= 0x40;
  await writeFile(entry, damaged);
  assert.deepEqual(contents(await load()), fresh, 'a damaged entry: decoded again, the same');
  assert.ok((await readFile(entry)).equals(written), 'and written again');
  await writeFile(entry, written.subarray(0, 100));
  assert.deepEqual(contents(await load()), fresh, 'a truncated entry: decoded again, the same');
  assert.ok((await readFile(entry)).equals(written));
  // Whole and under its key, but not a sample (octaves of the wrong lengths): not used either.
  const header = new TextEncoder().encode(JSON.stringify({ lengths: [[4, 3, 1]], seconds: 1, source: 'x', scale: 1 }));
  const notASample = new Uint8Array(Math.ceil((4 + header.length) / 4) * 4 + 4 * 8);
  new DataView(notASample.buffer).setUint32(0, header.length, true);
  notASample.set(header, 4);
  await writeDerived(key, notASample);
  assert.deepEqual(contents(await load()), fresh, 'an entry that is not a sample: decoded again, the same');
  assert.ok((await readFile(entry)).equals(written));

  // The entry of another file under this file's key is not used.
  await load('samples/drum1-kick.wav');
  const kick = (await cache.entries()).find((e) => e !== entry)!;
  await writeFile(entry, await readFile(kick));
  assert.deepEqual(contents(await load()), fresh, "another file's entry under this key: not used");
});

test('loadSample: a cached sample still obeys maxSeconds', async (t) => {
  withBuild(t, 'build-a');
  await load('samples/drum1-kick.wav');
  await assert.rejects(loadSample(kitFolder, 'samples/drum1-kick.wav', 48000, { maxSeconds: 0.25 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'WAV_TOO_LARGE');
    assert.match(e.message, /0\.50 s long, more than the 0\.25 s/);
    return true;
  });
});

test('a render with the kit from the cache gives the same samples as one that decoded it (pitched up and down: the octaves)', async (t) => {
  const cache = withBuild(t, undefined);
  const kit = Object.fromEntries(await Promise.all(['drum1-kick.wav', 'drum3-closed-hat.wav', 'drum8-cowbell.wav'].map(async (n) => [n, new Uint8Array(await readFile(path.join(KIT, 'samples', n)))] as const)));
  const render = async () => {
    const s = await samplerEngine(kit);
    try {
      const { e } = s;
      await e.send('/mod/drum3/pitch', [14]);
      await e.send('/mod/drum8/pitch', [24]);
      await e.send('/mod/drum1/pitch', [-5]);
      for (const [i, drum] of ['drum1', 'drum3', 'drum8'].entries()) await e.send(`/gate/${drum}`, [1], e.frame + 100 + 3000 * i);
      const out = e.render(0.4);
      return [...out.l, ...out.r];
    } finally {
      await s.close();
    }
  };
  const decoded = await render();
  assert.ok(decoded.some((x) => x !== 0), 'the drums sound');
  cache.setBuild('build-a');
  assert.deepEqual(await render(), decoded, 'first render with a build stamp (fills the cache)');
  assert.equal((await cache.entries()).length, 3);
  assert.deepEqual(await render(), decoded, 'from the cache');
  for (const entry of await cache.entries()) await writeFile(entry, 'damaged');
  assert.deepEqual(await render(), decoded, 'damaged entries: decoded again');
});
