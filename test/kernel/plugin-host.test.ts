import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, cp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, type OfflineEngineOptions } from '../helpers/offline-engine.ts';

/** A folder of plugins: the tone fixture plus the given broken or extra ones. */
async function pluginsWith(extra: Record<string, Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-plugins-'));
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(dir, 'tone'), { recursive: true });
  for (const [folder, files] of Object.entries(extra)) {
    await mkdir(path.join(dir, folder), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, folder, name), text);
  }
  return dir;
}

const manifest = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, name: id, version: '1.0.0', apiVersion: 1, role: 'effect', entry: 'index.ts', modules: [`${id.replace(/-/g, '_')}1`], ...extra });

const GAIN = `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { gain: param(0, 2, 1) },
  create(ctx) {
    const g = ctx.param(0, 'gain');
    const bus = ctx.bus('main');
    return { process(s: number, e: number) { for (let i = s; i < e; i++) { const k = g.next(); bus.l[i] *= k; bus.r[i] *= k; } } };
  },
});`;

async function start(t: { after(fn: () => Promise<void>): void }, extra: Record<string, Record<string, string>>, configure?: OfflineEngineOptions['configure']) {
  const dir = await pluginsWith(extra);
  const e = await OfflineEngine.start({ pluginsFrom: dir, configure });
  t.after(async () => {
    await e.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { e };
}

test('a bad manifest is refused with file, field and found value; the other plugins still load', async (t) => {
  const lines: string[] = [];
  const dir = await pluginsWith({ broken: { 'plugin.json': manifest('broken', { role: 'efect' }), 'index.ts': GAIN } });
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { Logger } = await import('../../kernel/base/logger.ts');
  const { Engine } = await import('../../kernel/engine/engine.ts');
  const { loadConfig } = await import('../../kernel/base/config.ts');
  const { PROJECT_ROOT } = await import('../helpers/offline-engine.ts');
  const config = loadConfig({ root: PROJECT_ROOT, env: {} });
  config.paths.plugins = dir;
  const engine = await Engine.start({ config, backend: 'offline', listen: false, status: false, log: new Logger((l) => lines.push(l)) });
  t.after(() => engine.stop());
  assert.deepEqual([...engine.plugins.loaded.keys()], ['tone']);
  const error = lines.find((l) => l.includes('PLUGIN_MANIFEST_INVALID'));
  assert.ok(error, lines.join('\n'));
  assert.match(error, /broken\/plugin\.json: role: must be one of .* \(found "efect"\)/);
});

test('a plugin that imports anything but plugin-sdk is refused with the file and line', async (t) => {
  const { e } = await start(t, {
    sneaky: { 'plugin.json': manifest('sneaky'), 'index.ts': `import fs from 'node:fs';\n${GAIN}\nexport const x = fs;` },
  });
  assert.ok(!e.engine.plugins.loaded.has('sneaky'));
  await assert.rejects(e.engine.plugins.load(path.join(e.engine.config.paths.plugins, 'sneaky')), /sneaky\/index\.ts:1:\d+: plugins may import only 'plugin-sdk'/);
});

test('a plugin with a syntax error is refused with file and line; an invalid parameter table too', async (t) => {
  const { e } = await start(t, {
    typo: { 'plugin.json': manifest('typo'), 'index.ts': `${GAIN}\nconst = 3;` },
    badtable: { 'plugin.json': manifest('badtable'), 'index.ts': GAIN.replace('param(0, 2, 1)', 'param(2, 0, 1)') },
  });
  assert.deepEqual([...e.engine.plugins.loaded.keys()], ['tone']);
  await assert.rejects(e.engine.plugins.load(path.join(e.engine.config.paths.plugins, 'typo')), /typo\/index\.ts:\d+:\d+:/);
  await assert.rejects(e.engine.plugins.load(path.join(e.engine.config.paths.plugins, 'badtable')), /gain: min must be below max/);
});

test('two plugins claiming one module is an error that names both', async (t) => {
  const { e } = await start(t, { twin: { 'plugin.json': manifest('twin', { modules: ['tone1'] }), 'index.ts': GAIN } });
  assert.ok(!e.engine.plugins.loaded.has('twin'));
  await assert.rejects(e.engine.plugins.load(path.join(e.engine.config.paths.plugins, 'twin')), /module "tone1" is provided by both "tone" and "twin"/);
});

test('plugins.<id>.enabled = false in config keeps a plugin out; its routes do not exist', async (t) => {
  const { e } = await start(t, { gain: { 'plugin.json': manifest('gain'), 'index.ts': GAIN } }, (c) => {
    c.plugins.gain = { enabled: false };
  });
  assert.ok(!e.engine.plugins.loaded.has('gain'));
  assert.ok(!e.engine.router.has('/mod/gain1/gain'));
});

test('an effect is placed after the sources: a main-bus gain scales what the tone plays', async (t) => {
  const { e } = await start(t, { gain: { 'plugin.json': manifest('gain'), 'index.ts': GAIN } });
  await e.send('/mod/gain1/gain', [0]);
  await e.send('/gate/tone1', [1]);
  e.render(0.1);
  const { l } = e.render(0.05);
  assert.ok(l.every((x) => Math.abs(x) < 1e-6), 'gain 0 silences the tone');
});

test('a plugin that throws in process is bypassed and reported; the engine plays on', async (t) => {
  const { e } = await start(t, {
    bomb: {
      'plugin.json': manifest('bomb'),
      'index.ts': `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({ params: { x: param(0, 1, 0) }, create(ctx) { const x = ctx.param(0, 'x'); return { process() { if (x.value > 0.5) throw new Error('boom'); } }; } });`,
    },
  });
  await e.send('/gate/tone1', [1]);
  await e.send('/mod/bomb1/x', [1]);
  const { l } = e.render(0.2);
  assert.ok(Math.max(...l.subarray(4800)) > 0.4, 'the tone still plays');
  const list = await e.engine.audio.call('plugins');
  const bomb = list.find((p) => p.pluginId === 'bomb')!;
  assert.equal(bomb.bypassed, true);
  assert.match(bomb.lastError, /boom/);
});

test('a plugin that makes NaN is bypassed and its output silenced for that span', async (t) => {
  const { e } = await start(t, {
    nan: {
      'plugin.json': manifest('nan'),
      'index.ts': `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({ params: { x: param(0, 1, 0) }, create(ctx) { const b = ctx.bus('main'); return { process(s: number, e: number) { for (let i = s; i < e; i++) b.l[i] = NaN; } }; } });`,
    },
  });
  await e.send('/gate/tone1', [1]);
  const { l } = e.render(0.1);
  assert.ok(l.every((x) => Number.isFinite(x)));
  assert.ok(Math.max(...l.subarray(2400)) > 0.4, 'the tone plays on once the NaN plugin is bypassed');
});
