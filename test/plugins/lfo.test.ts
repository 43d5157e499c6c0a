/**
 * lfo1 / lfo2: rate, depth, shapes, offset, targets (set, retarget, bad address, defaults resolved
 * late), state round-trip and hot reload. The LFO modulates the `param-probe` fixture's unsmoothed
 * parameter `x`, which the probe writes as DC (xprobe1 → left, xprobe2 → right), so the rendered
 * output is the modulation itself, block by block.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT, type OfflineEngineOptions } from '../helpers/offline-engine.ts';
import { lfoWave, LfoCore, modulationValue, SHAPE_NAMES, SHAPE_SAMPLE_HOLD } from '../../plugins/lfo/dsp.ts';

const PLUGINS = path.join(PROJECT_ROOT, 'plugins');

type T = { after(fn: () => Promise<void>): void };

async function start(t: T, options: OfflineEngineOptions = {}): Promise<OfflineEngine> {
  const e = await OfflineEngine.start({ pluginsFrom: [PLUGINS, FIXTURE_PLUGINS], only: ['lfo', 'param-probe'], ...options });
  t.after(() => e.close());
  return e;
}

/** An engine where every parameter without its own smoothing steps at once (exact expectations). */
const unsmoothed: OfflineEngineOptions = { configure: (c) => (c.engine.smoothingMs = 0) };

/** The first sample of each block of `x` (the value the LFO sent for that block). */
function perBlock(x: Float32Array, block: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < x.length; i += block) out.push(x[i]);
  return out;
}

async function setParams(e: OfflineEngine, module: string, values: Record<string, number>): Promise<void> {
  for (const [name, v] of Object.entries(values)) await e.send(`/mod/${module}/${name}`, [v]);
  // beginBlock reads parameters as of the block start: one block makes the new values current.
  e.render(0, e.host.blockSize);
}

async function lfoState(e: OfflineEngine): Promise<{ v: number; modules: Record<string, { target: string; phase: number; held: number; seed: number }> }> {
  return (await e.host.call('getState', 'lfo')) as never;
}

/** What the plugin will send for the next `blocks` blocks, by the same arithmetic as the plugin. */
function expected(phase0: number, rate: number, shape: number, depth: number, offset: number, range: number, blocks: number, block: number, fs: number): number[] {
  const core = new LfoCore(1);
  core.phase = phase0;
  const out: number[] = [];
  for (let k = 0; k < blocks; k++) {
    out.push(modulationValue(core.wave(shape), depth, offset, range));
    core.advance(rate * (block / fs));
  }
  return out;
}

test('lfo dsp: the five shapes at quarter phases', () => {
  const at = (shape: number, p: number) => lfoWave(shape, p, 0.25);
  assert.deepEqual([0, 0.25, 0.5, 0.75].map((p) => Math.round(at(0, p) * 1e9) / 1e9), [0, 1, 0, -1]);
  assert.deepEqual([0, 0.125, 0.25, 0.5, 0.75, 0.875].map((p) => at(1, p)), [0, 0.5, 1, 0, -1, -0.5]);
  assert.deepEqual([0, 0.25, 0.5, 0.75].map((p) => at(2, p)), [-1, -0.5, 0, 0.5]);
  assert.deepEqual([0, 0.49, 0.5, 0.99].map((p) => at(3, p)), [1, 1, -1, -1]);
  assert.equal(at(SHAPE_SAMPLE_HOLD, 0.3), 0.25);
  assert.deepEqual(SHAPE_NAMES, ['sine', 'triangle', 'saw', 'square', 'sample_hold']);
});

test('rate and depth are within 1 % (default smoothing)', async (t) => {
  const e = await start(t);
  const fs = e.sampleRate;
  const block = e.host.blockSize;
  const rate = 2;
  const depth = 0.5;
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  await setParams(e, 'lfo1', { rate, depth, range: 1, shape: 0, offset: 0 });
  e.render(0.2); // let the 20 ms parameter smoothing settle
  const seconds = 5;
  const v = perBlock(e.render(seconds).l, block);
  // Upward zero crossings, interpolated between block values.
  const ups: number[] = [];
  for (let k = 1; k < v.length; k++) if (v[k - 1] < 0 && v[k] >= 0) ups.push(k - 1 + -v[k - 1] / (v[k] - v[k - 1]));
  assert.ok(ups.length >= 9, `${ups.length} crossings`);
  const periodBlocks = (ups.at(-1)! - ups[0]) / (ups.length - 1);
  const measuredRate = fs / (periodBlocks * block);
  const peak = Math.max(...v.map(Math.abs));
  t.diagnostic(`rate ${measuredRate.toFixed(5)} Hz (set ${rate}), depth ${peak.toFixed(5)} (set ${depth})`);
  assert.ok(Math.abs(measuredRate / rate - 1) < 0.01, `rate ${measuredRate}`);
  assert.ok(Math.abs(peak / depth - 1) < 0.01, `depth ${peak}`);
  // Symmetric about the base value (0) with offset 0.
  assert.ok(Math.abs(Math.min(...v) + peak) < 0.01 * depth);
});

test('each shape renders its exact waveform, scaled by depth and range and shifted by offset', async (t) => {
  const e = await start(t, unsmoothed);
  const fs = e.sampleRate;
  const block = e.host.blockSize;
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  for (let shape = 0; shape < 4; shape++) {
    const settings = { rate: 1.37, depth: 0.6, offset: shape === 2 ? 0.25 : 0, range: shape === 1 ? 0.5 : 1, shape };
    await setParams(e, 'lfo1', settings);
    const phase0 = (await lfoState(e)).modules.lfo1.phase;
    const blocks = 400;
    const got = perBlock(e.render(0, blocks * block).l, block);
    const want = expected(phase0, settings.rate, shape, settings.depth, settings.offset, settings.range, blocks, block, fs);
    for (let k = 0; k < blocks; k++) {
      assert.ok(Math.abs(got[k] - want[k]) < 1e-6, `${SHAPE_NAMES[shape]} block ${k}: ${got[k]} vs ${want[k]}`);
    }
    const lo = Math.min(...got);
    const hi = Math.max(...got);
    const centre = settings.offset * settings.range;
    const swing = settings.depth * settings.range;
    assert.ok(hi <= centre + swing + 1e-6 && lo >= centre - swing - 1e-6, `${SHAPE_NAMES[shape]}: ${lo}..${hi}`);
    assert.ok(hi - lo > 1.9 * swing * 0.95, `${SHAPE_NAMES[shape]} spans its range: ${lo}..${hi}`);
  }
});

test('sample & hold holds one random value per period and draws a new one at each period start', async (t) => {
  const e = await start(t, unsmoothed);
  const fs = e.sampleRate;
  const block = e.host.blockSize;
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  const rate = 3;
  await setParams(e, 'lfo1', { rate, depth: 0.8, range: 1, offset: 0, shape: SHAPE_SAMPLE_HOLD });
  const phase0 = (await lfoState(e)).modules.lfo1.phase;
  const blocks = 1000;
  const got = perBlock(e.render(0, blocks * block).l, block);
  // Period starts, by the plugin's own phase arithmetic.
  const core = new LfoCore(1);
  core.phase = phase0;
  const wraps = new Set<number>();
  for (let k = 1; k < blocks; k++) {
    const before = core.phase;
    core.advance(rate * (block / fs));
    if (core.phase < before) wraps.add(k);
  }
  const values = new Set<number>();
  for (let k = 1; k < blocks; k++) {
    if (wraps.has(k)) assert.notEqual(got[k], got[k - 1], `new value at block ${k}`);
    else assert.equal(got[k], got[k - 1], `held within the period at block ${k}`);
    assert.ok(Math.abs(got[k]) <= 0.8);
    values.add(got[k]);
  }
  assert.ok(values.size >= wraps.size, `${values.size} distinct values over ${wraps.size} periods`);
  const mean = got.reduce((a, b) => a + b, 0) / got.length;
  assert.ok(Math.abs(mean) < 0.3, `mean ${mean}`);
});

test('retargeting returns the old target to its base value; two LFOs on one target add up; "none" stops', async (t) => {
  const e = await start(t, unsmoothed);
  const block = e.host.blockSize;
  await e.send('/mod/xprobe1/x', [0.1]);
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  await setParams(e, 'lfo1', { rate: 1, depth: 0.5, range: 1, offset: 0.2, shape: 3 });
  let out = e.render(0, 20 * block);
  assert.ok(Math.abs(Math.abs(out.l.at(-1)! - 0.1 - 0.2) - 0.5) < 1e-6, `probe1 modulated: ${out.l.at(-1)}`);
  assert.equal(out.r.at(-1), 0);

  await e.send('/mod/lfo1/target', ['xprobe2/x']); // the /mod/ prefix is optional
  assert.deepEqual(JSON.parse(e.lastReply('/mod/lfo1/target')!.args[0] as string), { module: 'lfo1', target: '/mod/xprobe2/x', resolved: true });
  out = e.render(0, 4 * block);
  for (let i = 0; i < out.l.length; i++) assert.ok(Math.abs(out.l[i] - 0.1) < 1e-7, `probe1 back at its base value at ${i}: ${out.l[i]}`);
  assert.ok(Math.abs(Math.abs(out.r[0] - 0.2) - 0.5) < 1e-6, `probe2 modulated from the first block: ${out.r[0]}`);

  // lfo2 joins probe2: the two offsets add.
  await setParams(e, 'lfo2', { rate: 0.5, depth: 0, range: 1, offset: -0.05, shape: 0 });
  await e.send('/mod/lfo2/target', ['/mod/xprobe2/x']);
  const s = await lfoState(e);
  const lfo1Now = modulationValue(lfoWave(3, s.modules.lfo1.phase, 0), 0.5, 0.2, 1);
  out = e.render(0, block);
  assert.ok(Math.abs(out.r[0] - (lfo1Now - 0.05)) < 1e-6, `sum ${out.r[0]} vs ${lfo1Now - 0.05}`);

  await e.send('/mod/lfo1/target', ['none']);
  await e.send('/mod/lfo2/target', ['']);
  out = e.render(0, 2 * block);
  assert.equal(out.r[0], 0);
  assert.equal(out.r.at(-1), 0);
  assert.ok(Math.abs(out.l[0] - 0.1) < 1e-7);
});

test('an unknown target gets an /error reply and leaves the target unchanged', async (t) => {
  const e = await start(t, unsmoothed);
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  await e.send('/mod/lfo1/target', ['/mod/nothing/here']);
  const err = e.lastReply('/error');
  assert.ok(err, JSON.stringify(e.replies));
  assert.equal(err.args[0], '/mod/lfo1/target');
  assert.equal(err.args[1], 'LFO_UNKNOWN_TARGET');
  assert.match(String(err.args[2]), /no parameter \/mod\/nothing\/here.*\/engine\/schema.*target unchanged: \/mod\/xprobe1\/x/);
  await e.send('/mod/lfo1/target', [42]);
  assert.equal(e.lastReply('/error')!.args[1], 'OSC_BAD_ARGS');
  await e.send('/mod/lfo1/target', []);
  assert.deepEqual(JSON.parse(e.lastReply('/mod/lfo1/target')!.args[0] as string), { module: 'lfo1', target: '/mod/xprobe1/x', resolved: true });
});

test('defaults: lfo1 swings voice2 filter/freq ±800 Hz once a voice2 loads; lfo2 4 Hz / 0.3 / range 1 in the schema', async (t) => {
  const e = await start(t);
  await e.send('/engine/schema');
  const schema = JSON.parse(e.lastReply('/engine/schema')!.args[0] as string) as {
    modules: Record<string, { params: Record<string, { default: number }> }>;
  };
  const d = (m: string, p: string) => schema.modules[m].params[p].default;
  assert.deepEqual([d('lfo1', 'rate'), d('lfo1', 'depth'), d('lfo1', 'range')], [0.25, 0.7, 8000 / 7]);
  assert.deepEqual([d('lfo2', 'rate'), d('lfo2', 'depth'), d('lfo2', 'range')], [4, 0.3, 1]);
  await e.send('/mod/lfo1/target', []);
  assert.deepEqual(JSON.parse(e.lastReply('/mod/lfo1/target')!.args[0] as string), { module: 'lfo1', target: '/mod/voice2/filter/freq', resolved: false });

  // voice2 (the acid-source fixture has /mod/voice2/filter/freq, default 1000 Hz) appears later.
  e.render(0.5);
  await cp(path.join(FIXTURE_PLUGINS, 'acid-source'), path.join(e.root, 'plugins', 'acid-source'), { recursive: true });
  await e.engine.plugins.load(path.join(e.root, 'plugins', 'acid-source'));
  const index = e.engine.registry.param('voice2', 'filter/freq')!.index;
  const param = e.host.engine.bank.get(index)!;
  e.render(0.2); // resolved within 0.1 s of audio
  let lo = Infinity;
  let hi = -Infinity;
  const block = e.host.blockSize;
  for (let k = 0; k < Math.round((4.2 * e.sampleRate) / block); k++) {
    e.render(0, block);
    lo = Math.min(lo, param.value);
    hi = Math.max(hi, param.value);
  }
  t.diagnostic(`voice2 filter/freq swings ${lo.toFixed(1)}..${hi.toFixed(1)} Hz`);
  assert.ok(Math.abs(hi - 1800) < 8 && Math.abs(lo - 200) < 8, `${lo}..${hi}`);
  assert.equal(e.engine.registry.values[index], 1000, 'the base value (what patterns save) is untouched');
});

test('state round-trips target and phase; a hot reload continues the wave without a jump', async (t) => {
  const e = await start(t, unsmoothed);
  const fs = e.sampleRate;
  const block = e.host.blockSize;
  await e.send('/mod/lfo1/target', ['/mod/xprobe2/x']);
  const settings = { rate: 0.9, depth: 0.4, offset: 0, range: 1, shape: 1 };
  await setParams(e, 'lfo1', settings);
  e.render(0.3);
  const state = await lfoState(e);
  assert.equal(state.v, 1);
  assert.equal(state.modules.lfo1.target, '/mod/xprobe2/x');
  assert.equal(state.modules.lfo2.target, '/mod/voice3/amp');
  const want = expected(state.modules.lfo1.phase, settings.rate, settings.shape, settings.depth, 0, 1, 200, block, fs);

  // A fresh engine given that state continues exactly where this one is.
  const f = await start(t, unsmoothed);
  await setParams(f, 'lfo1', settings);
  await f.host.call('setState', 'lfo', JSON.parse(JSON.stringify(state)));
  assert.deepEqual(await lfoState(f), state);
  const got = perBlock(f.render(0, 200 * block).r, block);
  for (let k = 0; k < 200; k++) assert.ok(Math.abs(got[k] - want[k]) < 1e-6, `restored block ${k}: ${got[k]} vs ${want[k]}`);

  // Hot reload of the plugin in the first engine: getState → new instance → setState, old disposed.
  const before = perBlock(e.render(0, 100 * block).r, block);
  await e.engine.plugins.load(path.join(e.root, 'plugins', 'lfo'));
  const after = perBlock(e.render(0, 100 * block).r, block);
  const joined = [...before, ...after];
  for (let k = 0; k < 200; k++) assert.ok(Math.abs(joined[k] - want[k]) < 1e-6, `across the reload, block ${k}: ${joined[k]} vs ${want[k]}`);
  assert.equal((await lfoState(e)).modules.lfo1.target, '/mod/xprobe2/x');
});

test('unloading the lfo plugin returns its targets to their base values', async (t) => {
  const e = await start(t, unsmoothed);
  await e.send('/mod/xprobe1/x', [0.05]);
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  await setParams(e, 'lfo1', { rate: 1, depth: 0, offset: 0.5, range: 1, shape: 0 });
  assert.ok(Math.abs(e.render(0, 256).l[0] - 0.55) < 1e-6);
  await e.engine.plugins.unload('lfo');
  const out = e.render(0, 256);
  assert.ok(Math.abs(out.l[0] - 0.05) < 1e-7, `${out.l[0]}`);
});

test('a hot reload keeps a constant modulation in place, also when the old version is disposed seconds later', async (t) => {
  const e = await start(t, unsmoothed);
  await e.send('/mod/lfo1/target', ['/mod/xprobe1/x']);
  await setParams(e, 'lfo1', { rate: 1, depth: 0, offset: 0.5, range: 1, shape: 0 });
  assert.ok(Math.abs(e.render(0, 256).l[0] - 0.5) < 1e-6);
  await e.engine.plugins.load(path.join(e.root, 'plugins', 'lfo'));
  // The replaced version is disposed after the kernel's watch period (3 s); render well past it.
  const out = e.render(5).l;
  for (let i = 0; i < out.length; i += 64) assert.ok(Math.abs(out[i] - 0.5) < 1e-6, `at ${i}: ${out[i]}`);
});

test('moduleDefaults (kernel): per-module start values; an unknown module, parameter or out-of-range value is refused', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-defaults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plugin = async (folder: string, defaults: string) => {
    await mkdir(path.join(dir, folder));
    const manifest = { id: folder, name: folder, version: '1.0.0', apiVersion: 1, role: 'modulator', entry: 'index.ts', modules: [`${folder}1`, `${folder}2`] };
    await writeFile(path.join(dir, folder, 'plugin.json'), JSON.stringify(manifest));
    await writeFile(
      path.join(dir, folder, 'index.ts'),
      `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({ params: { a: param(0, 10, 1) }, moduleDefaults: ${defaults}, create() { return { process() {} }; } });`,
    );
  };
  await plugin('good', `{ good2: { a: 7 } }`);
  await plugin('badmod', `{ nope: { a: 2 } }`);
  await plugin('badparam', `{ badparam1: { b: 2 } }`);
  await plugin('badrange', `{ badrange2: { a: 11 } }`);
  const e = await OfflineEngine.start({ pluginsFrom: dir });
  t.after(() => e.close());
  assert.deepEqual([...e.engine.plugins.loaded.keys()], ['good']);
  const value = (m: string) => e.engine.registry.values[e.engine.registry.param(m, 'a')!.index];
  assert.deepEqual([value('good1'), value('good2')], [1, 7]);
  assert.equal(e.host.engine.bank.get(e.engine.registry.param('good2', 'a')!.index)!.value, 7);
  const failure = async (folder: string) => {
    try {
      await e.engine.plugins.load(path.join(e.root, 'plugins', folder));
    } catch (error) {
      return (error as Error).message;
    }
    return 'loaded';
  };
  assert.match(await failure('badmod'), /PLUGIN_LOAD_FAILED.*moduleDefaults[\s\S]*moduleDefaults\.nope: not a module of this plugin \(badmod1, badmod2\)/);
  assert.match(await failure('badparam'), /moduleDefaults\.badparam1\.b: no such parameter/);
  assert.match(await failure('badrange'), /moduleDefaults\.badrange2\.a: expected a number in \[0, 10\] \(found 11\)/);
});
