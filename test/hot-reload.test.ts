/**
 * Hot reload with real file edits while an engine plays (offline backend, so every check is on exact
 * samples): the new code is heard after the swap, the old before, with no jump beyond the crossfade;
 * every kind of broken edit leaves the old version playing and is reported with file and line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, open, readFile, rename, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine } from './helpers/offline-engine.ts';
import { playingTone } from './helpers/playing-tone.ts';

const TONE = path.join(FIXTURE_PLUGINS, 'tone');
const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxJump = (x: Float32Array) => x.reduce((m, v, i) => (i === 0 ? 0 : Math.max(m, Math.abs(v - x[i - 1]))), 0);


/** Render in small steps until `address` arrives (a reload lands between two blocks), then a bit more. */
async function renderUntil(e: OfflineEngine, address: string, match: (args: readonly unknown[]) => boolean = () => true) {
  const chunks: Float32Array[] = [];
  const seen = () => e.replies.some((r) => r.address === address && match(r.args));
  const until = Date.now() + 15_000;
  while (!seen()) {
    if (Date.now() > until) throw new Error(`no ${address}; got ${JSON.stringify(e.replies.slice(-5))}`);
    chunks.push(e.render(0, 256).l);
    await new Promise((r) => setTimeout(r, 2));
  }
  await e.engine.settle();
  chunks.push(e.render(0.1).l);
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

const halve = (src: string) => src.replace('const s = g * Math.sin(2 * Math.PI * ph);', 'const s = 0.5 * g * Math.sin(2 * Math.PI * ph);');

for (const style of ['write', 'rename-over', 'truncate-then-write'] as const) {
  test(`an edit saved by ${style} is heard after the swap, without a click, and the note goes on`, async (t) => {
    const { e, file, source } = await playingTone(t);
    assert.ok(Math.abs(peak(e.render(0.05).l) - 0.5) < 0.01, 'the old version plays at 0.5');
    const next = halve(source);
    if (style === 'write') await writeFile(file, next);
    else if (style === 'rename-over') {
      await writeFile(`${file}.tmp`, next);
      await rename(`${file}.tmp`, file);
    } else {
      const fh = await open(file, 'w');
      await fh.close();
      await new Promise((r) => setTimeout(r, 5));
      await writeFile(file, next);
    }
    const heard = await renderUntil(e, '/engine/plugin/reloaded', (a) => a[0] === 'tone');
    const after = e.render(0.1).l;
    assert.ok(Math.abs(peak(after) - 0.25) < 0.01, `the new version plays at 0.25 (${peak(after)})`);
    // A 440 Hz sine of amplitude 0.5 moves at most 0.029 per sample; the crossfade only lowers it.
    assert.ok(maxJump(heard) < 0.0288 * 1.25, `no click across the swap (largest jump ${maxJump(heard)})`);
    assert.ok(heard.every((x) => Number.isFinite(x)));
  });
}

test('reloading the same code is sample-identical to not reloading: state handed over, level-steady crossfade', async (t) => {
  const { e, file, source } = await playingTone(t);
  const reference = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'] });
  t.after(() => reference.close());
  await reference.send('/gate/tone1', [1]);
  reference.render(0.2);
  await writeFile(file, `${source}\n// touched\n`);
  const heard = await renderUntil(e, '/engine/plugin/reloaded');
  const expected = reference.render(0, heard.length).l;
  let diff = 0;
  for (let i = 0; i < heard.length; i++) diff = Math.max(diff, Math.abs(heard[i] - expected[i]));
  assert.ok(diff < 1e-6, `largest difference ${diff}`);
});

const BROKEN: Record<string, { edit: (src: string) => string; expect: RegExp; line?: boolean }> = {
  'a syntax error': { edit: (s) => s.replace('const dt = 1 / ctx.sampleRate;', 'const dt = 1 / ;'), expect: /plugins\/tone\/index\.ts:\d+:\d+: Unexpected/ },
  'a throw in create': { edit: (s) => s.replace('const dt = 1 / ctx.sampleRate;', "const dt = 1 / ctx.sampleRate; if (dt > 0) throw new Error('no create today');"), expect: /index\.ts:\d+:\d+: .*no create today/ },
  'a throw in process': { edit: (s) => s.replace('for (let m = 0; m < n; m++) {', "if (n > 0) throw new Error('no process today'); for (let m = 0; m < n; m++) {"), expect: /index\.ts:\d+:\d+: .*no process today/ },
  'NaN output': { edit: (s) => s.replace('out.l[i] += s;', 'out.l[i] += s * NaN;'), expect: /non-finite or runaway/ },
  'runaway levels': { edit: (s) => s.replace('out.l[i] += s;', 'out.l[i] += s * 1e6;'), expect: /non-finite or runaway/ },
  'a default export that is not a plugin': { edit: () => 'export default 42;\n', expect: /default export must be definePlugin/ },
};

for (const [kind, { edit, expect }] of Object.entries(BROKEN)) {
  test(`${kind}: the old version keeps playing and the error is reported with where it happened`, async (t) => {
    const { e, file, source } = await playingTone(t);
    await writeFile(file, edit(source));
    const heard = await renderUntil(e, '/engine/error', (a) => a[0] === 'tone');
    const error = e.replies.find((r) => r.address === '/engine/error')!;
    assert.match(String(error.args[2]), expect);
    assert.ok(Math.abs(peak(heard.subarray(heard.length - 4800)) - 0.5) < 0.01, 'the old version still plays');
    const list = await e.engine.audio.call('plugins');
    assert.equal(list.find((p) => p.pluginId === 'tone')!.bypassed, false);
  });
}

test('a version that fails live after passing its trial is rolled back within a block', async (t) => {
  const { e, file, source } = await playingTone(t);
  // Throws once it has rendered 1.5 s: past the 1 s trial, inside the watch.
  const late = source
    .replace('const dt = 1 / ctx.sampleRate;', 'const dt = 1 / ctx.sampleRate; let rendered = 0;')
    .replace('for (let m = 0; m < n; m++) {', "rendered += end - start; if (rendered > 1.5 * ctx.sampleRate) throw new Error('late failure'); for (let m = 0; m < n; m++) {")
    .replace('const s = g * Math.sin(2 * Math.PI * ph);', 'const s = 0.5 * g * Math.sin(2 * Math.PI * ph);');
  await writeFile(file, late);
  await renderUntil(e, '/engine/plugin/reloaded');
  const live = e.render(2).l;
  e.engine.drainReports();
  await e.waitFor('/engine/error', (r) => /rolled back/.test(String(r.args[2])));
  const error = e.replies.find((r) => r.address === '/engine/error')!;
  assert.match(String(error.args[2]), /rolled back to version 1\.0\.0: .*index\.ts:\d+:\d+: .*late failure/);
  // Before the failure the new version (0.25), after it the old one again (0.5), with no silent block between.
  assert.ok(Math.abs(peak(live.subarray(0, 4800)) - 0.25) < 0.01);
  assert.ok(Math.abs(peak(live.subarray(live.length - 4800)) - 0.5) < 0.01);
  for (let b = 0; b + 256 <= live.length; b += 256) assert.ok(peak(live.subarray(b, b + 256)) > 0.05, `block at ${b} is not silent`);
});

test('dropping a plugin folder in makes it live; deleting it removes it and its routes', async (t) => {
  const { e } = await playingTone(t);
  const folder = path.join(e.root, 'plugins/dc');
  await cp(path.join(FIXTURE_PLUGINS, 'dc'), folder, { recursive: true });
  await renderUntil(e, '/engine/plugin/loaded', (a) => a[0] === 'dc');
  assert.ok(e.engine.router.has('/mod/dc1/level'));
  await e.send('/engine/schema');
  assert.ok(JSON.parse(String(e.lastReply('/engine/schema')!.args[0])).modules.dc1);
  await rm(folder, { recursive: true });
  await renderUntil(e, '/engine/plugin/unloaded', (a) => a[0] === 'dc');
  assert.ok(!e.engine.router.has('/mod/dc1/level'));
});

test('plugins.<id>.enabled in config/local.json turns a plugin off and on while running', async (t) => {
  const { e } = await playingTone(t);
  const local = path.join(e.root, 'config/local.json');
  await writeFile(local, JSON.stringify({ plugins: { tone: { enabled: false } } }));
  await renderUntil(e, '/engine/plugin/unloaded', (a) => a[0] === 'tone');
  assert.ok(!e.engine.router.has('/gate/tone1'));
  await writeFile(local, JSON.stringify({ plugins: { tone: { enabled: true } } }));
  await renderUntil(e, '/engine/plugin/loaded', (a) => a[0] === 'tone');
  assert.ok(e.engine.router.has('/gate/tone1'));
});

test('a parameter removed from the table is dropped with a notice; a new one starts at its default', async (t) => {
  const { e, file, source } = await playingTone(t);
  await e.send('/mod/tone1/freq', [330]);
  const edited = source.replace("amp: param(0, 1, 0.5),", "gain: param(0, 1, 0.5),").replace(/'amp'/g, "'gain'");
  await writeFile(file, edited);
  await renderUntil(e, '/engine/plugin/reloaded');
  const notice = await e.waitFor('/engine/notice');
  assert.match(String(notice.args[1]), /tone1\/amp is gone/);
  assert.equal(e.engine.registry.values[e.engine.registry.param('tone1', 'freq')!.index], 330, 'kept');
  assert.equal(e.engine.registry.values[e.engine.registry.param('tone1', 'gain')!.index], 0.5, 'default');
  assert.ok(!e.engine.router.has('/mod/tone1/amp'));
});

test('replaced versions are garbage: after 20 reloads only the playing version and its fallback are alive', async (t) => {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const e = await OfflineEngine.start({ pluginsFrom: FIXTURE_PLUGINS, only: ['tone'], configure: (c) => (c.engine.stageSeconds = 0) });
  t.after(() => e.close());
  const folder = path.join(e.root, 'plugins/tone');
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < 20; i++) {
    await e.engine.plugins.load(folder);
    const state = (await e.engine.audio.call('plugins')).find((p) => p.pluginId === 'tone')!;
    const slots = (e.host.engine as unknown as { slots: { spec: { pluginId: string }; instance: object }[] }).slots;
    refs.push(new WeakRef(slots.find((s) => s.spec.pluginId === 'tone')!.instance));
    assert.equal(state.bypassed, false);
    e.render(0.01);
  }
  // Let the current job end (WeakRef targets are kept for it), then collect.
  await new Promise((r) => setTimeout(r, 0));
  gc();
  await new Promise((r) => setTimeout(r, 0));
  gc();
  const alive = refs.filter((r) => r.deref() !== undefined).length;
  assert.ok(alive <= 2, `${alive} of 20 plugin versions still alive`);
});

for (const plugin of ['delay', 'voices', 'reverb'] as const) {
  test(`state handoff: reloading ${plugin} mid-note keeps the held voice and the delay and reverb tails, sample for sample`, async (t) => {
    const only = ['voices', 'delay', 'reverb'];
    const play = async (e: OfflineEngine) => {
      await e.send('/mod/voice1/osc/type', [1]);
      await e.send('/mod/voice1/freq', [220]);
      await e.send('/mod/voice1/send/delay', [1]);
      await e.send('/mod/voice1/send/reverb', [0.5]);
      await e.send('/mod/delay1/feedback', [0.6]);
      await e.send('/gate/voice1', [1]);
      e.render(0.3);
      await e.send('/gate/voice2', [1]); // a second voice held across the reload
      await e.send('/gate/voice1', [0]); // voice1 released: its delay and reverb tails ring on
      e.render(0.1);
    };
    const reference = await OfflineEngine.start({ only });
    t.after(() => reference.close());
    const e = await OfflineEngine.start({ only, watch: true });
    t.after(() => e.close());
    await play(reference);
    await play(e);
    const file = path.join(e.root, `plugins/${plugin}/index.ts`);
    await writeFile(file, `${await readFile(file, 'utf8')}\n// touched\n`);
    const heard = await renderUntil(e, '/engine/plugin/reloaded', (a) => a[0] === plugin);
    const expected = reference.render(0, heard.length).l;
    let diff = 0;
    for (let i = 0; i < heard.length; i++) diff = Math.max(diff, Math.abs(heard[i] - expected[i]));
    assert.ok(peak(heard.subarray(heard.length - 4800)) > 0.01, 'still sounding after the reload');
    assert.ok(diff < 1e-5, `largest difference from the uninterrupted render: ${diff}`);
  });
}
