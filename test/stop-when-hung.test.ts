/**
 * SIGTERM ends a `chronus start` process whatever its audio thread does: here a plugin loops forever
 * in process() and the watchdog is set too long to step in, so the audio thread never answers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { hangAfter, writeEffectPlugin } from './helpers/hanging-plugins.ts';
import path from 'node:path';
import { OscClient } from '../cli/osc-client.ts';
import { makeRoot, startEngineProcess } from './helpers/engine-process.ts';
import { FIXTURE_PLUGINS } from './helpers/offline-engine.ts';


test('SIGTERM ends the engine while a plugin hangs its audio thread', async (t) => {
  const root = await makeRoot(FIXTURE_PLUGINS);
  for (const name of await readdir(path.join(root, 'plugins'))) if (name !== 'tone') await rm(path.join(root, 'plugins', name), { recursive: true });
  await writeEffectPlugin(path.join(root, 'plugins'), 'looper', 'loop1', hangAfter(1.5));
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ audio: { watchdogMs: 10000 } }));
  const engine = await startEngineProcess({ root });
  t.after(async () => {
    await engine.stop();
    await rm(root, { recursive: true, force: true });
  });
  const client = await OscClient.open();
  t.after(() => client.close());
  const status = async () => {
    const reply = await client.request('127.0.0.1', engine.port, '/engine/status', [], { replyAddress: '/engine/status', timeoutMs: 2000 });
    return reply.json as { framesRendered: number; running: boolean };
  };
  const frames = async () => (await status()).framesRendered;
  // Hung: the frame count stops moving (the control thread still answers).
  let last = -1;
  for (let i = 0; i < 200; i++) {
    const now = await frames();
    if (now === last && now > 48000) break;
    last = now;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await frames(), last, 'the audio thread is stuck');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await status()).running, false, 'status does not say running while nothing renders');
  const exited = new Promise<number | null>((resolve) => engine.proc.once('exit', (code) => resolve(code)));
  engine.proc.kill('SIGTERM');
  const guard = setTimeout(() => engine.proc.kill('SIGKILL'), 10_000);
  const code = await exited;
  clearTimeout(guard);
  assert.equal(engine.proc.signalCode, null, `it ended by itself, not by the test's SIGKILL:\n${engine.output.join('\n')}`);
  assert.ok(code === 0 || code === 1, `exit code ${code}`);
});
