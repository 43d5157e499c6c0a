/**
 * The control half of a plugin (kernel/plugins/control-halves.ts): its routes, its folder (confined),
 * the channel to its audio half (shared values, commands), a loop stopped without stopping the
 * engine, a hot reload with state handed over while the audio half plays on untouched, a broken edit
 * refused with the old version kept, and an unload that takes its routes; the audio half made again
 * at the control half's request (`ctx.audio.reload`) with the control half running on; routes limited
 * to those its manifest declares.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { OfflineEngine } from '../helpers/offline-engine.ts';

const MANIFEST = {
  id: 'ctl',
  name: 'Control test',
  version: '1.0.0',
  apiVersion: 1,
  role: 'source',
  entry: 'index.ts',
  control: 'control.ts',
  modules: ['ctl1'],
};

/** The audio half: writes the shared level into main; answers a command with what it was sent. */
const AUDIO = `
import { definePlugin } from 'plugin-sdk';
export default definePlugin({
  params: {},
  create(ctx) {
    const main = ctx.bus('main');
    let level = ctx.shared('level');
    return {
      process(start, end) {
        const v = level instanceof Float32Array ? level[0] : 0;
        for (let i = start; i < end; i++) { main.l[i] += v; main.r[i] += v; }
      },
      shared(name, value) { if (name === 'level') level = value; },
      command(name, args) { return name === 'voices' ? ctx.numVoices : { name, args }; },
    };
  },
});
`;

const control = (version: string) => `
import { defineControl, z, CodedError } from 'plugin-sdk';
export default defineControl({
  create(ctx) {
    let count = 0;
    const level = new Float32Array(new SharedArrayBuffer(4));
    ctx.route('/ctl/ping', { args: z.tuple([z.string()]), description: 'ping' }, ([text], r) => {
      count++;
      r.reply('/ctl/pong', text, count, '${version}');
    });
    ctx.route('/ctl/write', { args: z.tuple([z.string(), z.string()]), description: 'write a file' }, async ([name, text], r) => {
      await ctx.files.writeFileAtomic(name, text);
      r.reply('/ctl/written', ctx.files.path(name));
    });
    ctx.route('/ctl/spin', { args: z.tuple([]), description: 'loops forever' }, () => { for (;;) {} });
    ctx.route('/ctl/fail', { args: z.tuple([]), description: 'a coded failure' }, () => { throw new CodedError('CTL_NOPE', 'nope'); });
    ctx.route('/ctl/level', { args: z.tuple([z.number()]), description: 'level to the audio half' }, async ([v]) => {
      level[0] = v;
      await ctx.audio.share('level', level);
    });
    ctx.route('/ctl/ask', { args: z.tuple([z.string()]), description: 'a command to the audio half' }, async ([text], r) => {
      r.replyJson('/ctl/answer', await ctx.audio.command('echo', [text]));
    });
    ctx.route('/ctl/reload', { args: z.tuple([]), description: 'make the audio half again' }, async (_args, r) => {
      const began = ctx.timers.now();
      await ctx.audio.reload();
      r.reply('/ctl/reloaded', count, ctx.numVoices, await ctx.audio.command('voices'), ctx.timers.now() >= began);
    });
    ctx.setStatus({ version: '${version}' });
    return {
      getState: () => ({ count }),
      setState: (s) => { count = s.count; },
    };
  },
});
`;

async function pluginsDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-ctl-'));
  await mkdir(path.join(dir, 'ctl'));
  await writeFile(path.join(dir, 'ctl/plugin.json'), JSON.stringify(MANIFEST));
  await writeFile(path.join(dir, 'ctl/index.ts'), AUDIO);
  await writeFile(path.join(dir, 'ctl/control.ts'), control('v1'));
  return dir;
}

async function withEngine(run: (oe: OfflineEngine, folder: string) => Promise<void>): Promise<void> {
  const src = await pluginsDir();
  const oe = await OfflineEngine.start({ pluginsFrom: src });
  try {
    await run(oe, path.join(oe.root, 'plugins', 'ctl'));
  } finally {
    await oe.close();
    await rm(src, { recursive: true, force: true });
  }
}

const errorsFor = (oe: OfflineEngine, address: string) => oe.replies.filter((r) => r.address === '/error' && r.args[0] === address);

test('routes answer; files stay in the plugin folder; a loop is stopped and the engine goes on', async () => {
  await withEngine(async (oe) => {
    await oe.send('/ctl/ping', ['a']);
    assert.deepEqual(oe.lastReply('/ctl/pong')?.args, ['a', 1, 'v1']);

    await oe.send('/ctl/write', ['notes/a.txt', 'hello']);
    const written = oe.lastReply('/ctl/written')?.args[0] as string;
    assert.equal(written, path.join(oe.root, 'data', 'ctl', 'notes', 'a.txt'));
    assert.equal(await readFile(written, 'utf8'), 'hello');

    for (const bad of ['../escape.txt', '/etc/passwd', 'notes/../../x']) {
      await oe.send('/ctl/write', [bad, 'no']);
      const e = errorsFor(oe, '/ctl/write').at(-1);
      assert.equal(e?.args[1], 'PATH_ESCAPE', bad);
    }

    await oe.send('/ctl/spin');
    assert.equal(errorsFor(oe, '/ctl/spin').at(-1)?.args[1], 'PLUGIN_CONTROL_HUNG');
    await oe.send('/ctl/fail');
    assert.deepEqual(errorsFor(oe, '/ctl/fail').at(-1)?.args.slice(1), ['CTL_NOPE', 'nope']);

    await oe.send('/ctl/ping', ['b']);
    assert.deepEqual(oe.lastReply('/ctl/pong')?.args, ['b', 2, 'v1']);
    assert.deepEqual(oe.engine.plugins.controls.statuses.get('ctl'), { version: 'v1' });
  });
});

test('the control half reaches its audio half: a shared value is heard; a command is answered', async () => {
  await withEngine(async (oe) => {
    let out = oe.render(0.01);
    assert.equal(out.l[100], 0);
    await oe.send('/ctl/level', [0.25]);
    out = oe.render(0.01);
    assert.ok(out.l.every((v) => v === 0.25), 'every sample carries the shared level');
    await oe.send('/ctl/ask', ['x']);
    assert.deepEqual(oe.lastReply('/ctl/answer')?.args, [JSON.stringify({ name: 'echo', args: ['x'] })]);

    // A reload of the audio half keeps what was shared.
    const index = path.join(oe.root, 'plugins', 'ctl', 'index.ts');
    await writeFile(index, AUDIO.replace('main.l[i] += v;', 'main.l[i] += v; /* v2 */'));
    await oe.engine.plugins.load(path.dirname(index));
    out = oe.render(0.2);
    assert.equal(out.l[out.l.length - 1], 0.25);
  });
});

test('a hot reload of the control half hands its state over and leaves the audio half alone; a broken edit keeps the old version', async () => {
  await withEngine(async (oe, folder) => {
    await oe.send('/ctl/ping', ['a']);
    const slotBefore = oe.engine.plugins.loaded.get('ctl')?.slotId;

    await writeFile(path.join(folder, 'control.ts'), control('v2'));
    await oe.engine.plugins.load(folder);
    assert.equal(oe.engine.plugins.loaded.get('ctl')?.slotId, slotBefore, 'the audio half was not reloaded');
    await oe.send('/ctl/ping', ['b']);
    assert.deepEqual(oe.lastReply('/ctl/pong')?.args, ['b', 2, 'v2']);

    await writeFile(path.join(folder, 'control.ts'), control('v3').replace('let count = 0;', 'let count = 0;\n    throw new Error("broken create");'));
    await assert.rejects(oe.engine.plugins.load(folder), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'PLUGIN_LOAD_FAILED');
      assert.match(e.message, /control\.ts:\d+:\d+: broken create/);
      return true;
    });
    await oe.send('/ctl/ping', ['c']);
    assert.deepEqual(oe.lastReply('/ctl/pong')?.args, ['c', 3, 'v2'], 'v2 still answers, count kept');

    await writeFile(path.join(folder, 'control.ts'), 'export default { nope: 1 }');
    await assert.rejects(oe.engine.plugins.load(folder), /defineControl/);

    await oe.engine.plugins.unload('ctl');
    await oe.send('/ctl/ping', ['d']);
    assert.equal(errorsFor(oe, '/ctl/ping').at(-1)?.args[1], 'OSC_UNKNOWN_ADDRESS');
    assert.equal(oe.engine.plugins.controls.statuses.has('ctl'), false);
  });
});

test('the control half has its audio half made again and runs on (same instance, state kept); it knows the voice count', async () => {
  await withEngine(async (oe) => {
    await oe.send('/ctl/ping', ['a']);
    const instance = oe.engine.plugins.controls.instance('ctl');
    const slotBefore = oe.engine.plugins.loaded.get('ctl')?.slotId;
    await oe.send('/ctl/level', [0.5]);
    await oe.send('/ctl/reload');
    assert.deepEqual(oe.lastReply('/ctl/reloaded')?.args, [1, oe.engine.config.engine.numVoices, oe.engine.config.engine.numVoices, true]);
    assert.notEqual(oe.engine.plugins.loaded.get('ctl')?.slotId, slotBefore, 'a new audio half');
    assert.equal(oe.engine.plugins.controls.instance('ctl'), instance, 'the same control half');
    await oe.send('/ctl/ping', ['b']);
    assert.deepEqual(oe.lastReply('/ctl/pong')?.args, ['b', 2, 'v1']);
    const out = oe.render(0.2);
    assert.equal(out.l[out.l.length - 1], 0.5, 'the shared value reached the new audio half');
  });
});

test('a control half may map only the routes its manifest declares', async () => {
  await withEngine(async (oe, folder) => {
    await writeFile(path.join(folder, 'plugin.json'), JSON.stringify({ ...MANIFEST, routes: ['/ctl/ping'] }));
    await assert.rejects(oe.engine.plugins.load(folder), /\/ctl\/write is not among the routes its plugin\.json declares \(\/ctl\/ping\)/);
    await oe.send('/ctl/ping', ['a']);
    assert.deepEqual(oe.lastReply('/ctl/pong')?.args, ['a', 1, 'v1'], 'the version before plays on');
  });
});
