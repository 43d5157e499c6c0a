/**
 * The kernel names no send bus of a plugin: a send plugin with any bus name (here `wash`, which no
 * file of the kernel mentions) gets its bus, every voice gets `send/wash` feeding it, and the trial
 * engine's noise reaches it; the rules of kernel/plugins/send-buses.ts (what a source that takes
 * sends gets, what is refused, the notices when a bus goes); and, as a supplement, no file in
 * kernel/ spells the send bus of a plugin in plugins/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { Bus, PluginDefinition } from '../../plugin-sdk/types.ts';
import type { SlotSpec } from '../../kernel/audio/slot-spec.ts';
import { trialEngine } from '../../kernel/audio/trial-engine.ts';
import { parseManifest } from '../../kernel/plugins/manifest.ts';
import { declaredSendBuses, removalNotices, sendParamSpec, withSends } from '../../kernel/plugins/send-buses.ts';
import { PLUGINS_DIR } from '../helpers/effect-engine.ts';
import { OfflineEngine, PROJECT_ROOT } from '../helpers/offline-engine.ts';

const manifest = (id: string, role: string, extra: Record<string, unknown> = {}) =>
  parseManifest({ id, name: id, version: '1.0.0', apiVersion: 1, role, entry: 'index.ts', modules: [`${id}1`], ...extra }, `plugins/${id}/plugin.json`, 1);

/** A send that adds its own bus, unchanged, into master. */
const WASH = `import { definePlugin, type Bus } from 'plugin-sdk';
export default definePlugin({
  params: {},
  create(ctx) {
    const input = ctx.ownBus as Bus;
    const master = ctx.bus('master');
    return { process(s: number, e: number) { for (let i = s; i < e; i++) { master.l[i] += input.l[i]; master.r[i] += input.r[i]; } } };
  },
});`;

describe('send buses (kernel/plugins/send-buses.ts)', () => {
  const source = manifest('tone', 'source');
  const definition = (extra: Partial<PluginDefinition> = {}): PluginDefinition => ({ params: { amp: { min: 0, max: 1, default: 0.5 } }, create: () => ({ process() {} }), ...extra });

  test('the declared buses are those of the loaded send plugins, sorted, each once', () => {
    const plugins = [manifest('b', 'send', { bus: 'wash' }), manifest('a', 'send', { bus: 'air' }), source, manifest('c', 'send', { bus: 'wash' }), manifest('d', 'effect', { bus: 'master' })];
    assert.deepEqual(declaredSendBuses(plugins.map((m) => ({ manifest: m }))), ['air', 'wash']);
  });

  test('a source with sends: true gets send/<bus> per bus; other plugins keep their table', () => {
    const { table, sends } = withSends(source, definition({ sends: true }), ['air', 'wash']);
    assert.deepEqual(Object.keys(table), ['amp', 'send/air', 'send/wash']);
    assert.deepEqual(table['send/wash'], { min: 0, max: 1, default: 0, description: 'Send level to the wash bus' });
    assert.deepEqual(table['send/air'], sendParamSpec('air'));
    assert.deepEqual(sends, ['air', 'wash']);
    const plain = withSends(source, definition(), ['air']);
    assert.equal(plain.sends, undefined);
    assert.deepEqual(Object.keys(plain.table), ['amp']);
    assert.deepEqual(withSends(source, definition({ sends: true }), []).sends, [], 'no send plugin: no sends, but it takes them');
  });

  test('refused: sends on a plugin that is not a source, and a table that names a generated parameter', () => {
    assert.throws(() => withSends(manifest('fx', 'effect'), definition({ sends: true }), ['air']), /PLUGIN_LOAD_FAILED: plugin "fx" says sends: true, but its role is "effect"\n.*Only a source/);
    const own = definition({ sends: true, params: { 'send/air': { min: 0, max: 1, default: 0 } } });
    assert.throws(() => withSends(source, own, ['air']), /declares the parameter "send\/air" itself[\s\S]*remove it from the parameter table/);
  });

  test('a bus that is gone is one notice, not one per module; other removed parameters are named', () => {
    const removed = ['voice1/send/wash', 'voice2/send/wash', 'voice1/old'];
    assert.deepEqual(removalNotices(removed, ['air', 'wash'], ['air'], '1.0.0'), [
      'send bus "wash" is gone (no loaded send plugin declares it): send/wash was removed from every module',
      'parameter voice1/old is gone in version 1.0.0; its value was dropped',
    ]);
  });

  test('a send bus must be lower_snake: it names a parameter segment', () => {
    assert.throws(() => manifest('x', 'send', { bus: 'my-echo' }), /send\/<bus>.*e\.g\. "my_echo"/);
    assert.equal(manifest('x', 'send', { bus: 'my_echo' }).bus, 'my_echo');
  });
});

test('a send plugin with a bus the kernel has never heard of: voices get send/wash and feed exactly that bus', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-wash-'));
  await mkdir(path.join(dir, 'wash'));
  await writeFile(path.join(dir, 'wash/plugin.json'), JSON.stringify({ id: 'wash', name: 'Wash', version: '1.0.0', apiVersion: 1, role: 'send', bus: 'wash', entry: 'index.ts', modules: ['wash1'] }));
  await writeFile(path.join(dir, 'wash/index.ts'), WASH);
  const play = async (only: string[], send: number | null) => {
    const e = await OfflineEngine.start({ pluginsFrom: [PLUGINS_DIR, dir], only });
    try {
      for (const [p, v] of [['osc/type', 1], ['amp', 0.1]] as const) await e.send(`/mod/voice1/${p}`, [v], 0); // quiet: twice it stays below the output's clip
      if (send !== null) {
        assert.ok(e.engine.router.has('/mod/voice1/send/wash'), 'the voice has send/wash');
        assert.deepEqual(
          [...e.engine.registry.modules.get('voice1')!.params.keys()].filter((p) => p.startsWith('send/')),
          ['send/wash'],
          'and no other send: none is loaded',
        );
        await e.send('/mod/voice1/send/wash', [send], 0);
      }
      await e.send('/gate/voice1', [1], 0);
      return e.render(0.3).l;
    } finally {
      await e.close();
    }
  };
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dry = await play(['voices'], null);
  const washed = await play(['voices', 'wash'], 1);
  assert.ok(dry.some((x) => Math.abs(x) > 0.02));
  // Once the send level has arrived (20 ms smoothing to 1 %, snapped within 1e-6 by 60 ms): the voice
  // on main and, unchanged, through send/wash.
  const settled = 0.1 * 48000;
  assert.deepEqual(washed.subarray(settled), dry.subarray(settled).map((x) => 2 * x));
  assert.deepEqual(await play(['voices', 'wash'], 0), dry, 'at send/wash 0 the voice alone');
});

test('the trial engine feeds noise into whatever send bus a plugin declares', () => {
  const engine = trialEngine(48000, 256, 20);
  let input: Bus | null = null;
  let heard = 0;
  const definition: PluginDefinition = {
    params: {},
    create(ctx) {
      input = ctx.ownBus;
      return {
        process(s, e) {
          for (let i = s; i < e; i++) heard = Math.max(heard, Math.abs((input as Bus).l[i]));
        },
      };
    },
  };
  const spec: SlotSpec = { slotId: 7, pluginId: 'wash', version: '1.0.0', role: 'send', bus: 'wash', order: 0, code: '', filename: '', modules: ['wash1'], params: [], gates: [], follows: [], config: {}, numVoices: 8 };
  engine.load(spec, definition);
  const out = new Float32Array(256);
  for (let b = 0; b < 4; b++) engine.renderBlock(out, out, 256);
  assert.ok(input !== null, 'a send gets its own bus');
  assert.ok(heard > 0.1, `noise on send:wash (peak ${heard})`);
});

test('supplement: no file in kernel/ spells the send bus of a plugin in plugins/', () => {
  const buses = readdirSync(PLUGINS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => {
      try {
        const m = JSON.parse(readFileSync(path.join(PLUGINS_DIR, d.name, 'plugin.json'), 'utf8')) as { role?: string; bus?: string };
        return m.role === 'send' && m.bus ? [m.bus] : [];
      } catch {
        return [];
      }
    });
  assert.ok(buses.length >= 2, `send plugins found: ${buses.join(', ')}`);
  const files = (readdirSync(path.join(PROJECT_ROOT, 'kernel'), { recursive: true }) as string[]).filter((f) => /\.(ts|mjs)$/.test(f));
  const found: string[] = [];
  for (const f of files) {
    // The old engine's slot migration maps its reverb_send/delay_send fields (a file being moved out of the kernel).
    if (f.endsWith(path.join('patterns', 'legacy.ts'))) continue;
    const text = readFileSync(path.join(PROJECT_ROOT, 'kernel', f), 'utf8');
    for (const bus of buses) if (text.includes(`send:${bus}`) || text.includes(`send/${bus}`)) found.push(`kernel/${f}: ${bus}`);
  }
  assert.deepEqual(found, []);
});
