/** The plugin bundle cache: hits only while every input file is unchanged, wherever the folder is. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundlePlugin } from '../../kernel/plugins/plugin-bundler.ts';
import { tempCache } from '../helpers/temp-cache.ts';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';

const MARK = '/* served from the cache */';

/** A two-file plugin whose files look saved an hour ago (the cache skips files saved just now). */
function writePlugin(folder: string, gain: number): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'index.ts'), `import { definePlugin } from 'plugin-sdk';\nimport { GAIN } from './gain.ts';\nexport default definePlugin({ params: {}, create() { return { process() { void GAIN; } }; } });\n`);
  writeFileSync(path.join(folder, 'gain.ts'), `export const GAIN = ${gain};\n`);
  ageFiles(folder);
}

function ageFiles(folder: string): void {
  const past = new Date(Date.now() - 3600_000);
  for (const f of readdirSync(folder)) utimesSync(path.join(folder, f), past, past);
}

/** Marks every cached entry, so a bundle that carries the mark came from the cache. */
function markEntries(cache: string): void {
  for (const f of readdirSync(cache)) {
    const file = path.join(cache, f);
    const entry = JSON.parse(readFileSync(file, 'utf8')) as { code: string };
    entry.code = MARK + entry.code;
    writeFileSync(file, JSON.stringify(entry));
  }
}

test('a bundle is cached by content: unchanged and copied folders hit, an edited import misses', async (t) => {
  const { dir, cache } = tempCache(t, 'bundle-cache');
  const a = path.join(dir, 'a');
  writePlugin(a, 0.5);

  const first = await bundlePlugin(a, 'index.ts');
  assert.ok(!first.code.startsWith(MARK));
  assert.match(first.code, /0\.5/);
  assert.deepEqual(first.inputs.sort(), [path.join(a, 'gain.ts'), path.join(a, 'index.ts')]);
  assert.equal(readdirSync(cache).length, 1, 'one entry written');
  markEntries(cache);

  const again = await bundlePlugin(a, 'index.ts');
  assert.ok(again.code.startsWith(MARK), 'unchanged folder: from the cache');
  assert.deepEqual(again.inputs.sort(), first.inputs.sort());

  const b = path.join(dir, 'elsewhere', 'b');
  mkdirSync(path.dirname(b));
  cpSync(a, b, { recursive: true, preserveTimestamps: true });
  const copied = await bundlePlugin(b, 'index.ts');
  assert.ok(copied.code.startsWith(MARK), 'a copy of the folder: the same entry');
  assert.deepEqual(copied.inputs.sort(), [path.join(b, 'gain.ts'), path.join(b, 'index.ts')]);

  writeFileSync(path.join(a, 'gain.ts'), 'export const GAIN = 0.25;\n');
  const edited = await bundlePlugin(a, 'index.ts');
  assert.ok(!edited.code.startsWith(MARK), 'an edited import is rebuilt');
  assert.match(edited.code, /0\.25/);
  assert.equal(readdirSync(cache).length, 1, 'a file saved just now is not cached (it may have changed during the build)');

  ageFiles(a);
  await bundlePlugin(a, 'index.ts');
  assert.equal(readdirSync(cache).length, 1, 'the same key (entry unchanged): the entry is replaced');
  const rebuilt = await bundlePlugin(a, 'index.ts');
  assert.match(rebuilt.code, /0\.25/);

  for (const f of readdirSync(cache)) writeFileSync(path.join(cache, f), '{ torn');
  const afterTear = await bundlePlugin(a, 'index.ts');
  assert.match(afterTear.code, /0\.25/, 'a torn entry means a build, not an error');
});

test('a build error is reported with the plugin file and line, and nothing is cached', async (t) => {
  const { dir, cache } = tempCache(t, 'bundle-cache');
  const a = path.join(dir, 'a');
  writePlugin(a, 1);
  writeFileSync(path.join(a, 'gain.ts'), 'export const GAIN = ;\n');
  ageFiles(a);
  await assert.rejects(bundlePlugin(a, 'index.ts'), (e: Error & { file?: string; line?: number }) => {
    assert.equal(e.file, path.join(a, 'gain.ts'));
    assert.equal(e.line, 1);
    return true;
  });
  assert.deepEqual(readdirSync(dir).includes('cache') ? readdirSync(cache) : [], []);
});

test('a write handed to `later` is held until it runs', async (t) => {
  const { dir, cache } = tempCache(t, 'bundle-cache');
  const a = path.join(dir, 'a');
  writePlugin(a, 0.75);
  const held: (() => void)[] = [];
  const built = await bundlePlugin(a, 'index.ts', undefined, (write) => held.push(write));
  assert.match(built.code, /0\.75/);
  assert.equal(held.length, 1, 'the write was handed over');
  assert.deepEqual(readdirSync(dir).includes('cache') ? readdirSync(cache) : [], [], 'nothing written yet');
  held[0]();
  assert.equal(readdirSync(cache).length, 1, 'written when it ran');
  markEntries(cache);
  assert.ok((await bundlePlugin(a, 'index.ts')).code.startsWith(MARK), 'and the next build is served from it');
});

test("a hot reload's bundle and code cache are written once it is live", async (t) => {
  const { cache } = tempCache(t, 'reload-caches');
  const box = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  t.after(() => box.close());
  const folder = path.join(box.root, 'plugins/tone');
  const entry = path.join(folder, 'index.ts');
  writeFileSync(entry, `${readFileSync(entry, 'utf8')}\nexport const reloadMark = 'reloaded-${process.pid}';\n`);
  ageFiles(folder);
  await box.engine.plugins.load(folder);
  await new Promise((resolve) => setImmediate(resolve));
  const bundles = readdirSync(cache).filter((f) => f.endsWith('.json'));
  assert.ok(bundles.some((f) => readFileSync(path.join(cache, f), 'utf8').includes(`reloaded-${process.pid}`)), 'the new bundle is in the cache');
  // The reload's code cache entry; the first version's, an offline engine's, is written as the process
  // exits (kernel/plugins/code-cache.ts).
  const codeEntries = readdirSync(path.join(cache, 'code'));
  assert.equal(codeEntries.length, 1, `a code cache entry for the reloaded version (${codeEntries.length})`);
});
