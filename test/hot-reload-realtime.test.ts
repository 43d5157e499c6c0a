/**
 * Hot reload while the real-time null backend plays: the engine's output is captured from its
 * output tap (every frame, in order) while a plugin file is edited on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { Slot } from '../kernel/audio/shared-state.ts';
import { FIXTURE_PLUGINS, PROJECT_ROOT, writeTestConfig } from './helpers/offline-engine.ts';

test('an edit saved while the null backend plays is heard after the swap, with no gap or click and no xrun', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-rt-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'config'));
  await writeTestConfig(root);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  const config = loadConfig({ root, env: {} });
  const engine = await Engine.start({ config, root, backend: 'null', listen: false, status: false, watch: true, log: Logger.silent() });
  t.after(() => engine.stop());
  const notices: string[] = [];
  engine.onBroadcast = (address) => notices.push(address);

  // Capture every frame the engine outputs, in order (the tap holds 170 ms; we drain every 10 ms).
  // On a busy machine this thread may not drain in time: the tap then drops whole blocks and counts
  // them. What it held is read whole in one drain, so the frames it dropped are missing right after
  // that drain's chunk: the junction is marked, and no jump is measured across it.
  const captured: number[] = [];
  const junctions = new Set<number>();
  const chunk = [new Float32Array(8192), new Float32Array(8192)];
  let dropped = 0;
  const drain = () => {
    const n = engine.audio.outputTap.read(chunk);
    for (let i = 0; i < n; i++) captured.push(chunk[0][i]);
    const now = engine.audio.outputTap.dropped;
    if (now !== dropped) junctions.add(captured.length);
    dropped = now;
  };
  const timer = setInterval(drain, 10);
  t.after(() => clearInterval(timer));
  const waitFor = async (check: () => boolean, what: string) => {
    const until = Date.now() + 15_000;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  engine.dispatch({ address: '/gate/tone1', args: [1] });
  await waitFor(() => captured.length > 48000 * 0.3, 'the tone to play');
  const file = path.join(root, 'plugins/tone/index.ts');
  const source = await readFile(file, 'utf8');
  const savedAt = captured.length;
  await writeFile(file, source.replace('const s = g * Math.sin(2 * Math.PI * ph);', 'const s = 0.5 * g * Math.sin(2 * Math.PI * ph);'));
  await waitFor(() => notices.includes('/engine/plugin/reloaded'), 'the reload');
  const swappedBy = captured.length;
  await waitFor(() => captured.length > swappedBy + 48000 * 0.3, 'audio after the swap');
  clearInterval(timer);
  drain();

  const out = Float32Array.from(captured);
  const onset = out.findIndex((x) => x !== 0);
  const peakOf = (a: number, b: number) => out.subarray(a, b).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(Math.abs(peakOf(savedAt - 4800, savedAt) - 0.5) < 0.01, 'the old version played before the save');
  assert.ok(Math.abs(peakOf(out.length - 4800, out.length) - 0.25) < 0.01, 'the new version plays after the swap');
  let maxJump = 0;
  for (let i = onset + 480; i < out.length; i++) if (!junctions.has(i)) maxJump = Math.max(maxJump, Math.abs(out[i] - out[i - 1]));
  // A 440 Hz sine at 0.5 moves at most 0.029 per sample: no click, and no gap (a dropped frame would jump).
  assert.ok(maxJump < 0.0288 * 1.05, `largest sample jump ${maxJump}`);
  const v = engine.audio.shared.values;
  assert.equal(v[Slot.Xruns], 0, `no late blocks (the last woke ${v[Slot.LastXrunLateMs].toFixed(1)} ms late, its render took ${v[Slot.LastXrunRenderMs].toFixed(2)} ms)`);
  t.diagnostic(`save to swap seen after ${((swappedBy - savedAt) / 48).toFixed(0)} ms of audio`);
});
