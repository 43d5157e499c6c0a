/**
 * Saves as editors make them, loaded at once (issue 16: save-to-audible): a save caught half written
 * never goes live, an edit made while the last one loads is not lost, and a plugin folder removed
 * takes its esbuild context with it. Offline backend: every check is on rendered samples and replies.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { OfflineEngine } from './helpers/offline-engine.ts';
import { playingTone } from './helpers/playing-tone.ts';

const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** The tone fixture's sine at `scale` times its level (0.5): 0.25 at 0.5. */
const scaled = (src: string, scale: string) => src.replace('const s = g * Math.sin(2 * Math.PI * ph);', `const s = ${scale} * g * Math.sin(2 * Math.PI * ph);`);


/**
 * Holds the next trial of a version (bundled and evaluated: its files read) until `release`;
 * `started` resolves when it is held.
 */
function holdNextTrial(e: OfflineEngine): { started: Promise<void>; release: () => void } {
  const stager = e.engine.plugins.stager;
  const trial = stager.trial.bind(stager);
  let release = () => undefined as void;
  const released = new Promise<void>((r) => (release = r));
  const started = new Promise<void>((resolve) => {
    stager.trial = async (request) => {
      stager.trial = trial;
      resolve();
      await released;
      return trial(request);
    };
  });
  return { started, release };
}

/** Render block by block until the watcher has nothing left to load; the peak of every block. */
async function renderUntilIdle(e: OfflineEngine): Promise<number[]> {
  const peaks: number[] = [];
  let idle = false;
  void e.engine.watcher!.idle().then(() => (idle = true));
  const until = Date.now() + 15_000;
  while (!idle) {
    if (Date.now() > until) throw new Error('the watcher did not settle in 15 s');
    peaks.push(peak(e.render(0, 256).l));
    await new Promise((r) => setTimeout(r, 1));
  }
  await e.engine.settle();
  for (let b = 0; b < 40; b++) peaks.push(peak(e.render(0, 256).l));
  return peaks;
}

test('a save written in two halves, the second while the first is tried, is never heard half written', async (t) => {
  const { e, file, source } = await playingTone(t);
  // The first half alone is a plugin that loads and plays at 0.9 (SCALE is declared only in the
  // second half); the whole file plays at 0.25.
  const half = scaled(source, "(typeof SCALE === 'number' ? SCALE : 1.8)");
  const whole = `${half}\nvar SCALE = 0.5;\n`;
  const held = holdNextTrial(e);
  await writeFile(file, half);
  await held.started;
  await appendFile(file, whole.slice(half.length));
  held.release();
  const peaks = await renderUntilIdle(e);
  assert.ok(peaks.every((p) => p < 0.51), `the half-written version (0.9) was never heard (largest block peak ${Math.max(...peaks)})`);
  assert.ok(Math.abs(peaks.at(-1)! - 0.25) < 0.01, `the whole new version plays (${peaks.at(-1)})`);
  assert.deepEqual(e.replies.filter((r) => r.address === '/engine/error'), [], 'nothing reported: the half was a save in progress');
});

test('an edit saved while the one before it loads is not lost: the last save plays', async (t) => {
  const { e, file, source } = await playingTone(t);
  const held = holdNextTrial(e);
  await writeFile(file, scaled(source, '0.5'));
  await held.started;
  await writeFile(file, scaled(source, '0.2'));
  held.release();
  const peaks = await renderUntilIdle(e);
  assert.ok(Math.abs(peaks.at(-1)! - 0.1) < 0.01, `the last save (0.1) plays (${peaks.at(-1)})`);
  assert.deepEqual(e.replies.filter((r) => r.address === '/engine/error'), []);
});

test('a plugin folder removed disposes its incremental bundle context', async (t) => {
  const { e, file, source } = await playingTone(t);
  const folder = path.dirname(file);
  // Content no run has bundled before, so the bundle cache on disk cannot answer for esbuild.
  await writeFile(file, `${scaled(source, '0.5')}\n// ${process.pid} ${process.hrtime.bigint()}\n`);
  await e.waitFor('/engine/plugin/reloaded', (r) => r.args[0] === 'tone');
  assert.ok(e.engine.plugins.bundles.folders().includes(folder), 'an edited plugin keeps a context');
  await rm(folder, { recursive: true });
  await e.waitFor('/engine/plugin/unloaded', (r) => r.args[0] === 'tone');
  await e.engine.watcher!.idle();
  assert.deepEqual(e.engine.plugins.bundles.folders(), [], 'its context is gone with it');
  assert.equal(peak(e.render(0.05).l), 0, 'and its sound');
});
