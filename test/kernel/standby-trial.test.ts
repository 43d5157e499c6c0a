/**
 * In real time a new version is tried in the standby audio thread, not a staging worker of its own
 * (issue 16: 25–30 MiB less). A trial that hangs, takes gigabytes or ends its thread costs the standby:
 * the version is refused, a new standby is loaded, and the live audio thread plays on untouched. A
 * recovery of the live thread while the standby is being replaced still brings the sound back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { loadConfig } from '../../kernel/base/config.ts';
import { Engine } from '../../kernel/engine/engine.ts';
import { Logger } from '../../kernel/base/logger.ts';
import { Slot } from '../../kernel/audio/shared-state.ts';
import { FIXTURE_PLUGINS, writeTestConfig } from '../helpers/offline-engine.ts';
import { HANG_ON_PARAM, writeEffectPlugin } from '../helpers/hanging-plugins.ts';

/** An effect whose create() runs `body`. */
const effect = (body: string) => `import { definePlugin, param } from 'plugin-sdk';
export default definePlugin({
  params: { gain: param(0, 2, 1) },
  create(ctx) {
    ${body}
    return { process(s: number, e: number) {} };
  },
});`;

/** The host's threads are private: the test reads them as a test of what it does with them. */
interface Threads {
  worker: Worker | null;
  standby: Promise<Worker> | null;
  standbyWorker: Worker | null;
}

/** A real-time engine (null backend) with the tone fixture sounding and `hanger` (hangs on /mod/hang1/hang). */
async function realtimeEngine(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-standby-trial-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  await writeEffectPlugin(path.join(root, 'plugins'), 'hanger', 'hang1', HANG_ON_PARAM);
  const config = loadConfig({ root, env: {} });
  config.audio.dedicatedCpu = false;
  config.engine.trialTimeoutMs = 1500;
  const engine = await Engine.start({ config, root, backend: 'null', listen: false, status: false, watch: false, log: Logger.silent() });
  t.after(() => engine.stop());
  const tone = engine.registry.modules.get('tone1')!;
  engine.control.gate(tone.gate!, 1);
  const threads = engine.audio as unknown as Threads;
  /** Loads `source` as plugin `id`: the reason it is refused with. */
  const refusal = async (id: string, source: string) => {
    const folder = await writeEffectPlugin(path.join(root, 'plugins'), id, `${id}1`, source);
    return engine.plugins.load(folder).then(
      () => assert.fail(`${id} was loaded`),
      (e: Error) => e.message,
    );
  };
  return { engine, root, threads, refusal, standby: async () => (await threads.standby)!.threadId };
}

/** Runs `then` once a trial has been sent to the standby now loaded (the trial is then in flight there). */
async function onTrialSent(threads: Threads, then: (standby: Worker) => void): Promise<Worker> {
  const standby = (await threads.standby)!;
  const post = standby.postMessage.bind(standby);
  standby.postMessage = (m: { staging?: { kind: string } }) => {
    post(m);
    if (m?.staging?.kind === 'trial') then(standby);
  };
  return standby;
}

/** Frames advance and the tone sounds: the audio thread renders. */
async function sounding(engine: Engine): Promise<void> {
  const v = engine.audio.shared.values;
  const before = v[Slot.FramesRendered];
  const until = Date.now() + 10_000;
  while ((v[Slot.FramesRendered] < before + 4800 || Math.max(v[Slot.PeakL], v[Slot.PeakR]) < 0.1) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(v[Slot.FramesRendered] >= before + 4800, 'frames advance');
  assert.equal(v[Slot.Running], 1);
  assert.ok(Math.max(v[Slot.PeakL], v[Slot.PeakR]) > 0.1, 'the tone sounds');
}

test('a trial that hangs, takes 2 GB or ends its thread costs the standby only: refused, a new standby, the live thread untouched', async (t) => {
  const { engine, root, threads, refusal, standby } = await realtimeEngine(t);
  const live = threads.worker!.threadId;
  let last = await standby();

  assert.match(await refusal('looper', effect('for (;;) {}')), /did not finish its .* trial within 1500 ms/);
  assert.notEqual(await standby(), last, 'a new standby');
  last = await standby();

  assert.match(await refusal('hog', effect('const big = new Float64Array(2 ** 28); big[0] = 1;')), /uses \d+ MB after create\(\), over the limit of 256 MB/);
  assert.notEqual(await standby(), last, 'a new standby after a version that took gigabytes in it');
  last = await standby();

  // A thread that ends in a trial (as one out of memory does): ended from outside while the trial loops.
  await onTrialSent(threads, (w) => void w.terminate());
  assert.match(await refusal('ender', effect('for (;;) {}')), /its trial ended the thread it ran in/);
  assert.notEqual(await standby(), last, 'a new standby');

  assert.equal(threads.worker!.threadId, live, 'the live audio thread is the one that started');
  assert.equal(engine.recovery!.status.restarts, 0);
  assert.deepEqual([...engine.plugins.loaded.keys()].sort(), ['hanger', 'tone']);
  await sounding(engine);
  // The new standby still tries versions: a good one goes live.
  await engine.plugins.load(await writeEffectPlugin(path.join(root, 'plugins'), 'fine', 'fine1', effect('')));
  assert.ok(engine.plugins.loaded.has('fine'));
});

test('the live audio thread hangs right after a trial killed the standby: it is recovered with sound, on the standby loading in its place', async (t) => {
  const { engine, threads, refusal } = await realtimeEngine(t);
  const live = threads.worker!.threadId;
  assert.match(await refusal('looper', effect('for (;;) {}')), /did not finish/);
  // The standby the trial took down is being replaced: none is loaded at this moment.
  assert.equal(threads.standbyWorker, null, 'the new standby is still loading');
  engine.control.set(engine.registry.modules.get('hang1')!.params.get('hang')!.index, 1);
  const until = Date.now() + 30_000;
  while (engine.recovery!.status.restarts === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(engine.recovery!.status.restarts, 1);
  assert.notEqual(threads.worker?.threadId, live, 'a new audio thread');
  assert.ok(engine.plugins.quarantined.has('hanger'));
  await sounding(engine);
});

test('the live audio thread hangs while the standby is stuck in a hung trial: the standby is given up on, a fresh thread brings the sound back', async (t) => {
  const { engine, threads, refusal } = await realtimeEngine(t);
  const live = threads.worker!.threadId;
  const hang = engine.registry.modules.get('hang1')!.params.get('hang')!.index;
  const stuck = (await onTrialSent(threads, () => engine.control.set(hang, 1))).threadId;
  const refused = refusal('looper', effect('for (;;) {}'));
  const until = Date.now() + 30_000;
  while (engine.recovery!.status.restarts === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(engine.recovery!.status.restarts, 1);
  assert.ok(![live, stuck].includes(threads.worker!.threadId), 'neither the hung thread nor the stuck standby plays');
  // Either limit ended the trial first: its own time limit, or the recovery giving the standby up.
  assert.match(await refused, /did not finish|ended the thread it ran in/);
  await sounding(engine);
});
