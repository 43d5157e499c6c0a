/**
 * Plugin code caches (kernel/plugins/code-cache.ts): a bundle evaluates from the cache V8 made of it
 * before, and a damaged, foreign or rejected entry is not used — the plugin renders the same samples
 * and the entry is written again.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { codeCacheFor, readCodeCache, writeCodeCache } from '../../kernel/plugins/code-cache.ts';
import { evaluateControl } from '../../kernel/plugins/plugin-runtime.ts';
import { PROJECT_ROOT, writeTestConfig } from '../helpers/offline-engine.ts';
import { tempCache } from '../helpers/temp-cache.ts';

/** The code caches' folder under a temp cache folder for this test. */
const codeCacheDir = (t: TestContext): string => path.join(tempCache(t, 'code-cache').cache, 'code');

const CONTROL = (n: number) => `"use strict";\nmodule.exports = { default: { create() { return ${n}; } } };\n`;

test('an entry is used only for the code it was made of, and only while intact', (t) => {
  const codeDir = codeCacheDir(t);
  const code = CONTROL(1);
  let stored: Buffer | undefined;
  evaluateControl(code, 'a/control.js', { store: (make) => (stored = make()) });
  assert.ok(stored && stored.length > 0, 'no cache yet: V8 made one');
  writeCodeCache(code, 'a/control.js', 'offline', stored);
  assert.ok(readCodeCache(code, 'a/control.js', 'offline')?.equals(stored), 'read back as written');
  assert.equal(readCodeCache(CONTROL(2), 'a/control.js', 'offline'), undefined, 'another code has none');
  assert.equal(readCodeCache(code, 'elsewhere/control.js', 'offline'), undefined, "a copy of the folder elsewhere has its own: V8 keeps the file name code was compiled under, and errors would name the first folder");
  assert.equal(readCodeCache(code, 'a/control.js', 'real-time'), undefined, "a real-time engine keeps its own (V8 would reject a render's under its flags)");

  // Accepted by V8: nothing to store again. (Another file name: V8 would otherwise take the code it
  // compiled above from its own in-memory cache, without looking at the data.)
  let again: Buffer | undefined;
  const { definition } = evaluateControl(code, 'a2/control.js', { data: readCodeCache(code, 'a/control.js', 'offline'), store: (make) => (again = make()) });
  assert.equal((definition.create as () => unknown)(), 1);
  assert.equal(again, undefined, 'a cache V8 used is not written again');

  const [file] = readdirSync(codeDir).map((f) => path.join(codeDir, f));
  const good = readFileSync(file);
  const flipped = Buffer.from(good);
  flipped[flipped.length - 1] ^= 0xff;
  writeFileSync(file, flipped);
  assert.equal(readCodeCache(code, 'a/control.js', 'offline'), undefined, 'damaged data is not used');
  writeFileSync(file, good.subarray(0, 70));
  assert.equal(readCodeCache(code, 'a/control.js', 'offline'), undefined, 'a cut file is not used');
  writeFileSync(file, 'not a cache');
  assert.equal(readCodeCache(code, 'a/control.js', 'offline'), undefined, 'garbage is not used');

  // Intact by its own hashes but made of other code: V8 rejects it, the code still runs, and a new one is made.
  let other: Buffer | undefined;
  evaluateControl(CONTROL(22), 'b/control.js', { store: (make) => (other = make()) });
  const fresh = CONTROL(3);
  writeCodeCache(fresh, 'c/control.js', 'offline', other!);
  let remade: Buffer | undefined;
  const rejected = evaluateControl(fresh, 'c/control.js', { data: readCodeCache(fresh, 'c/control.js', 'offline'), store: (make) => (remade = make()) });
  assert.equal((rejected.definition.create as () => unknown)(), 3, 'the code as written runs, not the cached one');
  assert.ok(remade && remade.length > 0, 'a rejected cache is made again');
});

test('a damaged or foreign code cache changes no rendered sample, and is written again', { timeout: 120_000 }, async (t) => {
  const { dir, cache } = tempCache(t, 'code-cache-render');
  const codeDir = path.join(cache, 'code');
  // One project folder for every render (entries are per file name), rendered by real processes (V8's
  // own in-memory cache would otherwise stand in for the files).
  const root = path.join(dir, 'project');
  mkdirSync(path.join(root, 'config'), { recursive: true });
  await writeTestConfig(root);
  for (const name of ['voices', 'reverb', 'delay', 'distortion', 'limiter', 'sampler']) cpSync(path.join(PROJECT_ROOT, 'plugins', name), path.join(root, 'plugins', name), { recursive: true });
  const score = path.join(dir, 'score.json');
  writeFileSync(score, JSON.stringify({ seconds: 0.3, events: [
    { time: 0, address: '/mod/voice1/osc/type', args: [1] },
    { time: 0, address: '/mod/voice1/send/reverb', args: [0.5] },
    { time: 0.01, address: '/gate/voice1', args: [1] },
    { time: 0.02, address: '/gate/drum1', args: [1] },
  ] }));
  const render = (name: string): Buffer => {
    const out = path.join(dir, `${name}.wav`);
    execFileSync(process.execPath, [path.join(PROJECT_ROOT, 'bin/chronus.mjs'), 'render', score, '-o', out, '--root', root], { env: { ...process.env, CHRONUS_CACHE_DIR: cache }, stdio: 'pipe' });
    return readFileSync(out);
  };
  const first = render('first');
  assert.ok(first.subarray(44).some((b) => b !== 0), 'not silence');
  const files = readdirSync(codeDir);
  assert.ok(files.length >= 7, `an entry per plugin bundle, both halves (found ${files.length})`);
  const written = new Map(files.map((f) => [f, readFileSync(path.join(codeDir, f))]));
  assert.ok(render('cached').equals(first), 'from the code cache: the same samples');
  for (const [f, data] of written) assert.ok(readFileSync(path.join(codeDir, f)).equals(data), `${f} used as it was, not written again`);

  // Every entry damaged, and one swapped for another's (intact, but for other code).
  const paths = files.map((f) => path.join(codeDir, f));
  const foreign = readFileSync(paths[1]);
  for (const p of paths) writeFileSync(p, Buffer.alloc(200, 7));
  writeFileSync(paths[0], foreign);
  assert.ok(render('damaged').equals(first), 'damaged and foreign caches: the same samples');
  for (const p of paths) {
    const again = readFileSync(p);
    const before = written.get(path.basename(p))!;
    assert.ok(again.subarray(0, 32).equals(before.subarray(0, 32)), `${path.basename(p)} written again for its own code`);
    assert.ok(again.subarray(32, 64).equals(createHash('sha256').update(again.subarray(64)).digest()), `${path.basename(p)} intact`);
  }
});

test("an offline engine's entry is written as its process exits, with the code its run compiled", (t) => {
  const codeDir = codeCacheDir(t);
  // create() is compiled only when it runs (V8 compiles functions lazily): a cache made right after the
  // top level holds none of it.
  const body = Array.from({ length: 200 }, (_, i) => `s += Math.sqrt(${i} + s) * ${i % 7};`).join(' ');
  const code = `"use strict";\nmodule.exports = { default: { create() { let s = 0; ${body} return s; } } };\n`;
  const child = `
    import { readdirSync } from 'node:fs';
    import { codeCacheFor } from ${JSON.stringify(path.join(PROJECT_ROOT, 'kernel/plugins/code-cache.ts'))};
    import { evaluateControl } from ${JSON.stringify(path.join(PROJECT_ROOT, 'kernel/plugins/plugin-runtime.ts'))};
    const code = ${JSON.stringify(code)};
    const { definition } = evaluateControl(code, 'x/control.js', codeCacheFor(code, 'x/control.js', 'offline'));
    definition.create();
    let files = [];
    try { files = readdirSync(${JSON.stringify(codeDir)}); } catch {}
    process.stdout.write(String(files.length));
  `;
  const before = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { env: { ...process.env }, encoding: 'utf8' });
  assert.equal(before, '0', 'nothing written while the process ran');
  const atExit = readCodeCache(code, 'x/control.js', 'offline');
  assert.ok(atExit, 'written as it exited');
  let topLevel: Buffer | undefined;
  evaluateControl(code, 'y/control.js', { store: (make) => (topLevel = make()) });
  assert.ok(topLevel);
  assert.ok(atExit.length > topLevel.length + 1000, `holds create() too (${atExit.length} bytes against ${topLevel.length} of the top level)`);
  // A real-time engine's is written at once (it may run for hours).
  const cache = codeCacheFor(CONTROL(9), 'z/control.js', 'real-time');
  evaluateControl(CONTROL(9), 'z/control.js', cache);
  assert.ok(readCodeCache(CONTROL(9), 'z/control.js', 'real-time'), 'a real-time entry at once');
});
