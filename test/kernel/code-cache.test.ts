/**
 * Plugin code caches (kernel/plugins/code-cache.ts): a bundle evaluates from the cache V8 made of it
 * before, and a damaged, foreign or rejected entry is not used — the plugin renders the same samples
 * and the entry is written again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { readCodeCache, writeCodeCache } from '../../kernel/plugins/code-cache.ts';
import { evaluateControl } from '../../kernel/plugins/plugin-runtime.ts';
import { OfflineEngine } from '../helpers/offline-engine.ts';
import { tempCache } from '../helpers/temp-cache.ts';

/** The code caches' folder under a temp cache folder for this test. */
const codeCacheDir = (t: TestContext): string => path.join(tempCache(t, 'code-cache').cache, 'code');

const CONTROL = (n: number) => `"use strict";\nmodule.exports = { default: { create() { return ${n}; } } };\n`;

test('an entry is used only for the code it was made of, and only while intact', (t) => {
  const codeDir = codeCacheDir(t);
  const code = CONTROL(1);
  let stored: Buffer | undefined;
  evaluateControl(code, 'a/control.js', { store: (d) => (stored = d) });
  assert.ok(stored && stored.length > 0, 'no cache yet: V8 made one');
  writeCodeCache(code, 'offline', stored);
  assert.ok(readCodeCache(code, 'offline')?.equals(stored), 'read back as written');
  assert.equal(readCodeCache(CONTROL(2), 'offline'), undefined, 'another code has none');
  assert.equal(readCodeCache(code, 'real-time'), undefined, "a real-time engine keeps its own (V8 would reject a render's under its flags)");

  // Accepted by V8: nothing to store again. (Another file name: V8 would otherwise take the code it
  // compiled above from its own in-memory cache, without looking at the data.)
  let again: Buffer | undefined;
  const { definition } = evaluateControl(code, 'a2/control.js', { data: readCodeCache(code, 'offline'), store: (d) => (again = d) });
  assert.equal((definition.create as () => unknown)(), 1);
  assert.equal(again, undefined, 'a cache V8 used is not written again');

  const [file] = readdirSync(codeDir).map((f) => path.join(codeDir, f));
  const good = readFileSync(file);
  const flipped = Buffer.from(good);
  flipped[flipped.length - 1] ^= 0xff;
  writeFileSync(file, flipped);
  assert.equal(readCodeCache(code, 'offline'), undefined, 'damaged data is not used');
  writeFileSync(file, good.subarray(0, 70));
  assert.equal(readCodeCache(code, 'offline'), undefined, 'a cut file is not used');
  writeFileSync(file, 'not a cache');
  assert.equal(readCodeCache(code, 'offline'), undefined, 'garbage is not used');

  // Intact by its own hashes but made of other code: V8 rejects it, the code still runs, and a new one is made.
  let other: Buffer | undefined;
  evaluateControl(CONTROL(22), 'b/control.js', { store: (d) => (other = d) });
  const fresh = CONTROL(3);
  writeCodeCache(fresh, 'offline', other!);
  let remade: Buffer | undefined;
  const rejected = evaluateControl(fresh, 'c/control.js', { data: readCodeCache(fresh, 'offline'), store: (d) => (remade = d) });
  assert.equal((rejected.definition.create as () => unknown)(), 3, 'the code as written runs, not the cached one');
  assert.ok(remade && remade.length > 0, 'a rejected cache is made again');
});

test('a damaged or foreign code cache changes no rendered sample, and is written again', async (t) => {
  const codeDir = codeCacheDir(t);
  const render = async (): Promise<Float32Array[]> => {
    const e = await OfflineEngine.start({ only: ['voices', 'reverb', 'delay', 'distortion', 'limiter'] });
    try {
      await e.send('/mod/voice1/osc/type', [1]);
      await e.send('/mod/voice1/send/reverb', [0.5]);
      await e.send('/gate/voice1', [1]);
      const { l, r } = e.render(0.3);
      return [l, r];
    } finally {
      await e.close();
    }
  };
  const first = await render();
  assert.ok(first[0].some((x) => x !== 0), 'not silence');
  const files = readdirSync(codeDir);
  assert.ok(files.length >= 5, `an entry per plugin bundle (found ${files.length})`);
  const cached = await render();
  assert.deepEqual(cached, first, 'from the code cache: the same samples');

  // Every entry damaged, and one swapped for another's (intact, but for other code).
  const paths = files.map((f) => path.join(codeDir, f));
  const foreign = readFileSync(paths[1]);
  for (const p of paths) writeFileSync(p, Buffer.alloc(200, 7));
  writeFileSync(paths[0], foreign);
  const damaged = await render();
  assert.deepEqual(damaged, first, 'damaged and foreign caches: the same samples');
  for (const p of paths) assert.notEqual(readFileSync(p).subarray(0, 200).toString('hex'), Buffer.alloc(200, 7).toString('hex'), `${path.basename(p)} written again`);
  assert.ok(!readFileSync(paths[0]).equals(foreign), 'the foreign entry is replaced by its own');
});
