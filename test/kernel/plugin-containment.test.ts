/**
 * A plugin edit can be wrong in every way and the rest plays on: code that reaches for the process,
 * loops forever or allocates gigabytes is refused in its trial (staging worker), with the reason,
 * and the plugins already loaded keep playing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, cp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';
import { evaluatePlugin } from '../../kernel/plugins/plugin-runtime.ts';

const manifest = (id: string) => JSON.stringify({ id, name: id, version: '1.0.0', apiVersion: 1, role: 'effect', entry: 'index.ts', modules: [`${id}1`] });

/** An effect whose create() runs `createBody` and whose process() runs `processBody`. */
const effect = (createBody: string, processBody = '', topLevel = '') => `import { definePlugin, param } from 'plugin-sdk';
${topLevel}
export default definePlugin({
  params: { gain: param(0, 2, 1) },
  create(ctx) {
    ${createBody}
    return { process(s: number, e: number) { ${processBody} } };
  },
});`;

async function engineWith(t: { after(fn: () => Promise<void>): void }) {
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'], configure: (c) => (c.engine.trialTimeoutMs = 1500) });
  t.after(() => e.close());
  return e;
}

/** Drops plugin `id` into the engine's plugins/ and loads it: the error it is refused with. */
async function refusal(e: OfflineEngine, id: string, code: string): Promise<string> {
  const folder = path.join(e.root, 'plugins', id);
  await mkdir(folder);
  await writeFile(path.join(folder, 'plugin.json'), manifest(id));
  await writeFile(path.join(folder, 'index.ts'), code);
  const error = await e.engine.plugins.load(folder).then(
    () => assert.fail(`${id} was loaded`),
    (err: Error) => err.message,
  );
  assert.deepEqual([...e.engine.plugins.loaded.keys()], ['tone'], 'only the tone is loaded');
  return error;
}

/** The tone fixture still sounds. */
async function toneSounds(e: OfflineEngine): Promise<void> {
  await e.send('/gate/tone1', [1]);
  assert.ok(e.render(0.1).l.some((x) => Math.abs(x) > 0.01), 'the tone still sounds');
}

test('plugin code sees no process, require, dynamic import, timers or console', () => {
  const code = `module.exports = { default: { params: {}, create() { return { process() {} }; },
    seen: [typeof process, typeof require, typeof setTimeout, typeof setInterval, typeof queueMicrotask, typeof console, typeof fetch, typeof globalThis.process] } };`;
  const def = evaluatePlugin(code, 'probe.js') as unknown as { seen: string[] };
  // `require` is the loader's own (plugin-sdk only); everything else is absent.
  assert.deepEqual(Array.from(def.seen), ['undefined', 'function', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  assert.throws(() => evaluatePlugin(`require('fs')`, 'fs.js'), /plugins may import only 'plugin-sdk'/);
  assert.throws(() => evaluatePlugin(`new Function('return 1')`, 'eval.js'), /Code generation from strings disallowed/);
  // Memory made by plugin code is the engine's own kind (state handoff between versions keeps instanceof).
  const arrays = evaluatePlugin(`module.exports = { params: {}, create() { return { process() {} }; }, a: new Float32Array(4) };`, 'a.js') as unknown as { a: unknown };
  assert.ok(arrays.a instanceof Float32Array);
});

test('process.exit() and process.getBuiltinModule in create are refused; the engine and its other plugins play on', async (t) => {
  const e = await engineWith(t);
  assert.match(await refusal(e, 'exiter', effect('process.exit(3);')), /was refused before going live: .*exiter\/index\.ts:\d+.*process is not defined/);
  assert.match(await refusal(e, 'reader', effect(`(process as any).getBuiltinModule('fs').readFileSync('/etc/passwd', 'utf8');`)), /process is not defined/);
  await toneSounds(e);
});

test('process.exit() in process() is a ReferenceError in the plugin realm (the kernel bypasses the plugin)', () => {
  const def = evaluatePlugin(`module.exports = { params: {}, create() { return { process() { process.exit(1); } }; } };`, 'exit.js');
  assert.throws(() => def.create({} as never).process(0, 1), /process is not defined/);
});

test('process.exit() in process() after its trial: only that plugin is bypassed and reported, the engine renders on', async (t) => {
  const e = await engineWith(t);
  const folder = path.join(e.root, 'plugins', 'quitter');
  await mkdir(folder);
  await writeFile(path.join(folder, 'plugin.json'), manifest('quitter'));
  // Its trial renders 1 s; it reaches for the process after 1.5 s of audio.
  await writeFile(path.join(folder, 'index.ts'), effect('let frames = 0;', 'frames += e - s; if (frames > 1.5 * ctx.sampleRate) process.exit(1);'));
  await e.engine.plugins.load(folder);
  await e.send('/gate/tone1', [1]);
  e.render(2);
  const slots = await e.engine.audio.call('plugins');
  assert.deepEqual(slots.map((p) => [p.pluginId, p.bypassed]).sort(), [['quitter', true], ['tone', false]]);
  assert.match(slots.find((p) => p.pluginId === 'quitter')!.lastError, /process is not defined/);
  assert.ok(e.render(0.1).l.some((x) => Math.abs(x) > 0.01), 'the tone still sounds');
});

test('an endless loop in create(), in process() or at the top level is refused by the trial time limit', async (t) => {
  const e = await engineWith(t);
  const cases = { loopcreate: effect('while (true) {}'), loopprocess: effect('', 'for (;;) {}'), looptop: effect('', '', 'for (;;) {}') };
  for (const [id, code] of Object.entries(cases)) assert.match(await refusal(e, id, code), /did not finish .* within 1500 ms \(an endless loop\?\)/, id);
  await toneSounds(e);
});

test('a 2 GB allocation in create() is refused by the memory limit before it reaches the audio thread', async (t) => {
  const e = await engineWith(t);
  const error = await refusal(e, 'hog', effect('const big = new Float64Array(2 ** 28); big[0] = 1;'));
  const used = /uses (\d+) MB after create\(\), over the limit of 256 MB per plugin \(engine\.pluginMemoryMb\)/.exec(error);
  assert.ok(used && Number(used[1]) > 1900, error);
  await toneSounds(e);
});
