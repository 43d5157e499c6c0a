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

test('timers, sockets and watches of a version are closed when it is replaced or unloaded; its open files when the plugin goes', async () => {
  await withEngine(async (oe, folder) => {
    const body = `
import { defineControl, z } from 'plugin-sdk';
export default defineControl({
  async create(ctx) {
    let ticks = 0;
    ctx.timers.setInterval(() => ctx.log.warn('tick ' + ++ticks), 150);
    const socket = await ctx.udp(0);
    socket.onMessage((data, from) => socket.send(data, from.port, from.address));
    const file = await ctx.files.open('held.bin', 'w');
    ctx.route('/ctl/port', { args: z.tuple([]), description: 'the UDP port' }, (_a, r) => r.reply('/ctl/port', socket.port));
    return { getState: () => ({ file }) };
  },
});
`;
    await writeFile(path.join(folder, 'control.ts'), body);
    await oe.engine.plugins.load(folder);
    await oe.send('/ctl/port');
    const port = oe.lastReply('/ctl/port')?.args[0] as number;
    assert.ok(port > 0);
    const { createSocket } = await import('node:dgram');
    const client = createSocket('udp4');
    try {
      const echo = new Promise<string>((resolve) => client.once('message', (m) => resolve(m.toString())));
      client.send('hi', port, '127.0.0.1');
      assert.equal(await echo, 'hi', 'the socket answers while the version lives');
    } finally {
      client.close();
    }
    // Warnings logged by a control half reach clients as /engine/notice.
    const ticks = () => oe.replies.filter((r) => r.address === '/engine/notice' && String(r.args[1]).startsWith('tick')).length;
    await oe.waitFor('/engine/notice', (r) => String(r.args[1]).startsWith('tick'));

    await oe.engine.plugins.unload('ctl');
    const after = ticks();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(ticks(), after, 'the interval stopped with the version');
    // The port is free again: binding it succeeds.
    const again = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      again.once('error', reject);
      again.bind(port, '127.0.0.1', () => resolve());
    });
    again.close();
    // The file the plugin held is closed: the handle's fd is gone (writing through a new open works and /proc shows no fd to it).
    const held = path.join(oe.root, 'data', 'ctl', 'held.bin');
    const { readdir, readlink } = await import('node:fs/promises');
    const fds = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    assert.equal(fds.includes(held), false, 'no descriptor of the process points at the held file');
  });
});

test('a plugin with only a control half: no modules, its routes, listed; dropped and removed with its folder', async () => {
  await withEngine(async (oe) => {
    const folder = path.join(oe.root, 'plugins', 'solo');
    await mkdir(folder);
    await writeFile(
      path.join(folder, 'plugin.json'),
      JSON.stringify({ id: 'solo', name: 'Solo', version: '1.0.0', apiVersion: 1, role: 'controller', control: 'control.ts' }),
    );
    await writeFile(
      path.join(folder, 'control.ts'),
      `import { defineControl, z } from 'plugin-sdk';
export default defineControl({
  create(ctx) {
    ctx.route('/solo/hello', { args: z.tuple([]), description: 'hello' }, (_a, r) => r.reply('/solo/hi', ctx.audio.live ? 1 : 0, ctx.modules.length));
    return {};
  },
});
`,
    );
    await oe.engine.plugins.load(folder);
    await oe.send('/solo/hello');
    assert.deepEqual(oe.lastReply('/solo/hi')?.args, [0, 0]);
    await oe.send('/engine/plugins');
    const list = JSON.parse(oe.lastReply('/engine/plugins')?.args[0] as string) as { id: string; modules: string[] }[];
    assert.deepEqual(list.find((p) => p.id === 'solo')?.modules, []);

    // A manifest with modules but no audio half is refused, naming the field.
    await writeFile(
      path.join(folder, 'plugin.json'),
      JSON.stringify({ id: 'solo', name: 'Solo', version: '1.0.0', apiVersion: 1, role: 'controller', control: 'control.ts', modules: ['solo1'] }),
    );
    await assert.rejects(oe.engine.plugins.load(folder), /modules: modules belong to an audio half/);
    await oe.send('/solo/hello');
    assert.equal(oe.replies.filter((r) => r.address === '/solo/hi').length, 2, 'the loaded version still answers');

    await oe.engine.plugins.unload('solo');
    await oe.send('/solo/hello');
    assert.equal(errorsFor(oe, '/solo/hello').at(-1)?.args[1], 'OSC_UNKNOWN_ADDRESS');
  });
});

test('ctx.engine: a control half sees the schema and values, drives parameters like a client, hears changes, reads levels and output', async () => {
  const src = await mkdtemp(path.join(os.tmpdir(), 'chronus-eye-'));
  await mkdir(path.join(src, 'eye'));
  await writeFile(
    path.join(src, 'eye/plugin.json'),
    JSON.stringify({ id: 'eye', name: 'Eye', version: '1.0.0', apiVersion: 1, role: 'controller', control: 'control.ts' }),
  );
  await writeFile(
    path.join(src, 'eye/control.ts'),
    `import { defineControl, z } from 'plugin-sdk';
export default defineControl({
  create(ctx) {
    const heard = [];
    ctx.engine.onParam((address, value) => heard.push([address, value]));
    ctx.engine.onPlugins((c) => heard.push([c.kind, c.id]));
    ctx.route('/eye/set', { args: z.tuple([z.string(), z.number()]), description: 'set through the engine' }, async ([address, value], r) => {
      const replies = [];
      await ctx.engine.send(address, [value], (a, args) => replies.push([a, ...args]));
      r.replyJson('/eye/replies', replies);
    });
    ctx.route('/eye/look', { args: z.tuple([]), description: 'what it sees' }, (_a, r) => {
      const out = new Float32Array(512);
      ctx.engine.recentOutput(out);
      const schema = ctx.engine.schema();
      r.replyJson('/eye/seen', {
        hasVoices: 'voice' in schema.modules,
        freq: ctx.engine.values()['/mod/voice1/freq'],
        levels: ctx.engine.levels().plugins.map((p) => [p.plugin, p.modules.length, Math.max(...p.peaks)]),
        outputPeak: Math.max(...out.map(Math.abs)),
        heard,
      });
    });
    return {};
  },
});
`,
  );
  const oe = await OfflineEngine.start({ pluginsFrom: [path.join(process.cwd(), 'plugins'), src], only: ['voices', 'eye'] });
  try {
    await oe.send('/eye/set', ['/mod/voice1/freq', 220]);
    assert.deepEqual(JSON.parse(oe.lastReply('/eye/replies')?.args[0] as string), []);
    await oe.send('/eye/set', ['/mod/voice1/nope', 1]);
    const refused = JSON.parse(oe.lastReply('/eye/replies')?.args[0] as string) as unknown[][];
    assert.equal(refused[0][0], '/error');
    assert.equal(refused[0][2], 'OSC_UNKNOWN_ADDRESS');
    await oe.send('/mod/voice1/amp', [0.5]);
    await oe.send('/gate/voice1', [1]);
    oe.render(0.2);
    await oe.send('/eye/look');
    const seen = JSON.parse(oe.lastReply('/eye/seen')?.args[0] as string) as {
      hasVoices: boolean;
      freq: number;
      levels: [string, number, number][];
      outputPeak: number;
      heard: unknown[][];
    };
    assert.equal(seen.hasVoices, true);
    assert.equal(seen.freq, 220);
    const voices = seen.levels.find(([p]) => p === 'voices');
    assert.ok(voices && voices[1] === 8 && voices[2] > 0.05, JSON.stringify(seen.levels));
    assert.ok(seen.outputPeak > 0.05, `output peak ${seen.outputPeak}`);
    assert.deepEqual(seen.heard, [
      ['/mod/voice1/freq', 220],
      ['/mod/voice1/amp', 0.5],
    ]);
    // A second look: the peaks were this reader's since its last call.
    await oe.send('/gate/voice1', [0]);
    oe.render(2);
    await oe.send('/eye/look');
    oe.render(0.1);
    await oe.send('/eye/look');
    const again = JSON.parse(oe.lastReply('/eye/seen')?.args[0] as string) as { levels: [string, number, number][] };
    assert.ok((again.levels.find(([p]) => p === 'voices')?.[2] ?? 1) < 0.05);
  } finally {
    await oe.close();
    await rm(src, { recursive: true, force: true });
  }
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
