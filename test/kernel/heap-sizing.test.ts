/**
 * Memory the engine's threads keep (issue 16): each version is evaluated once in the staging worker,
 * for its evaluation and its trial; the audio threads run with V8's smallest young generation; the
 * control thread's young generation does not grow while `chronus start` runs (the supervisor starts
 * the engine process with a cap: cli/heap-sizing.ts).
 * Asserted on what V8 and the workers report, never on RSS or time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { PluginStager } from '../../kernel/plugins/plugin-staging.ts';
import { WorkerHost } from '../../kernel/host/worker-host.ts';
import type { SlotSpec } from '../../kernel/audio/slot-spec.ts';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';
import { engineUnder, startEngineProcess } from '../helpers/engine-process.ts';
import { ENGINE_NODE_FLAGS } from '../../cli/heap-sizing.ts';

// The plugin-sdk object is the same for every realm of a thread: the top level counts its own
// evaluations there, and create() refuses to run in any but the first.
const COUNTING_PLUGIN = `
const sdk = require('plugin-sdk');
const n = (sdk.definePlugin.evaluationsForTest = (sdk.definePlugin.evaluationsForTest ?? 0) + 1);
module.exports = { default: sdk.definePlugin({ params: {}, create() {
  if (n !== 1) throw new Error('evaluated ' + n + ' times');
  return { process() {} };
} }) };
`;

const spec: SlotSpec = {
  slotId: 1,
  pluginId: 'counting',
  version: '1.0.0',
  role: 'effect',
  order: 0,
  bus: 'main',
  code: COUNTING_PLUGIN,
  filename: '/plugins/counting/index.js',
  modules: [],
  params: [],
  gates: [],
  follows: [],
  config: {},
  numVoices: 1,
};

test('the staging worker tries the module its evaluation made, not a second evaluation of it', async (t) => {
  // No build stamp: nothing is taken from the trial cache, the worker is asked both times.
  const saved = process.env.CHRONUS_SOURCES;
  delete process.env.CHRONUS_SOURCES;
  const stager = new PluginStager({ timeoutMs: 5000, memoryMb: 256 });
  t.after(async () => {
    if (saved !== undefined) process.env.CHRONUS_SOURCES = saved;
    await stager.close();
  });
  await stager.evaluate(spec.code, spec.filename);
  const report = await stager.trial({ spec, state: undefined, values: [], sampleRate: 48000, blockSize: 256, smoothingMs: 20, seconds: 0.05 });
  assert.ok(report.blocks > 0);
  // A version it did not evaluate just before (another's evaluation came between) is evaluated for its trial.
  await stager.evaluate("module.exports = { default: require('plugin-sdk').definePlugin({ params: {}, create: () => ({ process() {} }) }) };", '/plugins/other/index.js');
  await assert.rejects(
    stager.trial({ spec: { ...spec, slotId: 2 }, state: undefined, values: [], sampleRate: 48000, blockSize: 256, smoothingMs: 20, seconds: 0.05 }),
    /evaluated 2 times/,
  );
});

test('the audio thread and its standby run with the smallest young generation', async (t) => {
  const host = await WorkerHost.start('null', { sampleRate: 48000, blockSize: 256, smoothingMs: 20, leadBlocks: 3, device: null, dedicatedCpu: false });
  t.after(() => host.close());
  // The standby loads once the clock runs (not beside the start's own work).
  await host.run();
  // The host's threads are private: read them as the test of a limit set at their creation.
  const threads = host as unknown as { worker: Worker; standby: Promise<Worker> };
  for (const worker of [threads.worker, await threads.standby]) {
    assert.ok(worker.resourceLimits!.maxYoungGenerationSizeMb! <= 3, `young generation ${worker.resourceLimits!.maxYoungGenerationSizeMb} MB`);
  }
});

/** The new space (MiB) of a fresh Node process (with `flags`) that starts a worker and then makes short-lived garbage, survivors among it. */
function newSpaceAfterGarbage(flags: string[]): number {
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    const worker = new Worker('', { eval: true });
    await new Promise((resolve) => worker.once('exit', resolve));
    let kept = [];
    for (let i = 0; i < 3e6; i++) {
      kept.push({ i, a: [i] });
      if (kept.length > 200000) kept = [];
    }
    process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576));
  `;
  const run = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return Number(run.stdout);
}

test("the engine process's flags keep the control thread's young generation small after a worker starts", () => {
  const grown = newSpaceAfterGarbage([]);
  const kept = newSpaceAfterGarbage(ENGINE_NODE_FLAGS);
  assert.ok(grown >= 16, `without them V8 grows the new space to its maximum (${grown} MiB)`);
  assert.ok(kept <= 4, `new space ${kept} MiB`);
});

test('the engine process under `chronus start` runs with those flags', async (t) => {
  const engine = await startEngineProcess();
  t.after(() => engine.stop());
  const args = readFileSync(`/proc/${engineUnder(engine.proc.pid!)}/cmdline`, 'utf8').split('\0');
  for (const flag of ENGINE_NODE_FLAGS) assert.ok(args.includes(flag), `${flag} in ${args.join(' ')}`);
});

/** The old space's largest size against what stays live, in a fresh Node process that starts a worker and then makes promoted garbage. */
function oldSpaceGrowth(bounded: boolean): number {
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    import { boundHeapGrowth } from ${JSON.stringify(path.join(PROJECT_ROOT, 'cli/heap-sizing.ts'))};
    if (${bounded}) boundHeapGrowth();
    const worker = new Worker('', { eval: true });
    await new Promise((resolve) => worker.once('exit', resolve));
    const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    const kept = Array.from({ length: 300_000 }, (_, i) => ({ i, a: [i, i + 1] }));
    globalThis.gc();
    const live = oldSpace().space_used_size;
    // Objects that outlive a few young collections, then die: garbage only a full collection frees.
    const ring = new Array(50_000);
    let max = 0;
    for (let n = 0; n < 8e6; n++) {
      ring[n % ring.length] = { n, a: [n, n + 1] };
      if (n % 20000 === 0) max = Math.max(max, oldSpace().space_size);
    }
    process.stdout.write(String(kept.length > 0 && max / live));
  `;
  const run = spawnSync(process.execPath, [...ENGINE_NODE_FLAGS, '--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  return Number(run.stdout);
}

test('full collections come before a heap grows by much more than half of what stays live', () => {
  const grown = oldSpaceGrowth(false);
  const bounded = oldSpaceGrowth(true);
  // Measured here: 5.0 and 1.85 times what stays live (about 32 MiB).
  assert.ok(grown >= 3, `without it V8 lets the old space grow to ${grown.toFixed(2)} times what stays live`);
  assert.ok(bounded <= 2.5, `old space up to ${bounded.toFixed(2)} times what stays live`);
});
