/**
 * A real-time start prepares every plugin's load ahead (kernel/plugins/load-ahead.ts) while the audio
 * thread starts: the plugins load as they did, and a plugin whose top level throws is reported as
 * before and evaluated once, not a second time by its load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../kernel/base/config.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { Slot } from '../../kernel/audio/shared-state.ts';
import { FIXTURE_PLUGINS, writeTestConfig } from '../helpers/offline-engine.ts';

/** What the broken plugin's top level counts on: an object of the engine's realm that every plugin realm shares. */
const COUNTER = Float64Array as unknown as { brokenTopLevelRuns?: number };

test("a real-time start: every plugin loads, and a top level that throws is reported once and run once", { timeout: 60_000 }, async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-ahead-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  const broken = path.join(root, 'plugins/broken');
  await mkdir(broken);
  await writeFile(path.join(broken, 'plugin.json'), JSON.stringify({ id: 'broken', name: 'Broken', version: '1.0.0', apiVersion: 1, role: 'effect', entry: 'index.ts', modules: ['broken1'] }));
  await writeFile(
    path.join(broken, 'index.ts'),
    `import { definePlugin } from 'plugin-sdk';\nconst shared = Float64Array as unknown as { brokenTopLevelRuns?: number };\nshared.brokenTopLevelRuns = (shared.brokenTopLevelRuns ?? 0) + 1;\nthrow new Error('broken at its top level');\nexport default definePlugin({ params: {}, create() { return { process() {} }; } });\n`,
  );
  const config = loadConfig({ root, env: {} });
  config.audio.dedicatedCpu = false;
  // No staging worker: the top level runs on this thread, where it can be counted.
  config.engine.stageSeconds = 0;
  const failures: string[] = [];
  const log = new Logger((line) => {
    if (line.includes('broken')) failures.push(line);
  }, true);
  delete COUNTER.brokenTopLevelRuns;
  const engine = await Engine.start({ config, root, backend: 'null', listen: false, status: false, watch: false, log });
  t.after(() => engine.stop());

  assert.deepEqual([...engine.plugins.loaded.keys()], ['tone'], 'the others load');
  assert.equal(COUNTER.brokenTopLevelRuns, 1, 'its top level ran once: the load took the failure prepared ahead');
  assert.equal(failures.length, 1, failures.join('\n'));
  assert.match(failures[0], /plugin "broken" failed to load: .*broken at its top level/);

  const tone = engine.registry.modules.get('tone1')!;
  engine.control.set(tone.params.get('freq')!.index, 330);
  engine.control.gate(tone.gate!, 1);
  const v = engine.audio.shared.values;
  const until = Date.now() + 10_000;
  while (Math.max(v[Slot.PeakL], v[Slot.PeakR]) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(Math.max(v[Slot.PeakL], v[Slot.PeakR]) > 0.1, 'the tone sounds');
});
