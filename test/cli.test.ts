/** The `chronus` command as a user runs it: render, schema, send, and its error messages. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import wavefilePkg from 'wavefile';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';
import { startEngineProcess } from './helpers/engine-process.ts';

const BIN = path.join(PROJECT_ROOT, 'bin/chronus.mjs');

function chronus(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Samples of channel 0 as floats in [-1, 1]. */
async function readWav(file: string): Promise<{ rate: number; samples: Float64Array }> {
  const wav = new wavefilePkg.WaveFile(await readFile(file));
  const fmt = wav.fmt as { sampleRate: number; bitsPerSample: number };
  const channels = wav.getSamples(false, Float64Array) as unknown as Float64Array[];
  const scale = 2 ** (fmt.bitsPerSample - 1);
  return { rate: fmt.sampleRate, samples: channels[0].map((x) => x / scale) };
}

/** Frequency from rising zero crossings with linear interpolation. */
function pitch(x: Float64Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings.push(i - 1 + -x[i - 1] / (x[i] - x[i - 1]));
  return ((crossings.length - 1) * rate) / (crossings[crossings.length - 1] - crossings[0]);
}

test('chronus render plays a score offline into a WAV at the right pitch and level', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const score = path.join(dir, 'score.json');
  await writeFile(
    score,
    JSON.stringify({
      seconds: 2,
      events: [
        { time: 0, address: '/mod/voice1/freq', args: [220] },
        { time: 0, address: '/mod/voice1/filter/freq', args: [8000] },
        { time: 0.5, address: '/gate/voice1', args: [1] },
        { time: 1.5, address: '/gate/voice1', args: [0] },
      ],
    }),
  );
  const out = path.join(dir, 'out.wav');
  const r = await chronus(['render', score, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*out\.wav \(2\.000 s, 96000 frames\)/);
  const { rate, samples } = await readWav(out);
  assert.equal(rate, 48000);
  assert.equal(samples.length, 96000);
  assert.ok(samples.subarray(0, 23999).every((x) => x === 0), 'silent before the gate');
  const held = samples.subarray(30000, 70000);
  const rms = Math.sqrt(held.reduce((s, x) => s + x * x, 0) / held.length);
  assert.ok(rms > 0.05 && rms < 0.5, `level ${rms}`);
  const f = pitch(held, rate);
  assert.ok(Math.abs(1200 * Math.log2(f / 220)) < 1, `pitch ${f} Hz`);
});

test('chronus render refuses a bad score with the file and field', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const score = path.join(dir, 'bad.json');
  await writeFile(score, JSON.stringify({ events: [{ time: -1, address: 'gate', args: [] }] }));
  const r = await chronus(['render', score, '-o', path.join(dir, 'x.wav')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.json: events\[0\]\.time: /);
  assert.match(r.stderr, /bad\.json: events\[0\]\.address: /);
});

test('a bad environment value stops start-up with the variable, the value and what is allowed', async () => {
  const r = await chronus(['start'], { CHRONUS_SAMPLE_RATE: 'fast', CHRONUS_AUDIO: 'loud' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /CONFIG_INVALID/);
  assert.match(r.stderr, /CHRONUS_SAMPLE_RATE/);
  assert.match(r.stderr, /"fast"/);
  assert.match(r.stderr, /CHRONUS_AUDIO/);
});

test('chronus schema prints every module and parameter', async () => {
  const r = await chronus(['schema']);
  assert.equal(r.code, 0, r.stderr);
  const schema = JSON.parse(r.stdout);
  assert.equal(schema.modules.voice.params['osc/type'].type, 'enum');
  assert.ok(schema.registered_routes.includes('/engine/status'));
});

test('chronus send prints the reply of a running engine', async (t) => {
  // Its own root: stop() removes it.
  const engine = await startEngineProcess();
  const { root } = engine;
  t.after(() => engine.stop());
  const ok = await chronus(['send', '/engine/status', '--port', String(engine.port), '--root', root]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^\/engine\/status \{"backend":"null"/);
  const bad = await chronus(['send', '/mod/voice1/frq', '1', '--port', String(engine.port), '--root', root]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^\/error \/mod\/voice1\/frq OSC_UNKNOWN_ADDRESS/);
  assert.match(bad.stderr, /^chronus: OSC_UNKNOWN_ADDRESS: \/engine\/routes lists every address\.$/m, 'the code\'s default hint, for people');
});

test('chronus start handles SIGINT and SIGTERM before it prints "listening" (a script that stops it on that line gets a clean stop)', async (t) => {
  // As the line is written, prints how many listeners each signal has (on stdout, so just before it):
  // 0 means the default action, the process killed and nothing cleaned up, for a signal sent the
  // moment the line is read (seen under load: the test below found its engine killed by SIGTERM).
  const probe = `const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (String(chunk).includes('listening on')) write('at the line: SIGINT ' + process.listenerCount('SIGINT') + ' SIGTERM ' + process.listenerCount('SIGTERM') + '\\n');
  return write(chunk, ...rest);
};`;
  const engine = await startEngineProcess({ env: { CHRONUS_SUPERVISED: '1', NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(probe)}` } });
  t.after(() => engine.stop());
  const line = engine.output.find((l) => l.startsWith('at the line:'));
  assert.ok(line, engine.output.join('\n'));
  const [, sigint, sigterm] = /SIGINT (\d+) SIGTERM (\d+)/.exec(line)!.map(Number);
  assert.ok(sigint > 0 && sigterm > 0, line);
  const exited = new Promise<number | null>((resolve) => engine.proc.once('exit', (code) => resolve(code)));
  engine.proc.kill('SIGTERM');
  assert.equal(await exited, 0, engine.output.join('\n'));
});

test('chronus send with no engine says so and exits non-zero; a message that answers nothing exits 0 when the engine is there', async (t) => {
  const { freeUdpPort } = await import('./helpers/liblo.ts');
  const port = await freeUdpPort();
  const none = await chronus(['send', '/engine/status', '--port', String(port), '--timeout', '200']);
  assert.equal(none.code, 3);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, new RegExp(`no reply from 127\\.0\\.0\\.1:${port} within 200 ms — is the engine running\\?`));

  const engine = await startEngineProcess();
  t.after(() => engine.stop());
  const gate = await chronus(['send', '/gate/voice1', '0', '--port', String(engine.port), '--root', engine.root]);
  assert.equal(gate.code, 0, gate.stderr);
  assert.equal(gate.stdout, '', 'a gate answers nothing');
});

test('chronus send prints every reply a message brings, in order', async (t) => {
  const { OscTransport } = await import('../kernel/osc/osc-transport.ts');
  // A stand-in engine that answers /engine/stop as the real one does during a recording — two
  // replies, the second after the recording is closed — and /engine/ping once that is done.
  const fake = await OscTransport.open({ port: 0 });
  t.after(() => fake.close());
  fake.onMessage = (m) => {
    if (m.address === '/engine/stop') {
      fake.send(m.remote, '/engine/record/stopped', ['recordings/take.wav', { type: 'h', value: 2 ** 33 }]);
      setTimeout(() => fake.send(m.remote, '/engine/stopped'), 300);
    } else if (m.address === '/engine/ping') setTimeout(() => fake.send(m.remote, '/engine/pong'), 350);
  };
  const r = await chronus(['send', '/engine/stop', '--port', String(fake.port)]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `/engine/record/stopped recordings/take.wav ${2 ** 33}\n/engine/stopped\n`);
});

test('chronus start refuses the offline backend and points to chronus render', async () => {
  const r = await chronus(['start'], { CHRONUS_AUDIO: 'offline' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /audio\.backend is "offline"/);
  assert.match(r.stderr, /chronus render score\.json -o out\.wav/);
  assert.doesNotMatch(r.stdout, /listening/);
});
