/**
 * Containment of plugin faults: the kernel checks every bus a plugin obtained right after that
 * plugin's own call, so only the culprit is bypassed (not the next plugin that reads what it wrote),
 * and a bypassed plugin comes back — by a new version, by a state that loads (a pattern), or by
 * `/engine/plugin/reset <id>`. Each test asserts that the engine still renders and what was reported.
 */
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { PLUGINS_DIR } from '../helpers/effect-engine.ts';
import { FIXTURE_PLUGINS, OfflineEngine, type OfflineEngineOptions } from '../helpers/offline-engine.ts';

type Status = { pluginId: string; bypassed: boolean; faults: number; lastError: string };

/** A folder with copies of the named project plugins and fixtures, plus inline plugins. */
async function pluginsWith(copies: string[], extra: Record<string, Record<string, string>> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-faults-'));
  for (const name of copies) {
    const from = [PLUGINS_DIR, FIXTURE_PLUGINS].map((d) => path.join(d, name));
    const src = (await Promise.all(from.map((f) => readFile(path.join(f, 'plugin.json')).then(() => f, () => null)))).find((f) => f !== null);
    assert.ok(src, `no plugin folder ${name}`);
    await cp(src, path.join(dir, name), { recursive: true });
  }
  for (const [folder, files] of Object.entries(extra)) {
    await mkdir(path.join(dir, folder), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, folder, name), text);
  }
  return dir;
}

async function start(t: { after(fn: () => Promise<void>): void }, copies: string[], extra: Record<string, Record<string, string>> = {}, configure?: OfflineEngineOptions['configure']) {
  const dir = await pluginsWith(copies, extra);
  const e = await OfflineEngine.start({
    pluginsFrom: dir,
    configure: (c) => {
      c.audio.sampleRate = 48000;
      configure?.(c);
    },
  });
  t.after(async () => {
    await e.close();
    await rm(dir, { recursive: true, force: true });
  });
  return e;
}

const manifest = (id: string, role: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, name: id, version: '1.0.0', apiVersion: 1, role, entry: 'index.ts', modules: [`${id}1`], ...extra });

/** A main-bus effect that, while `x` > 0.5, writes NaN into `master` — a bus it is not an effect of. */
const CULPRIT = `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { x: param(0, 1, 0, { smoothingMs: 0 }) },
  create(ctx) {
    const x = ctx.param(0, 'x');
    const master = ctx.bus('master');
    return { process(s: number, e: number) { if (x.value > 0.5) for (let i = s; i < e; i++) master.l[i] = NaN; } };
  },
});`;

async function status(e: OfflineEngine, id: string): Promise<Status> {
  const s = (await e.engine.audio.call('plugins')).find((p) => p.pluginId === id);
  assert.ok(s, `${id} is not in the graph`);
  return s;
}

function peak(x: Float32Array, from = 0): number {
  let m = 0;
  for (let i = from; i < x.length; i++) {
    assert.ok(Number.isFinite(x[i]), `sample ${i} is ${x[i]}`);
    m = Math.max(m, Math.abs(x[i]));
  }
  return m;
}

/** The reports the audio thread queued, turned into /engine/error notices (the engine does this every 50 ms). */
async function engineErrors(e: OfflineEngine, id: string): Promise<string> {
  e.engine.drainReports();
  const r = await e.waitFor('/engine/error', (x) => x.args[0] === id, 5000);
  return r.args.map(String).join(' ');
}

/** voice1 playing a saw into main and both sends. */
async function playVoice(e: OfflineEngine): Promise<void> {
  for (const [p, v] of [['osc/type', 1], ['amp', 0.3], ['send/reverb', 0.5], ['send/delay', 0.5]] as const) await e.send(`/mod/voice1/${p}`, [v]);
  await e.send('/gate/voice1', [1]);
}

test('a main effect writing NaN into master is bypassed; delay and reverb after it are not, and the engine plays on', async (t) => {
  const e = await start(t, ['voices', 'reverb', 'delay'], { culprit: { 'plugin.json': manifest('culprit', 'effect', { bus: 'main' }), 'index.ts': CULPRIT } });
  await playVoice(e);
  e.render(0.1);
  await e.send('/mod/culprit1/x', [1]);
  const { l } = e.render(0.3);
  const culprit = await status(e, 'culprit');
  assert.equal(culprit.bypassed, true, 'the culprit is bypassed');
  assert.match(culprit.lastError, /non-finite or runaway/);
  for (const id of ['reverb', 'delay', 'voices']) {
    const s = await status(e, id);
    assert.equal(s.bypassed, false, `${id} was bypassed: ${s.lastError}`);
    assert.equal(s.faults, 0, `${id} faulted`);
  }
  assert.ok(peak(l, 4800) > 0.05, 'voice, reverb and delay still sound');
  assert.match(await engineErrors(e, 'culprit'), /^culprit PLUGIN_FAULT bypassed: .*non-finite or runaway/);
  assert.ok(!e.replies.some((r) => r.address === '/engine/error' && r.args[0] !== 'culprit'), 'no other plugin reported');
});

test('a source writing NaN into a send bus is bypassed, not the send effect that reads it', async (t) => {
  const SENDER = `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { x: param(0, 1, 0, { smoothingMs: 0 }) },
  create(ctx) {
    const x = ctx.param(0, 'x');
    const send = ctx.bus('send:reverb');
    const main = ctx.bus('main');
    return { process(s: number, e: number) { for (let i = s; i < e; i++) { main.l[i] += 0.1; send.l[i] += x.value > 0.5 ? Infinity : 0.1; } } };
  },
});`;
  const e = await start(t, ['reverb', 'delay'], { sender: { 'plugin.json': manifest('sender', 'source'), 'index.ts': SENDER } });
  e.render(0.05);
  await e.send('/mod/sender1/x', [1]);
  e.render(0.1);
  assert.equal((await status(e, 'sender')).bypassed, true);
  assert.equal((await status(e, 'reverb')).bypassed, false);
  const { l } = e.render(0.05);
  peak(l);
});

test('the distortion edit that writes NaN into master: refused by its trial, or rolled back live; delay and reverb are never bypassed', async (t) => {
  for (const stageSeconds of [1, 0]) {
    await t.test(`stageSeconds ${stageSeconds}`, async (t) => {
      const e = await start(t, ['voices', 'distortion', 'reverb', 'delay'], {}, (c) => (c.engine.stageSeconds = stageSeconds));
      await playVoice(e);
      await e.send('/mod/dist1/mix', [0.5]);
      e.render(0.1);
      const file = path.join(e.engine.config.paths.plugins, 'distortion', 'index.ts');
      const source = await readFile(file, 'utf8');
      const edited = source
        .replace("const main = ctx.bus('main');", "const main = ctx.bus('main');\n    const master = ctx.bus('master');")
        .replace('dsp.process(l, r, start, end);\n          return;', 'dsp.process(l, r, start, end);\n          master.l[start] = NaN;\n          return;');
      assert.notEqual(edited, source, 'the edit applies');
      await writeFile(file, edited);
      const load = e.engine.plugins.load(path.dirname(file));
      if (stageSeconds > 0) {
        await assert.rejects(load, /was refused before going live: .*non-finite or runaway/);
      } else {
        await load;
        e.render(0.2);
        e.engine.drainReports();
        await e.waitFor('/engine/error', (r) => r.args[0] === 'distortion' && /rolled back/.test(String(r.args[2])), 5000);
      }
      const { l } = e.render(0.2);
      assert.ok(peak(l) > 0.05, 'it still plays');
      for (const id of ['distortion', 'reverb', 'delay', 'voices']) assert.equal((await status(e, id)).bypassed, false, `${id} is not bypassed`);
      assert.ok(!e.replies.some((r) => r.address === '/engine/error' && r.args[0] !== 'distortion'), 'only the distortion is reported');
    });
  }
});

test('/engine/plugin/reset brings a bypassed plugin back (a fresh instance, same taps); an unknown id is a coded /error', async (t) => {
  const e = await start(t, ['voices', 'reverb'], { culprit: { 'plugin.json': manifest('culprit', 'effect', { bus: 'main' }), 'index.ts': CULPRIT } });
  await playVoice(e);
  await e.send('/mod/culprit1/x', [1]);
  e.render(0.1);
  assert.equal((await status(e, 'culprit')).bypassed, true);
  await e.send('/engine/plugins');
  const listed = JSON.parse(String(e.lastReply('/engine/plugins')!.args[0])) as { id: string; bypassed: boolean; faults: number }[];
  assert.deepEqual(
    listed.filter((p) => p.id === 'culprit').map((p) => [p.bypassed, p.faults]),
    [[true, 1]],
    '/engine/plugins shows it',
  );

  await e.send('/mod/culprit1/x', [0]);
  await e.send('/engine/plugin/reset', ['culprit']);
  assert.deepEqual(e.lastReply('/engine/plugin/reset')?.args, ['culprit']);
  const after = await status(e, 'culprit');
  assert.equal(after.bypassed, false, 'back in the graph');
  assert.equal(after.faults, 1, 'its fault count is history');
  const { l } = e.render(0.1);
  assert.ok(peak(l) > 0.05);
  assert.equal((await status(e, 'culprit')).bypassed, false, 'and stays (the fresh instance is healthy)');

  // Voices keep their meters across a reset (the control thread reads the same shared memory).
  const meters = e.engine.plugins.loaded.get('voices')!.meters!;
  await e.send('/engine/plugin/reset', ['voices']);
  meters.fill(0);
  await e.send('/gate/voice1', [1]);
  e.render(0.05);
  assert.ok(meters[0] > 0, 'the reset voices write the same meters');

  await e.send('/engine/plugin/reset', ['nope']);
  const error = e.lastReply('/error');
  assert.deepEqual(error?.args.slice(0, 2), ['/engine/plugin/reset', 'PLUGIN_UNKNOWN']);
  assert.match(String(error?.args[2]), /no plugin "nope" is loaded; \/engine\/plugins lists them/);
  e.render(0.01);
});

test('a bypassed plugin comes back when a new version of it loads', async (t) => {
  const e = await start(t, ['voices'], { culprit: { 'plugin.json': manifest('culprit', 'effect', { bus: 'main' }), 'index.ts': CULPRIT } });
  await playVoice(e);
  await e.send('/mod/culprit1/x', [1]);
  e.render(0.05);
  assert.equal((await status(e, 'culprit')).bypassed, true);
  const folder = path.join(e.engine.config.paths.plugins, 'culprit');
  await writeFile(path.join(folder, 'index.ts'), CULPRIT.replace('= NaN', '*= 1'));
  await e.engine.plugins.load(folder);
  const s = await status(e, 'culprit');
  assert.deepEqual([s.bypassed, s.faults], [false, 0], 'the new version plays');
  const { l } = e.render(0.1);
  assert.ok(peak(l) > 0.05);
  assert.equal((await status(e, 'culprit')).bypassed, false);
});

/** A source with a gain in its state (and a stateSchema), that makes a runaway while `boom` > 0.5. */
const FRAGILE = `import { definePlugin, param, z } from 'plugin-sdk';
const State = z.object({ v: z.literal(1), gain: z.number().min(0).max(1) }).partial();
export default definePlugin({
  params: { boom: param(0, 1, 0, { smoothingMs: 0 }) },
  stateSchema: State,
  create(ctx) {
    const boom = ctx.param(0, 'boom');
    const main = ctx.bus('main');
    let gain = 0.25;
    return {
      process(s: number, e: number) { for (let i = s; i < e; i++) main.l[i] += boom.value > 0.5 ? 1e6 : gain; },
      getState: () => ({ v: 1, gain }),
      setState(state: unknown) { const p = State.safeParse(state); if (p.success && p.data.gain !== undefined) gain = p.data.gain; },
    };
  },
});`;

test('a pattern load clears a bypass: a fresh instance takes the slot state; a slot whose state is out of range is refused naming the field', async (t) => {
  const e = await start(t, ['voices', 'acid', 'patterns'], { fragile: { 'plugin.json': manifest('fragile', 'source'), 'index.ts': FRAGILE } });
  await e.send('/pattern/save', [7]);
  assert.ok(e.lastReply('/pattern/saved'), 'saved');

  await e.send('/mod/fragile1/boom', [1]);
  e.render(0.05);
  assert.equal((await status(e, 'fragile')).bypassed, true);
  // The slot holds boom 0 and the gain: the load sets both, and the bypassed plugin plays again.
  await e.send('/pattern/load', [7, 'immediate']);
  assert.ok(e.lastReply('/pattern/loaded'), `loaded: ${JSON.stringify(e.lastReply('/error')?.args)}`);
  assert.equal((await status(e, 'fragile')).bypassed, false, 'the load brought it back');
  const { l } = e.render(0.05);
  assert.ok(Math.abs(l[l.length - 1] - 0.25) < 1e-6, `it plays its state's gain (${l[l.length - 1]})`);

  // The reproduction: voice and acid states holding 1e15 are refused before anything changes.
  const file = path.join(e.engine.config.paths.patterns, 'slots', 'slot_007.json');
  const doc = JSON.parse(await readFile(file, 'utf8'));
  doc.plugins.voices.voices[0].filter.ic1 = 1e15;
  doc.plugins.acid.filter.left.s[0] = 1e15;
  await writeFile(file, JSON.stringify(doc));
  const before = await e.engine.audio.call('getState', 'voices', 'save');
  await e.send('/pattern/load', [7, 'immediate']);
  const error = e.lastReply('/error');
  assert.equal(error?.args[0], '/pattern/load');
  assert.equal(error?.args[1], 'PATTERN_INVALID');
  assert.match(String(error?.args[2]), /slot_007\.json: plugins\.voices: voices\[0\]\.filter\.ic1: .*1024 \(found 1000000000000000\)/);
  assert.match(String(error?.args[2]), /slot_007\.json: plugins\.acid: filter\.left\.s\[0\]: .*\(found 1000000000000000\)/);
  assert.deepEqual(await e.engine.audio.call('getState', 'voices', 'save'), before, 'voices unchanged');
  await e.send('/gate/voice2', [1]);
  const out = e.render(0.1);
  assert.ok(peak(out.l) > 0.01, 'voice2 through acid plays');
  for (const id of ['voices', 'acid', 'fragile']) assert.equal((await status(e, id)).bypassed, false, `${id} is not bypassed`);
});
