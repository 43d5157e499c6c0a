/**
 * The device backend against a real PortAudio device with no sound card: JACK's dummy driver paces
 * it in real time (DESIGN.md toolchain facts). Needs `jackd2 libportaudio2` (installed by .ci/run).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { OscClient } from '../cli/osc-client.ts';
import { rm } from 'node:fs/promises';
import { HANG_ON_PARAM, writeEffectPlugin } from './helpers/hanging-plugins.ts';
import path from 'node:path';
import { makeRoot, startEngineProcess } from './helpers/engine-process.ts';

const hasJack = spawnSync('which', ['jackd']).status === 0 && spawnSync('which', ['jack_wait']).status === 0;
const DEBIAN_LIBS = '/usr/lib/x86_64-linux-gnu';

async function startJack(name: string): Promise<ChildProcess> {
  const jack = spawn('jackd', ['-n', name, '-d', 'dummy', '-r', '48000', '-p', '256'], { stdio: 'ignore' });
  const waited = spawnSync('jack_wait', ['-s', name, '-w', '-t', '10'], { encoding: 'utf8' });
  if (waited.status !== 0) {
    jack.kill('SIGKILL');
    throw new Error(`jackd did not start: ${waited.stdout}${waited.stderr}`);
  }
  return jack;
}

test('the device backend opens a PortAudio device, plays 5 s paced in real time, and reports underflows', { skip: !hasJack && 'jackd2 not installed' }, async (t) => {
  const server = `chronus-test-${process.pid}`;
  const jack = await startJack(server);
  let engine: Awaited<ReturnType<typeof startEngineProcess>> | undefined;
  // The engine stops before the JACK server it plays on.
  t.after(async () => {
    await engine?.stop();
    const exited = new Promise((r) => jack.once('exit', r));
    jack.kill('SIGTERM');
    await exited;
  });
  const started = await startEngineProcess({
    env: { CHRONUS_AUDIO: 'device', CHRONUS_DEVICE: 'system', JACK_DEFAULT_SERVER: server, LD_LIBRARY_PATH: DEBIAN_LIBS },
  });
  engine = started;
  const client = await OscClient.open();
  t.after(() => client.close());
  const status = async () => (await client.request('127.0.0.1', started.port, '/engine/status', [], { replyAddress: '/engine/status' })).json as Record<string, number>;

  client.send('127.0.0.1', started.port, '/gate/voice1', [{ type: 'i', value: 1 }]);
  const first = await status();
  assert.equal(first.backend as unknown, 'device');
  const startedAt = performance.now();
  let s = first;
  while (s.framesRendered - first.framesRendered < 5 * 48000) {
    await new Promise((r) => setTimeout(r, 200));
    s = await status();
  }
  const wallSeconds = (performance.now() - startedAt) / 1000;
  const audioSeconds = (s.framesRendered - first.framesRendered) / 48000;
  // A device that did not pace (ALSA's null PCM renders 10 s in 0.08 s) would be far faster than real time.
  assert.ok(audioSeconds / wallSeconds < 1.5 && audioSeconds / wallSeconds > 0.6, `paced: ${audioSeconds.toFixed(2)} s of audio in ${wallSeconds.toFixed(2)} s`);
  assert.ok(s.peak > 0, 'the gate made sound');
  assert.equal(typeof s.xruns, 'number');
  t.diagnostic(`device backend: ${audioSeconds.toFixed(2)} s of audio in ${wallSeconds.toFixed(2)} s wall, ${s.xruns} underflows/xruns reported`);
  assert.ok(!started.output.some((l) => /^(PortAudio V|Output )/.test(l)), 'naudiodon console noise is kept out of ours');
  // A clean stop: the stream is closed before its thread ends (no native complaint), within the deadline.
  await started.stop();
  assert.equal(started.proc.exitCode, 0, started.output.join('\n'));
  assert.ok(!started.output.some((l) => /N-API|took longer/.test(l)), started.output.join('\n'));
});


test('a plugin that hangs the audio thread on the device backend: the card plays on and the sound comes back', { skip: !hasJack && 'jackd2 not installed' }, async (t) => {
  const server = `chronus-hang-${process.pid}`;
  const jack = await startJack(server);
  const root = await makeRoot();
  await writeEffectPlugin(path.join(root, 'plugins'), 'hanger', 'hang1', HANG_ON_PARAM);
  let engine: Awaited<ReturnType<typeof startEngineProcess>> | undefined;
  t.after(async () => {
    await engine?.stop();
    await rm(root, { recursive: true, force: true });
    const exited = new Promise((r) => jack.once('exit', r));
    jack.kill('SIGTERM');
    await exited;
  });
  const started = await startEngineProcess({
    root,
    env: { CHRONUS_AUDIO: 'device', CHRONUS_DEVICE: 'system', JACK_DEFAULT_SERVER: server, LD_LIBRARY_PATH: DEBIAN_LIBS },
  });
  engine = started;
  const client = await OscClient.open();
  t.after(() => client.close());
  const status = async () => (await client.request('127.0.0.1', started.port, '/engine/status', [], { replyAddress: '/engine/status' })).json as Record<string, unknown>;
  client.send('127.0.0.1', started.port, '/gate/voice1', [{ type: 'i', value: 1 }]);
  await status();
  client.send('127.0.0.1', started.port, '/mod/hang1/hang', [{ type: 'f', value: 1 }]);
  let s = await status();
  for (let i = 0; i < 100 && (s.watchdog as { restarts: number }).restarts === 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    s = await status();
  }
  const watchdog = s.watchdog as { restarts: number; quarantined: string[] };
  assert.equal(watchdog.restarts, 1, 'the audio thread was replaced');
  assert.deepEqual(watchdog.quarantined, ['hanger']);
  const before = s.framesRendered as number;
  await new Promise((r) => setTimeout(r, 500));
  s = await status();
  assert.equal(s.backend, 'device', 'still on the sound card');
  assert.equal(s.running, true);
  assert.ok((s.framesRendered as number) - before > 0.25 * 48000, 'the device paces new frames');
  assert.ok((s.peak as number) > 0, 'the gate sounds again');
  assert.equal(started.proc.exitCode, null, 'the process is alive');
});
