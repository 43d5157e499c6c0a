/**
 * The recorder's settings follow config/local.json while the engine runs: a change of `format` or
 * `tap` applies to the next recording (the one running keeps what it started with), and stems go up
 * to 128 voices (engine.numVoices' limit), one file per voice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import wavefilePkg from 'wavefile';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT } from './helpers/offline-engine.ts';
import { recorderOf } from './helpers/recorder.ts';

const { WaveFile } = wavefilePkg;
const PROJECT_PLUGINS = path.join(PROJECT_ROOT, 'plugins');

async function wavInfo(file: string): Promise<{ channels: number; bits: number; format: number; frames: number; peak: number }> {
  const wav = new WaveFile(await readFile(file));
  const fmt = wav.fmt as { numChannels: number; bitsPerSample: number; audioFormat: number };
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array[];
  const data = fmt.numChannels === 1 ? [raw as unknown as Float64Array] : raw;
  return { channels: fmt.numChannels, bits: fmt.bitsPerSample, format: fmt.audioFormat, frames: data[0].length, peak: data[0].reduce((m, x) => Math.max(m, Math.abs(x)), 0) };
}

async function record(oe: OfflineEngine, seconds: number, name: string): Promise<string> {
  await oe.send('/engine/record/start', [name]);
  const started = oe.lastReply('/engine/record/started');
  assert.ok(started, `not started: ${JSON.stringify(oe.replies.slice(-2))}`);
  const frames = Math.round(seconds * oe.sampleRate);
  for (let done = 0; done < frames; done += 4800) {
    oe.render(0, Math.min(4800, frames - done));
    await recorderOf(oe.engine).flush();
  }
  return String(started.args[0]);
}

async function stop(oe: OfflineEngine): Promise<number> {
  await oe.send('/engine/record/stop');
  const r = oe.lastReply('/engine/record/stopped');
  assert.ok(r, `not stopped: ${JSON.stringify(oe.replies.slice(-2))}`);
  return Number(r.args[1]);
}

/** Bounded wait until `check` holds (the config watcher debounces and reloads). */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting until ${what}`);
}

test('a format or tap changed in config/local.json while running applies to the next recording', async (t) => {
  const oe = await OfflineEngine.start({
    pluginsFrom: [FIXTURE_PLUGINS, PROJECT_PLUGINS],
    only: ['tone', 'recorder'],
    watch: true,
    configure: (c) => {
      c.plugins.recorder = { enabled: true, format: 'int24', tap: 'master' };
    },
  });
  t.after(() => oe.close());
  await oe.send('/mod/tone1/amp', [0.5]);
  await oe.send('/gate/tone1', [1]);
  oe.render(0.05);

  const first = await record(oe, 0.2, 'first');
  // Changed while the first recording runs: it keeps int24 and master.
  await writeFile(path.join(oe.root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true, format: 'float32', tap: 'pre-fx' } } }));
  await until(() => oe.engine.plugins.configOf('recorder')?.format === 'float32', 'the watcher has the new config');
  await oe.engine.watcher?.idle();
  await stop(oe);
  const a = await wavInfo(first);
  assert.deepEqual([a.channels, a.bits, a.format], [2, 24, 1], 'the running recording kept int24');

  const second = await record(oe, 0.2, 'second');
  const status = recorderOf(oe.engine).status();
  assert.equal(status.format, 'float32');
  assert.equal(status.tap, 'pre-fx', 'the plugin was reloaded with the new tap');
  await stop(oe);
  const b = await wavInfo(second);
  assert.deepEqual([b.channels, b.bits, b.format], [2, 32, 3], 'float32 WAV');
  assert.ok(b.peak > 0.1, `the tone is in the pre-fx recording (${b.peak})`);

  // And back to stems: a session folder with master plus one file per voice (the default 8).
  await writeFile(path.join(oe.root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true, format: 'int16', tap: 'stems' } } }));
  await until(() => oe.engine.plugins.configOf('recorder')?.tap === 'stems', 'the watcher has the stems config');
  await oe.engine.watcher?.idle();
  const master = await record(oe, 0.1, 'band');
  await stop(oe);
  const files = (await readdir(path.dirname(master))).sort();
  assert.equal(files.length, 9, files.join(' '));
  assert.ok(files.includes('master.wav') && files.includes('voice8.wav'));
  assert.equal((await wavInfo(master)).bits, 16);
});

test('stems at 128 voices: master plus one file per voice, each holding its own voice', async (t) => {
  const voices = 128;
  const oe = await OfflineEngine.start({
    only: ['voices', 'recorder'],
    configure: (c) => {
      c.engine.numVoices = voices;
      c.plugins.recorder = { enabled: true, format: 'float32', tap: 'stems' };
    },
  });
  t.after(() => oe.close());
  await oe.send('/mod/voice128/amp', [0.5]);
  await oe.send('/gate/voice128', [1]);
  oe.render(0.02);
  const master = await record(oe, 0.2, 'many');
  const frames = await stop(oe);
  const dir = path.dirname(master);
  const files = await readdir(dir);
  assert.equal(files.length, voices + 1, `${files.length} files`);
  const last = await wavInfo(path.join(dir, 'voice128.wav'));
  const first = await wavInfo(path.join(dir, 'voice1.wav'));
  assert.equal(last.frames, frames);
  assert.ok(last.peak > 0.05, `voice128's stem holds its note (${last.peak})`);
  assert.equal(first.peak, 0, 'voice1 was silent');
});
