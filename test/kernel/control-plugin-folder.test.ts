/**
 * A control half's read-only view of its own plugin folder (`ctx.pluginFiles`,
 * kernel/plugins/control-files.ts): it reads what ships with the plugin, refuses names that leave
 * the folder, has no way to write; its watch reports a data file's change while the plugin's code
 * is not reloaded for it (kernel/plugins/plugin-watcher.ts `reloadsCode`), and a code file still
 * reloads the plugin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedPlugin } from '../../kernel/plugins/plugin-host.ts';
import { reloadsCode } from '../../kernel/plugins/plugin-watcher.ts';
import { OfflineEngine } from '../helpers/offline-engine.ts';

const MANIFEST = { id: 'pf', name: 'Plugin folder test', version: '1.0.0', apiVersion: 1, role: 'source', entry: 'index.ts', control: 'control.ts', modules: ['pf1'] };

const AUDIO = `
import { definePlugin } from 'plugin-sdk';
export default definePlugin({ params: {}, create() { return { process() {} }; } });
`;

const CONTROL = `
import { defineControl, z } from 'plugin-sdk';
export default defineControl({
  create(ctx) {
    const name = z.tuple([z.string()]);
    ctx.route('/pf/read', { args: name, description: 'a file of the plugin folder' }, async ([file], r) => {
      r.reply('/pf/text', String.fromCharCode(...(await ctx.pluginFiles.readFile(file))));
    });
    ctx.route('/pf/list', { args: name, description: 'a folder of the plugin folder' }, async ([dir], r) => {
      r.replyJson('/pf/list', (await ctx.pluginFiles.readdir(dir)).sort());
    });
    ctx.route('/pf/api', { args: z.tuple([]), description: 'what pluginFiles offers' }, (_args, r) => {
      r.replyJson('/pf/api', { keys: Object.keys(ctx.pluginFiles).sort(), root: ctx.pluginFiles.root });
    });
    ctx.pluginFiles.watch('data', (file, kind) => ctx.broadcast('/pf/changed', file, kind));
    return {};
  },
});
`;

async function withEngine(run: (oe: OfflineEngine, folder: string) => Promise<void>): Promise<void> {
  const src = await mkdtemp(path.join(os.tmpdir(), 'chronus-pf-'));
  await mkdir(path.join(src, 'pf/data'), { recursive: true });
  await writeFile(path.join(src, 'pf/plugin.json'), JSON.stringify(MANIFEST));
  await writeFile(path.join(src, 'pf/index.ts'), AUDIO);
  await writeFile(path.join(src, 'pf/control.ts'), CONTROL);
  await writeFile(path.join(src, 'pf/data/a.txt'), 'shipped');
  const oe = await OfflineEngine.start({ pluginsFrom: src, watch: true });
  try {
    await run(oe, path.join(oe.root, 'plugins', 'pf'));
  } finally {
    await oe.close();
    await rm(src, { recursive: true, force: true });
  }
}

const errorFor = (oe: OfflineEngine, address: string) => oe.replies.filter((r) => r.address === '/error' && r.args[0] === address).at(-1);

test('ctx.pluginFiles reads the plugin’s own folder, confined to it, and cannot write', async () => {
  await withEngine(async (oe, folder) => {
    await oe.send('/pf/read', ['data/a.txt']);
    assert.deepEqual(oe.lastReply('/pf/text')?.args, ['shipped']);
    await oe.send('/pf/list', ['.']);
    assert.deepEqual(JSON.parse(String(oe.lastReply('/pf/list')?.args[0])), ['control.ts', 'data', 'index.ts', 'plugin.json']);
    await oe.send('/pf/api');
    const api = JSON.parse(String(oe.lastReply('/pf/api')?.args[0]));
    assert.deepEqual(api, { keys: ['path', 'readFile', 'readdir', 'root', 'stat', 'watch'], root: folder });

    await symlink(os.tmpdir(), path.join(folder, 'data/out'));
    for (const bad of ['../pf/../../config/default.json', '/etc/passwd', 'data/../../x', 'data/out/anything']) {
      await oe.send('/pf/read', [bad]);
      assert.equal(errorFor(oe, '/pf/read')?.args[1], 'PATH_ESCAPE', bad);
    }
  });
});

test('a data file’s change reaches the control half’s watch and reloads no code; a code file does', async () => {
  await withEngine(async (oe, folder) => {
    const watcher = oe.engine.watcher;
    assert.ok(watcher);
    const slot = oe.engine.plugins.loaded.get('pf')?.slotId;
    const control = oe.engine.plugins.controls.instance('pf');
    await writeFile(path.join(folder, 'data/a.txt'), 'edited');
    const changed = await oe.waitFor('/pf/changed');
    assert.deepEqual(changed.args, ['data/a.txt', 'change']);
    await writeFile(path.join(folder, 'data/b.json'), '{}');
    await oe.waitFor('/pf/changed', (r) => r.args[0] === 'data/b.json');
    await watcher.idle();
    assert.equal(oe.engine.plugins.loaded.get('pf')?.slotId, slot, 'the audio half stayed');
    assert.equal(oe.engine.plugins.controls.instance('pf'), control, 'the control half stayed');
    assert.equal(oe.replies.filter((r) => r.address === '/engine/plugin/reloaded').length, 0);

    await writeFile(path.join(folder, 'control.ts'), `${CONTROL}\n// edited\n`);
    await oe.waitFor('/engine/plugin/reloaded', (r) => r.args[0] === 'pf');
    assert.notEqual(oe.engine.plugins.controls.instance('pf'), control, 'an edit of its code reloads it');
  });
});

test('reloadsCode: plugin.json, bundle inputs and source files reload a plugin; its data does not', () => {
  const folder = '/p/plugins/kit';
  const loaded = { folder, inputs: [`${folder}/index.ts`, `${folder}/table.json`] } as unknown as LoadedPlugin;
  const host = { loaded: new Map([['kit', loaded]]) };
  const none = { loaded: new Map<string, LoadedPlugin>() };
  const cases: [string, string, boolean][] = [
    ['change', `${folder}/plugin.json`, true],
    ['change', `${folder}/index.ts`, true],
    ['change', `${folder}/table.json`, true], // imported by the code
    ['add', `${folder}/helper.ts`, true], // not imported yet, but it may be next
    ['unlink', `${folder}/dsp.mjs`, true],
    ['addDir', folder, true],
    ['unlinkDir', folder, true],
    ['change', `${folder}/samples/drum1.wav`, false],
    ['add', `${folder}/samples/kit.json`, false],
    ['addDir', `${folder}/samples`, false],
    ['change', `${folder}/README.md`, false],
  ];
  for (const [event, file, want] of cases) assert.equal(reloadsCode(event, file, folder, host), want, `${event} ${file}`);
  // A folder whose plugin is not loaded (arriving, or its last load failed) reloads on any file.
  assert.equal(reloadsCode('change', `${folder}/samples/drum1.wav`, folder, none), true);
});
