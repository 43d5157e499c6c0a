/**
 * The plugin conformance suite: every folder in plugins/ with a plugin.json (discovered when the
 * test runs, so new plugins are covered without touching this file) must
 *
 *  1. have a valid manifest (kernel/plugins/manifest.ts readManifest);
 *  2. load in an offline engine holding only it, the `voices` plugin (when present, as a source for
 *     controllers, modulators and effects) and the `probe` test source;
 *  3. stay finite for 1,000 blocks of silence, then for 1,000 blocks of full-scale white noise on
 *     every bus it can read (probe noise into main and both sends at level 1, every voice on white
 *     noise at amp 1 with every send at 1), while its own parameters are swept to random values across
 *     their ranges and its gates toggle — it is never bypassed for a fault;
 *  4. round-trip its state for both purposes: getState → setState on a fresh instance → the same
 *     getState; the 'save' state (what patterns store) must be plain bounded JSON, the 'reload'
 *     state (a hot reload) may hold typed arrays and is structured-cloned; a plugin with state
 *     declares a `stateSchema` that its own getState output (both purposes) passes, and a poisoned
 *     copy of its state (every number but the version 1e15 or NaN) is refused or ignored by setState: it plays on;
 *  5. answer every parameter of its table over OSC (/mod/<module>/<param> gets no /error) and clamp
 *     it at its range (max + 1000 → max, min − 1000 → min);
 *  6. with a control half (manifest `control`): have it running; answer every route it maps (sent
 *     with no arguments: a reply or a coded refusal, never an uncoded failure or a hang); on a reload
 *     of the unchanged folder start a new version that gets the old one's state, leaving the audio
 *     half alone;
 *  7. leave nothing behind when unloaded: the routes and schema modules are those of an engine that
 *     never loaded it, its audio slot is gone, and its control half with its status; a load and
 *     unload again leave the process no more handles (watches, timers, sockets, files) than before.
 * A plugin with only a control half skips what concerns audio (2–5).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readManifest, type Manifest } from '../../kernel/plugins/manifest.ts';
import { checkJson } from '../../plugin-sdk/state-json.ts';
import { API_VERSION } from '../../plugin-sdk/types.ts';
import { PLUGINS_DIR } from '../helpers/effect-engine.ts';
import { FIXTURE_PLUGINS, OfflineEngine } from '../helpers/offline-engine.ts';
import { assertHealthy, checkControlHalf, checkControlUnload, checkDeterminism, exercise, feedNoise, modulesOf, renderChecked } from '../helpers/plugin-checks.ts';

const BLOCKS = 1000;

const folders = readdirSync(PLUGINS_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(path.join(PLUGINS_DIR, d.name, 'plugin.json')))
  .map((d) => d.name)
  .sort();

test('there are plugins to check', () => {
  assert.ok(folders.length > 0, `no plugin folders with a plugin.json in ${PLUGINS_DIR}`);
});


/** The folders an engine testing `folder` loads: it, the probe, and voices when present. */
function engineFolders(folder: string): string[] {
  const only = [folder, 'probe'];
  if (folder !== 'voices' && existsSync(path.join(PLUGINS_DIR, 'voices', 'plugin.json'))) only.push('voices');
  return only;
}

function startWithFolders(only: string[], manifest?: Manifest): Promise<OfflineEngine> {
  return OfflineEngine.start({
    pluginsFrom: [PLUGINS_DIR, FIXTURE_PLUGINS],
    only,
    configure: (c) => {
      c.audio.sampleRate = 48000;
      if (manifest) c.plugins[manifest.id] = { ...(c.plugins[manifest.id] ?? {}), enabled: true };
    },
  });
}


/** A deep copy of `value` with every number (typed array elements too) but the version fields `v` replaced by `x`. */
function poisonNumbers(value: unknown, x: number): unknown {
  if (typeof value === 'number') return x;
  if (value instanceof Float32Array || value instanceof Float64Array) return value.map(() => x);
  if (Array.isArray(value)) return value.map((v) => poisonNumbers(v, x));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === 'v' ? v : poisonNumbers(v, x)]));
  return value;
}

function containsNumber(value: unknown): boolean {
  if (typeof value === 'number' || value instanceof Float32Array || value instanceof Float64Array) return true;
  if (Array.isArray(value)) return value.some(containsNumber);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsNumber);
  return false;
}



for (const folder of folders) {
  const dir = path.join(PLUGINS_DIR, folder);

  describe(`plugin ${folder}`, () => {
    let manifest: Manifest | undefined;
    let manifestError: unknown;
    let e: OfflineEngine | undefined;

    before(async () => {
      try {
        manifest = await readManifest(dir, API_VERSION, `plugins/${folder}/plugin.json`);
      } catch (error) {
        manifestError = error;
        return;
      }
      e = await startWithFolders(engineFolders(folder), manifest);
    });
    after(async () => {
      await e?.close();
    });

    const ready = (): { m: Manifest; e: OfflineEngine } => {
      assert.ok(manifest, `manifest invalid: ${(manifestError as Error)?.message}`);
      assert.ok(e);
      const plugins = e.engine.plugins;
      assert.ok(plugins.loaded.has(manifest.id) || plugins.controlOnly.has(manifest.id), `plugin "${manifest.id}" did not load`);
      return { m: manifest, e };
    };
    /** Tests of the audio half; a control-only plugin skips them. */
    const audioReady = (t: { skip(message: string): void }): { m: Manifest; e: OfflineEngine } | null => {
      const r = ready();
      if (r.m.entry !== undefined) return r;
      t.skip('no audio half (a control half only)');
      return null;
    };

    test('manifest is valid', () => {
      if (manifestError) assert.fail((manifestError as Error).message);
      assert.ok(manifest);
    });

    test('loads in an offline engine', async () => {
      const { m, e } = ready();
      if (m.control !== undefined) assert.ok(e.engine.plugins.controls.has(m.id), 'its control half is running');
      if (m.entry === undefined) return;
      await assertHealthy(e, m.id);
      assert.ok(modulesOf(e, m.id).length > 0, 'it registered its modules');
    });

    test(`${BLOCKS} blocks of silence stay finite`, async (t) => {
      const ready_ = audioReady(t);
      if (!ready_) return;
      const { m, e } = ready_;
      await renderChecked(e, BLOCKS);
      await assertHealthy(e, m.id);
    });

    test(`${BLOCKS} blocks of full-scale noise on its inputs stay finite, while its parameters are swept`, async (t) => {
      const ready_ = audioReady(t);
      if (!ready_) return;
      const { m, e } = ready_;
      await feedNoise(e, m.id);
      await exercise(e, m.id, BLOCKS, 0x5eed + folder.length);
      await assertHealthy(e, m.id);
      assert.deepEqual(
        e.replies.filter((r) => r.address === '/error'),
        [],
      );
      // Back to the defaults for what follows.
      for (const mod of modulesOf(e, m.id)) for (const p of mod.params.values()) await e.send(`/mod/${mod.id}/${p.name}`, [p.spec.default]);
      await e.send('/gate/probe1', [0]);
    });

    for (const purpose of ['save', 'reload'] as const) {
      test(`state round-trips (${purpose}): getState → setState on a fresh instance → the same getState`, async (t) => {
        const ready_ = audioReady(t);
        if (!ready_) return;
        const { m, e } = ready_;
        const state = await e.engine.audio.call('getState', m.id, purpose);
        if (state === undefined) {
          t.skip('the plugin keeps no state (no getState)');
          return;
        }
        const schema = e.engine.plugins.loaded.get(m.id)?.definition.stateSchema;
        assert.ok(schema, 'a plugin with state declares a stateSchema (plugin-sdk/types.ts)');
        const checked = schema.safeParse(state);
        assert.ok(checked.success, `its own '${purpose}' state fails its stateSchema: ${checked.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        if (purpose === 'save') {
          // What patterns store: plain, bounded JSON (the slot validator's own check).
          const problem = checkJson(state);
          assert.equal(problem, undefined, `the 'save' state is not plain bounded JSON: ${problem?.[0].join('.')} ${problem?.[1]}`);
          assert.deepStrictEqual(JSON.parse(JSON.stringify(state)), state, 'and survives JSON unchanged');
        }
        const fresh = await startWithFolders(engineFolders(folder), m);
        try {
          await fresh.engine.audio.call('setState', m.id, purpose === 'save' ? JSON.parse(JSON.stringify(state)) : structuredClone(state));
          const again = await fresh.engine.audio.call('getState', m.id, purpose);
          assert.deepStrictEqual(again, state);
          // And the fresh instance plays on from the restored state without faults.
          await renderChecked(fresh, 50);
          await assertHealthy(fresh, m.id);
        } finally {
          await fresh.close();
        }
      });
    }

    for (const poison of [1e15, NaN]) {
      test(`a poisoned state (every number ${poison}) is refused by its stateSchema and changes nothing in setState`, async (t) => {
        const ready_ = audioReady(t);
        if (!ready_) return;
        const { m, e } = ready_;
        const state = await e.engine.audio.call('getState', m.id, 'reload');
        if (state === undefined) {
          t.skip('the plugin keeps no state (no getState)');
          return;
        }
        const poisoned = poisonNumbers(state, poison);
        const schema = e.engine.plugins.loaded.get(m.id)?.definition.stateSchema;
        assert.ok(schema, 'a plugin with state declares a stateSchema');
        if (containsNumber(state)) assert.equal(schema.safeParse(poisoned).success, false, 'the schema refuses it');
        // setState may throw (refuse) or ignore it; either way the plugin plays on, finite and un-bypassed.
        await e.engine.audio.call('setState', m.id, poisoned).catch(() => undefined);
        // Played, not just held: its gates open (a poisoned filter memory only shows in a note).
        const gates = modulesOf(e, m.id).filter((mod) => mod.gate !== undefined);
        for (const g of gates) await e.send(`/gate/${g.id}`, [1]);
        await renderChecked(e, 50);
        for (const g of gates) await e.send(`/gate/${g.id}`, [0]);
        await assertHealthy(e, m.id);
      });
    }

    test('two renders of the same session journal are identical (no Math.random or clock in its DSP)', async (t) => {
      const ready_ = audioReady(t);
      if (!ready_) return;
      await checkDeterminism(PLUGINS_DIR, folder, ready_.m);
    });

    test('every parameter is reachable over OSC and clamped at its range', async (t) => {
      const ready_ = audioReady(t);
      if (!ready_) return;
      const { m, e } = ready_;
      const reg = e.engine.registry;
      const first = e.replies.length;
      let count = 0;
      for (const mod of modulesOf(e, m.id)) {
        for (const p of mod.params.values()) {
          const address = `/mod/${mod.id}/${p.name}`;
          assert.ok(e.engine.router.has(address), `no route ${address}`);
          await e.send(address, [p.spec.max + 1000]);
          assert.equal(reg.values[p.index], p.spec.max, `${address}: max + 1000 → max`);
          await e.send(address, [p.spec.min - 1000]);
          assert.equal(reg.values[p.index], p.spec.min, `${address}: min − 1000 → min`);
          await e.send(address, [p.spec.default]);
          assert.equal(reg.values[p.index], p.spec.default);
          count++;
        }
      }
      assert.deepEqual(
        e.replies.slice(first).filter((r) => r.address === '/error'),
        [],
        'no /error replies',
      );
      assert.equal(count, modulesOf(e, m.id).reduce((n, mod) => n + mod.params.size, 0));
      await renderChecked(e, 4);
    });

    test('its control half runs, its routes answer, a reload hands its state over', async (t) => {
      const { m, e } = ready();
      if (m.control === undefined) {
        t.skip('the plugin has no control half');
        return;
      }
      await checkControlHalf(e, m.id);
    });

    test('unloading leaves nothing behind (routes, schema, audio slot, control half)', async () => {
      const { m, e } = ready();
      // What an engine that never had the plugin looks like.
      const baseline = await startWithFolders(engineFolders(folder).filter((f) => f !== folder));
      try {
        // A control half: closed with all it held, and a load and unload again leak nothing.
        if (m.control !== undefined) await checkControlUnload(e, m.id);
        await e.engine.plugins.unload(m.id);
        const routes = e.engine.router.routes().map((r) => r.address);
        assert.deepEqual(routes, baseline.engine.router.routes().map((r) => r.address), 'the routes are those of an engine without it');
        assert.deepEqual([...e.engine.registry.modules.keys()].sort(), [...baseline.engine.registry.modules.keys()].sort(), 'schema modules');
        assert.ok(!(await e.engine.audio.call('plugins')).some((p) => p.pluginId === m.id), 'audio slot left behind');
        assert.ok(!e.engine.plugins.loaded.has(m.id) && !e.engine.plugins.controlOnly.has(m.id));
        assert.ok(!e.engine.plugins.controls.has(m.id) && !e.engine.plugins.controls.statuses.has(m.id), 'its control half is gone');
        // The engine plays on without it.
        await renderChecked(e, 20);
      } finally {
        await baseline.close();
      }
    });
  });
}
