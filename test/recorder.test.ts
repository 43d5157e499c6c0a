/**
 * The recorder (plugins/recorder: its audio half and its control half): what is recorded equals what is rendered,
 * sample for sample, in every format and tap; files survive SIGKILL, cross into RF64, stay inside
 * recordings/ whatever the name; a stalled writer costs counted frames, never a blocked audio thread;
 * a failing disk stops the recording with /error and leaves a valid file.
 *
 * Most tests run the engine offline in this process (test/helpers/offline-engine.ts) with the tone
 * fixture (or the voices plugin for stems) and read the files back with wavefile and sox.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnChild as spawnLines } from './helpers/child.ts';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import wavefilePkg from 'wavefile';
import { FIXTURE_PLUGINS, OfflineEngine, PROJECT_ROOT, writeTestConfig, type Reply } from './helpers/offline-engine.ts';
import { recorderOf } from './helpers/recorder.ts';
import { candidateNames, MAX_NAME_BYTES, sanitizeName, timestamp } from '../plugins/recorder/names.ts';
import { parseFormat } from '../plugins/recorder/config.ts';
import { engineStatus, statusLine } from '../kernel/status/engine-status.ts';
import { loadConfig, type Config } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { Slot } from '../kernel/audio/shared-state.ts';
import type { WavSampleFormat } from '../plugin-sdk/wav/index.ts';
import { TapRing } from '../kernel/audio/tap-ring.ts';
import * as kernelProtocol from '../plugins/recorder/protocol.ts';
import { RecorderCore } from '../plugins/recorder/core.ts';

const { WaveFile } = wavefilePkg;
const run = promisify(execFile);
const PROJECT_PLUGINS = path.join(PROJECT_ROOT, 'plugins');
const SR = 48_000;
const BLOCK = 256;

// ───────────────────────── helpers ─────────────────────────

type RecorderSection = Record<string, unknown>;

async function startEngine(recorder: RecorderSection | null, only = ['tone', 'recorder'], tweak?: (c: Config) => void): Promise<OfflineEngine> {
  return OfflineEngine.start({
    pluginsFrom: [FIXTURE_PLUGINS, PROJECT_PLUGINS],
    only,
    configure: (c) => {
      if (recorder) c.plugins.recorder = { enabled: true, ...recorder };
      tweak?.(c);
    },
  });
}

/** Render `seconds` in pieces, letting the recorder drain and sync between them (as its timer would in real time). */
async function renderRecorded(oe: OfflineEngine, seconds: number, piece = 0.25): Promise<{ l: Float32Array; r: Float32Array }> {
  const frames = Math.round(seconds * SR);
  const l = new Float32Array(frames);
  const r = new Float32Array(frames);
  let done = 0;
  while (done < frames) {
    const n = Math.min(Math.round(piece * SR), frames - done);
    const out = oe.render(0, n);
    l.set(out.l, done);
    r.set(out.r, done);
    done += n;
    await recorderOf(oe.engine).flush();
  }
  return { l, r };
}

function replies(oe: OfflineEngine, address: string): Reply[] {
  return oe.replies.filter((r) => r.address === address);
}

async function startRecording(oe: OfflineEngine, args: unknown[] = []): Promise<string> {
  const before = replies(oe, '/engine/record/started').length;
  await oe.send('/engine/record/start', args);
  const started = replies(oe, '/engine/record/started');
  assert.equal(started.length, before + 1, `no /engine/record/started; replies: ${JSON.stringify(oe.replies.slice(-3))}`);
  return String(started.at(-1)!.args[0]);
}

async function stopRecording(oe: OfflineEngine): Promise<{ path: string; frames: number }> {
  await oe.send('/engine/record/stop');
  const r = oe.lastReply('/engine/record/stopped');
  assert.ok(r, `no /engine/record/stopped; replies: ${JSON.stringify(oe.replies.slice(-3))}`);
  return { path: String(r.args[0]), frames: Number(r.args[1]) };
}

interface WavRead {
  channels: number;
  sampleRate: number;
  bits: number;
  /** Per channel: raw ints for PCM, floats for float32. */
  data: Float64Array[];
  frames: number;
}

async function readWav(file: string): Promise<WavRead> {
  const wav = new WaveFile(await readFile(file));
  const fmt = wav.fmt as { numChannels: number; sampleRate: number; bitsPerSample: number };
  const raw = wav.getSamples(false, Float64Array) as unknown as Float64Array[] | Float64Array;
  const data = fmt.numChannels === 1 ? [raw as Float64Array] : (raw as Float64Array[]);
  return { channels: fmt.numChannels, sampleRate: fmt.sampleRate, bits: fmt.bitsPerSample, data, frames: data[0].length };
}

async function soxInfo(file: string): Promise<{ channels: number; rate: number; bits: number; frames: number; encoding: string }> {
  const { stdout } = await run('sox', ['--i', file]);
  const field = (name: string) => {
    const m = new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(stdout);
    assert.ok(m, `sox --i ${file}: no ${name} in\n${stdout}`);
    return m[1].trim();
  };
  return {
    channels: Number(field('Channels')),
    rate: Number(field('Sample Rate')),
    bits: Number((await run('sox', ['--i', '-b', file])).stdout.trim()),
    frames: Number((await run('sox', ['--i', '-s', file])).stdout.trim()),
    encoding: field('Sample Encoding'),
  };
}

/** The output stage's clip: what is heard. */
function heard(x: number): number {
  return !(x > -1) ? (x === x ? -1 : 0) : x > 1 ? 1 : x;
}

/** What a file of `format` holds for the float sample x. */
function stored(x: number, format: WavSampleFormat): number {
  if (format === 'float32') return Math.fround(x);
  const scale = format === 'int16' ? 32767 : 8388607;
  return Math.round(Math.max(-1, Math.min(1, x)) * scale);
}

function assertChannelEquals(got: Float64Array, want: Float32Array, format: WavSampleFormat, what: string, offset = 0): void {
  assert.equal(got.length, want.length - offset, `${what}: length`);
  for (let i = 0; i < got.length; i++) {
    const w = stored(want[i + offset], format);
    if (got[i] !== w) assert.fail(`${what}: frame ${i}: file has ${got[i]}, render has ${w} (from ${want[i + offset]})`);
  }
}

/** A deterministic score for the two tone modules: events at odd frames (mid-block), a sum that clips. */
async function playScore(oe: OfflineEngine, from: number): Promise<void> {
  await oe.send('/mod/tone1/freq', [220], from);
  await oe.send('/mod/tone1/amp', [0.7], from);
  await oe.send('/gate/tone1', [1], from + 37);
  await oe.send('/mod/tone2/freq', [331], from + 1000);
  await oe.send('/mod/tone2/amp', [0.6], from + 1000);
  await oe.send('/gate/tone2', [1], from + 1001);
  await oe.send('/mod/tone1/freq', [440], from + 20_011);
  await oe.send('/gate/tone2', [0], from + 30_123);
  await oe.send('/gate/tone2', [1], from + 40_005);
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-rec-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ───────────────────────── the audio side alone ─────────────────────────

test('core: starts at the next block start, stops at a block boundary, clips the master like the output', () => {
  const ring = new TapRing(2, 1024);
  const l = new Float32Array(64);
  const r = new Float32Array(64);
  const core = new RecorderCore(ring, [l, r], 2, 0, 64, 0);
  const h = ring.header;
  for (let i = 0; i < 64; i++) {
    l[i] = i / 16 - 2; // −2 … 1.94: clips both ways
    r[i] = Number.NaN;
  }
  core.process(0, 64); // idle: nothing
  assert.equal(ring.available, 0);
  assert.equal(core.start(7), true);
  core.process(0, 64); // armed but the block had already begun: nothing
  assert.equal(ring.available, 0);
  core.beginBlock(6400);
  assert.equal(Atomics.load(h, kernelProtocol.W_STATE), kernelProtocol.RecState.Recording);
  assert.equal(Atomics.load(h, kernelProtocol.W_FIRST_LO), 6400);
  core.process(0, 10);
  core.process(10, 64);
  core.stop();
  assert.equal(Atomics.load(h, kernelProtocol.W_STATE), kernelProtocol.RecState.Stopped);
  assert.equal(Atomics.load(h, kernelProtocol.W_END_POS), 64);
  core.process(0, 64);
  const out = [new Float32Array(128), new Float32Array(128)];
  assert.equal(ring.read(out, 128), 64);
  for (let i = 0; i < 64; i++) {
    assert.equal(out[0][i], Math.max(-1, Math.min(1, Math.fround(i / 16 - 2))));
    assert.equal(out[1][i], 0);
  }
});

// ───────────────────────── what is heard ─────────────────────────

test('recorded master equals the offline render of the same score, sample for sample (float32)', async () => {
  const oe = await startEngine({ format: 'float32', tap: 'master' });
  try {
    await playScore(oe, 0);
    oe.render(0, 10 * BLOCK + 100); // pre-roll, ending mid-block: the next block starts at 2660
    const file = await startRecording(oe, ['exact']);
    assert.equal(path.dirname(file), oe.engine.config.paths.recordings);
    assert.equal(path.basename(file), 'exact.wav');
    const firstFrame = oe.frame;
    const rendered = await renderRecorded(oe, 1.5);
    const { frames } = await stopRecording(oe);
    assert.equal(frames, rendered.l.length, 'no missing tail, no leading silence');
    const wav = await readWav(file);
    assert.deepEqual([wav.channels, wav.sampleRate, wav.bits, wav.frames], [2, SR, 32, frames]);
    assertChannelEquals(wav.data[0], rendered.l, 'float32', 'left');
    assertChannelEquals(wav.data[1], rendered.r, 'float32', 'right');
    let clipped = 0;
    for (const x of rendered.l) if (x === 1 || x === -1) clipped++;
    assert.ok(clipped > 100, `the score clips (${clipped} frames at full scale): the file holds what is heard`);
    assert.equal(recorderOf(oe.engine).status().dropped, 0);
    assert.ok(firstFrame > 0);
  } finally {
    await oe.close();
  }
});

for (const format of ['int16', 'int24', 'float32'] as const) {
  test(`${format}: the file reads back with wavefile and sox --i and holds the render`, async () => {
    const oe = await startEngine({ format: 'int24' });
    try {
      await playScore(oe, 0);
      // The format argument overrides the config's int24.
      const file = await startRecording(oe, [`take-${format}`, format === 'int16' ? 16 : format]);
      const rendered = await renderRecorded(oe, 0.75);
      const { frames } = await stopRecording(oe);
      assert.equal(frames, rendered.l.length);
      const sox = await soxInfo(file);
      const bits = format === 'int16' ? 16 : format === 'int24' ? 24 : 32;
      assert.deepEqual({ channels: sox.channels, rate: sox.rate, bits: sox.bits, frames: sox.frames }, { channels: 2, rate: SR, bits, frames });
      assert.match(sox.encoding, format === 'float32' ? /Floating Point/ : /Signed Integer/);
      const wav = await readWav(file);
      assert.deepEqual([wav.channels, wav.sampleRate, wav.bits], [2, SR, bits]);
      assertChannelEquals(wav.data[0], rendered.l, format, `${format} left`);
      assertChannelEquals(wav.data[1], rendered.r, format, `${format} right`);
      await run('sox', [file, '-n', 'stat']);
    } finally {
      await oe.close();
    }
  });
}

test('pre-fx tap records the main bus before the output clip; master is clipped', async () => {
  const oe = await startEngine({ format: 'float32', tap: 'pre-fx' });
  try {
    await oe.send('/mod/tone1/amp', [1]);
    await oe.send('/mod/tone2/amp', [1]);
    await oe.send('/mod/tone2/freq', [440]);
    await oe.send('/gate/tone1', [1]);
    await oe.send('/gate/tone2', [1]);
    const file = await startRecording(oe);
    const rendered = await renderRecorded(oe, 0.25);
    await stopRecording(oe);
    const wav = await readWav(file);
    let over = 0;
    for (let i = 0; i < wav.frames; i++) {
      if (Math.abs(wav.data[0][i]) > 1) over++;
      assert.equal(heard(wav.data[0][i]), rendered.l[i], `frame ${i}: pre-fx clipped is what is heard (no master effects here)`);
    }
    assert.ok(over > 1000, `pre-fx keeps overs (${over})`);
    assert.equal(recorderOf(oe.engine).status().tap, 'pre-fx');
  } finally {
    await oe.close();
  }
});

test('fadeMs: a linear fade-in at start and fade-out after stop, the fade-out appended after the stop block', async () => {
  const oe = await startEngine({ format: 'float32', fadeMs: 2 });
  try {
    await oe.send('/mod/tone1/amp', [0.5]);
    await oe.send('/gate/tone1', [1]);
    oe.render(0.05);
    const file = await startRecording(oe);
    const rendered = await renderRecorded(oe, 0.1);
    // Stop lands between blocks; the fade-out (96 frames) plays over the next block.
    oe.engine.dispatch({ address: '/engine/record/stop', args: [], remote: { address: 'test', port: 1 } });
    await new Promise((r) => setImmediate(r));
    const tail = oe.render(0, BLOCK);
    await oe.engine.settle();
    const frames = Number(oe.lastReply('/engine/record/stopped')?.args[1]);
    const fade = 96;
    assert.equal(frames, rendered.l.length + fade);
    const wav = await readWav(file);
    for (let k = 0; k < fade; k++) assert.equal(wav.data[0][k], Math.fround(Math.fround(rendered.l[k]) * (k / fade)), `fade-in ${k}`);
    for (let k = fade; k < rendered.l.length; k++) assert.equal(wav.data[0][k], rendered.l[k]);
    for (let k = 0; k < fade; k++) {
      assert.equal(wav.data[0][rendered.l.length + k], Math.fround(tail.l[k] * ((fade - k - 1) / fade)), `fade-out ${k}`);
    }
  } finally {
    await oe.close();
  }
});

test('recorded master equals the render with the whole project chain (voices, effects, limiter), sample for sample', async () => {
  const all = (await readdir(PROJECT_PLUGINS)).filter((n) => n !== 'sequencer');
  const oe = await startEngine({ format: 'float32' }, all, (c) => {
    c.engine.numVoices = 4;
  });
  try {
    const loaded = [...oe.engine.plugins.loaded.keys()];
    assert.ok(loaded.includes('voices') && loaded.includes('recorder'), loaded.join(', '));
    for (let v = 1; v <= 4; v++) {
      await oe.send(`/mod/voice${v}/freq`, [110 * v + 3]);
      await oe.send(`/mod/voice${v}/osc/type`, [v % 3]);
      await oe.send(`/mod/voice${v}/amp`, [0.3]);
      await oe.send(`/mod/voice${v}/send/reverb`, [0.4]);
      await oe.send(`/mod/voice${v}/send/delay`, [0.3]);
      await oe.send(`/gate/voice${v}`, [1], 500 * v + 7);
    }
    if (oe.engine.router.has('/mod/dist1/drive')) {
      await oe.send('/mod/dist1/drive', [0.7]);
      await oe.send('/mod/dist1/mix', [0.8]);
    }
    await oe.send('/gate/voice2', [0], 30_001);
    oe.render(0, 3000);
    const file = await startRecording(oe, ['chain']);
    const rendered = await renderRecorded(oe, 1.25);
    const { frames } = await stopRecording(oe);
    assert.equal(frames, rendered.l.length);
    const wav = await readWav(file);
    assertChannelEquals(wav.data[0], rendered.l, 'float32', `left (plugins: ${loaded.join(', ')})`);
    assertChannelEquals(wav.data[1], rendered.r, 'float32', 'right');
    assert.ok(rendered.l.some((x) => Math.abs(x) > 0.01), 'the chain makes sound');
  } finally {
    await oe.close();
  }
});

test('reloading the recorder plugin mid-recording ends the session cleanly with /error and a valid file', async () => {
  const oe = await startEngine({ format: 'int16' });
  try {
    await oe.send('/gate/tone1', [1]);
    const file = await startRecording(oe, ['reloaded']);
    const rendered = await renderRecorded(oe, 0.3);
    await oe.engine.plugins.load(path.join(oe.root, 'plugins', 'recorder'));
    const stopped = async () => oe.replies.some((r) => r.address === '/engine/record/stopped');
    for (let k = 0; k < 200 && !(await stopped()); k++) await new Promise((r) => setTimeout(r, 10));
    const told = oe.lastReply('/engine/record/stopped');
    assert.deepEqual(told?.args, [file, rendered.l.length]);
    assert.equal(oe.lastReply('/error')?.args[1], 'RECORD_INTERRUPTED');
    assert.equal(oe.engine.recording, false);
    assert.equal((await soxInfo(file)).frames, rendered.l.length);
    // The new instance records again.
    await startRecording(oe, ['after-reload']);
    await renderRecorded(oe, 0.1);
    assert.equal((await stopRecording(oe)).frames, 4800);
  } finally {
    await oe.close();
  }
});

// ───────────────────────── stems ─────────────────────────

test('stems: one file per voice plus master, sample-aligned; master is the sum of the voices', async (t) => {
  const hasVoices = await stat(path.join(PROJECT_PLUGINS, 'voices', 'plugin.json')).then(
    () => true,
    () => false,
  );
  if (!hasVoices) return t.skip('plugins/voices is not there yet');
  const voices = 3;
  const oe = await startEngine({ format: 'float32', tap: 'stems' }, ['voices', 'recorder'], (c) => {
    c.engine.numVoices = voices;
  });
  try {
    assert.ok(oe.engine.plugins.loaded.has('voices'), 'voices loaded');
    const settings: [number, number, number][] = [
      [110, 1, 0.2],
      [220.5, 2, 0.15],
      [331, 0, 0.25],
    ];
    for (let v = 1; v <= voices; v++) {
      const [freq, type, amp] = settings[v - 1];
      await oe.send(`/mod/voice${v}/freq`, [freq]);
      await oe.send(`/mod/voice${v}/osc/type`, [type]);
      await oe.send(`/mod/voice${v}/amp`, [amp]);
    }
    await oe.send('/gate/voice1', [1], 100);
    await oe.send('/gate/voice2', [1], 5_000 + 17);
    await oe.send('/gate/voice3', [1], 9_000 + 3);
    await oe.send('/gate/voice2', [0], 30_000 + 111);
    oe.render(0, 1000);
    const master = await startRecording(oe, ['band']);
    assert.equal(path.basename(master), 'master.wav');
    const dir = path.dirname(master);
    assert.equal(dir, path.join(oe.engine.config.paths.recordings, 'sessions', 'band'));
    const rendered = await renderRecorded(oe, 1);
    const { frames } = await stopRecording(oe);
    assert.equal(frames, rendered.l.length);
    assert.deepEqual((await readdir(dir)).sort(), ['master.wav', 'voice1.wav', 'voice2.wav', 'voice3.wav']);
    const m = await readWav(master);
    assertChannelEquals(m.data[0], rendered.l, 'float32', 'master left');
    const stems: WavRead[] = [];
    for (let v = 1; v <= voices; v++) stems.push(await readWav(path.join(dir, `voice${v}.wav`)));
    for (const s of stems) assert.equal(s.frames, m.frames, 'every stem has the master length');
    // Without effects the main bus is the voices added in order (float32 each step): the sum of the
    // stems, frame by frame, is the master exactly — any misalignment would break the equality.
    let active = 0;
    for (let i = 0; i < m.frames; i++) {
      for (let c = 0; c < 2; c++) {
        let sum = 0;
        for (const s of stems) sum = Math.fround(sum + s.data[c][i]);
        if (sum !== m.data[c][i]) assert.fail(`frame ${i} ch ${c}: stems sum to ${sum}, master ${m.data[c][i]}`);
      }
      if (stems.every((s) => s.data[0][i] !== 0)) active++;
    }
    assert.ok(active > SR / 2, `all three stems sound together for ${active} frames`);
    for (const s of stems) assert.ok(s.data[0].some((x) => x !== 0), 'every stem holds its voice');
  } finally {
    await oe.close();
  }
});

// ───────────────────────── names ─────────────────────────

test('sanitizeName: separators, dots, control characters, unicode, length, empty', () => {
  const now = new Date(2024, 0, 2, 3, 4, 5);
  const cases: [unknown, string][] = [
    ['mytake', 'mytake'],
    ['my take.wav', 'my_take'],
    ['../../etc/passwd', 'etc_passwd'],
    ['/etc/passwd', 'etc_passwd'],
    ['C:\\Windows\\x', 'C_Windows_x'],
    ['..', 'session_20240102_030405'],
    ['', 'session_20240102_030405'],
    ['   ', 'session_20240102_030405'],
    [undefined, 'session_20240102_030405'],
    ['a\u0000b\nc\u001bd', 'a_b_c_d'],
    ['ｍｙｔａｋｅ', 'mytake'],
    ['テイク①', 'テイク1'],
    ['Mötley Crüe', 'Mötley_Crüe'],
    ['evil\u202Egnp.exe', 'evil_gnp.exe'],
    ['a\u200Bb', 'a_b'],
    ['🎹 jam', 'jam'],
    ['-rf', 'rf'],
    ['.hidden', 'hidden'],
    ['nul', 'nul_'],
    [42, '42'],
  ];
  for (const [raw, want] of cases) assert.equal(sanitizeName(raw, now).name, want, `sanitizeName(${JSON.stringify(raw)})`);
  const long = sanitizeName('ä'.repeat(500)).name;
  assert.ok(Buffer.byteLength(long) <= MAX_NAME_BYTES && long.length > 10, `long name kept to ${Buffer.byteLength(long)} bytes`);
  assert.equal(sanitizeName('x'.repeat(1000)).name.length, MAX_NAME_BYTES);
  assert.deepEqual([...candidateNames({ name: 'mytake', isDefault: false }, '.wav', now, 3)], [
    'mytake.wav',
    'mytake_20240102_030405.wav',
    'mytake_20240102_030405_2.wav',
    'mytake_20240102_030405_3.wav',
  ]);
  assert.equal(timestamp(now), '20240102_030405');
  assert.deepEqual(['int16', 16, '24', 'float', 32, 'wav'].map(parseFormat), ['int16', 'int16', 'int24', 'float32', 'float32', undefined]);
});

test('hostile names stay inside recordings/; an existing name is never overwritten', async () => {
  const oe = await startEngine({ format: 'int16' });
  try {
    const dir = oe.engine.config.paths.recordings;
    const hostile = ['../../etc/passwd', '/tmp/evil', '..', '~/x', `${'very long '.repeat(100)}`, 'ﾃｽﾄ/../../x', 'a\u0000b', '', 'nul', '\u202Ewav.exe'];
    const seen = new Set<string>();
    for (const name of hostile) {
      const file = await startRecording(oe, [name]);
      oe.render(0.01);
      await stopRecording(oe);
      assert.equal(path.dirname(file), dir, `${JSON.stringify(name)} → ${file}`);
      assert.ok(!path.relative(dir, file).startsWith('..'));
      assert.ok(Buffer.byteLength(path.basename(file)) < 200, `${file} is bounded`);
      assert.doesNotMatch(path.basename(file), /[\u0000-\u001f\u202e/\\]|\.\./u);
      assert.ok(!seen.has(file), `${file} was not reused`);
      seen.add(file);
      assert.equal((await soxInfo(file)).channels, 2);
    }
    assert.ok(seen.has(path.join(dir, 'etc_passwd.wav')));
    assert.ok([...seen].some((f) => /\/session_\d{8}_\d{6}(_\d+)?\.wav$/.test(f)), 'the empty name got the default');

    // Never overwrite: mytake.wav, then mytake_<timestamp>.wav, then mytake_<timestamp>_2.wav.
    const names: string[] = [];
    for (let k = 0; k < 3; k++) {
      names.push(path.basename(await startRecording(oe, ['mytake'])));
      oe.render(0.01);
      await stopRecording(oe);
    }
    assert.equal(names[0], 'mytake.wav');
    assert.match(names[1], /^mytake_\d{8}_\d{6}\.wav$/);
    assert.match(names[2], /^mytake_\d{8}_\d{6}(_2)?\.wav$/);
    assert.equal(new Set(names).size, 3);
  } finally {
    await oe.close();
  }
});

// ───────────────────────── control ─────────────────────────

test('routes: status shows REC while recording; busy, idle and bad format answer /error', async () => {
  const oe = await startEngine({ format: 'int24' });
  try {
    await oe.send('/engine/record/status');
    assert.equal(JSON.parse(String(oe.lastReply('/engine/record/status')!.args[0])).state, 'idle');
    await oe.send('/engine/record/stop');
    assert.equal(oe.lastReply('/error')?.args[1], 'RECORD_NOT_RECORDING');
    await oe.send('/engine/record/start', ['x', 'mp3']);
    assert.equal(oe.lastReply('/error')?.args[1], 'RECORD_BAD_FORMAT');
    const file = await startRecording(oe, ['status']);
    assert.equal(oe.engine.recording, true);
    assert.match(statusLine(engineStatus(oe.engine)), /REC: REC/);
    await oe.send('/engine/record/start', ['again']);
    assert.equal(oe.lastReply('/error')?.args[1], 'RECORD_BUSY');
    await renderRecorded(oe, 0.5);
    await oe.send('/engine/record/status');
    const s = JSON.parse(String(oe.lastReply('/engine/record/status')!.args[0]));
    assert.deepEqual([s.state, s.file, s.seconds, s.dropped, s.format, s.tap], ['recording', file, 0.5, 0, 'int24', 'master']);
    await stopRecording(oe);
    assert.equal(oe.engine.recording, false);
    assert.match(statusLine(engineStatus(oe.engine)), /REC: ---/);
  } finally {
    await oe.close();
  }
});

test('/engine/stop ends a recording cleanly (file closed, clients told)', async () => {
  const oe = await startEngine({ format: 'int24' });
  try {
    await oe.send('/gate/tone1', [1]);
    const file = await startRecording(oe, ['stopped']);
    const rendered = await renderRecorded(oe, 0.5);
    await oe.send('/engine/stop');
    assert.ok(oe.lastReply('/engine/stopped'));
    const told = oe.lastReply('/engine/record/stopped');
    assert.deepEqual(told?.args, [file, rendered.l.length]);
    assert.equal(oe.engine.recording, false);
    assert.equal((await soxInfo(file)).frames, rendered.l.length);
  } finally {
    await oe.close();
  }
});

test('disabled recorder: every route answers /error saying how to enable it', async () => {
  const oe = await startEngine(null);
  try {
    for (const address of ['/engine/record/start', '/engine/record/stop', '/engine/record/status']) {
      await oe.send(address);
      const e = oe.lastReply('/error');
      assert.equal(e?.args[0], address);
      assert.equal(e?.args[1], 'RECORDER_DISABLED');
      assert.match(String(e?.args[2]), /plugins.*recorder.*enabled.*config\/local\.json/);
    }
  } finally {
    await oe.close();
  }
});

test('ring overrun: a stalled writer loses whole blocks, counted and reported; the audio never waits', async () => {
  // bufferSeconds 0.05 → a 4096-frame ring (16 blocks).
  const oe = await startEngine({ format: 'float32', bufferSeconds: 0.05 });
  try {
    await oe.send('/gate/tone1', [1]);
    const rec = recorderOf(oe.engine);
    const file = await startRecording(oe, ['overrun']);
    rec.stall(true);
    const first = oe.render(0, 100 * BLOCK); // 100 blocks into a 16-block ring, nobody reading
    const keep = first.l.slice(0, 16 * BLOCK);
    assert.equal(oe.frame % BLOCK, 0);
    await oe.send('/engine/record/status');
    const s = JSON.parse(String(oe.lastReply('/engine/record/status')!.args[0]));
    assert.equal(s.dropped, 84 * BLOCK, 'every block that did not fit is counted');
    assert.equal(s.frames, 16 * BLOCK);
    rec.stall(false);
    await rec.flush();
    const after = await renderRecorded(oe, 0.25, 0.05);
    const { frames } = await stopRecording(oe);
    assert.equal(frames, 16 * BLOCK + after.l.length, 'what fitted, then everything after the writer caught up');
    const wav = await readWav(file);
    const want = new Float32Array(frames);
    want.set(keep);
    want.set(after.l, keep.length);
    assertChannelEquals(wav.data[0], want, 'float32', 'left');
    await oe.send('/engine/record/status');
    assert.equal(JSON.parse(String(oe.lastReply('/engine/record/status')!.args[0])).dropped, 84 * BLOCK, 'reported after stop too');
  } finally {
    await oe.close();
  }
});

test('ring overrun in real time (null backend): the audio thread keeps rendering while the ring is full', async (t) => {
  await withTempDir(async (dir) => {
    const root = await childRoot(dir);
    const config = loadConfig({ root, env: {} });
    config.plugins.recorder = { enabled: true, format: 'int16', bufferSeconds: 0.05 };
    const engine = await Engine.start({ config, backend: 'null', listen: false, status: false, log: Logger.silent() });
    try {
      const rec = recorderOf(engine);
      const started = await rec.start('realtime');
      rec.stall(true);
      // Wait (by the audio clock, not the wall clock) until half a second of blocks found the ring full.
      const v = engine.audio.shared.values;
      const until = async (ok: () => boolean) => {
        for (let k = 0; k < 2000 && !ok(); k++) await new Promise((r) => setTimeout(r, 5));
        assert.ok(ok(), 'timed out');
      };
      await until(() => rec.status().dropped >= SR / 2);
      const stalledAt = v[Slot.FramesRendered];
      const during = rec.status();
      assert.equal(during.frames, 4096, 'the ring took what fitted (4096 frames), nothing more');
      rec.stall(false);
      await until(() => v[Slot.FramesRendered] >= stalledAt + SR / 4);
      const r = await rec.stop();
      assert.ok(r.dropped >= SR / 2 && r.dropped % BLOCK === 0, `dropped ${r.dropped} (whole blocks)`);
      assert.ok(r.frames >= 4096 + SR / 5, `recording resumed after the stall: ${r.frames} frames`);
      assert.equal((await soxInfo(started.path)).frames, r.frames);
      t.diagnostic(`dropped ${r.dropped} frames while stalled; ${r.frames} recorded; xruns ${v[Slot.Xruns]}`);
    } finally {
      await engine.stop();
    }
  });
});

test('RF64: crossing a lowered threshold mid-recording, the file reads back whole and continuous', async () => {
  const oe = await startEngine({ format: 'float32', rf64ThresholdBytes: 64 * 1024 });
  try {
    await playScore(oe, 0);
    const file = await startRecording(oe, ['big']);
    const early = await renderRecorded(oe, 0.05, 0.05); // 19 KB: still RIFF after this sync
    assert.equal((await readFile(file)).toString('latin1', 0, 4), 'RIFF');
    const late = await renderRecorded(oe, 1.2); // ~480 KB
    assert.equal(recorderOf(oe.engine).status().rf64, true);
    const { frames } = await stopRecording(oe);
    const bytes = await readFile(file);
    assert.equal(bytes.toString('latin1', 0, 4), 'RF64');
    assert.equal(bytes.toString('latin1', 12, 16), 'ds64');
    const sox = await soxInfo(file);
    assert.deepEqual([sox.channels, sox.rate, sox.bits, sox.frames], [2, SR, 32, frames]);
    const want = new Float32Array(frames);
    want.set(early.l);
    want.set(late.l, early.l.length);
    // sox decodes every sample (float → its 32-bit ints → float: within 2^-25 of ours).
    const raw = path.join(path.dirname(file), 'big.raw');
    await run('sox', [file, '-t', 'raw', '-e', 'floating-point', '-b', '32', '-L', raw]);
    const soxData = await readFile(raw);
    assert.equal(soxData.length, frames * 8);
    for (let i = 0; i < frames; i++) {
      const x = soxData.readFloatLE(i * 8);
      if (Math.abs(x - want[i]) > 1e-7) assert.fail(`sox frame ${i}: ${x} vs ${want[i]}`);
    }
    // wavefile reads RF64 too: the data is continuous across the switch, exactly.
    const wav = await readWav(file);
    assertChannelEquals(wav.data[0], want, 'float32', 'left across the RF64 switch');
  } finally {
    await oe.close();
  }
});

test('an unwritable recordings folder: start answers /error with the path, the engine plays on', async () => {
  const oe = await startEngine({ format: 'int16' });
  try {
    const dir = oe.engine.config.paths.recordings;
    await rm(dir, { recursive: true, force: true });
    await writeFile(dir, 'not a folder'); // unwritable even for root
    await oe.send('/gate/tone1', [1]);
    await oe.send('/engine/record/start', ['nowhere']);
    const e = oe.lastReply('/error');
    assert.equal(e?.args[1], 'RECORD_OPEN_FAILED');
    assert.ok(String(e?.args[2]).includes(dir), String(e?.args[2]));
    assert.equal(oe.engine.recording, false);
    const out = oe.render(0.1);
    assert.ok(out.l.some((x) => x !== 0), 'still playing');
  } finally {
    await oe.close();
  }
});

// ───────────────────────── child processes: SIGKILL and a full disk ─────────────────────────

/** A temp engine root (config + plugins tone and recorder) for a child process. */
async function childRoot(dir: string): Promise<string> {
  const root = path.join(dir, 'root');
  await mkdir(path.join(root, 'config'), { recursive: true });
  await writeTestConfig(root);
  await cp(path.join(FIXTURE_PLUGINS, 'tone'), path.join(root, 'plugins/tone'), { recursive: true });
  await cp(path.join(PROJECT_PLUGINS, 'recorder'), path.join(root, 'plugins/recorder'), { recursive: true });
  return root;
}

const url = (rel: string) => pathToFileURL(path.join(PROJECT_ROOT, rel)).href;

/** Child: an engine (backend from argv) recording tone1 to recordings/<name>.wav; prints every reply as a JSON line. */
function childScript(): string {
  return `
import { loadConfig } from '${url('kernel/base/config.ts')}';
import { Engine } from '${url('kernel/engine/engine.ts')}';
import { Logger } from '${url('kernel/base/logger.ts')}';
import { recorderOf } from '${url('test/helpers/recorder.ts')}';
import { plainArgs } from '${url('kernel/osc/osc-args.ts')}';
const [root, backend, format, seconds] = process.argv.slice(2);
const config = loadConfig({ root, env: {} });
config.plugins.recorder = { enabled: true, format, tap: 'master' };
const engine = await Engine.start({ config, backend, listen: false, status: false, log: Logger.silent() });
engine.onReply = (_r, address, args) => process.stdout.write(JSON.stringify({ address, args: plainArgs(args) }) + '\\n');
const remote = { address: 'parent', port: 1 };
engine.dispatch({ address: '/mod/tone1/amp', args: [0.5], remote });
engine.dispatch({ address: '/gate/tone1', args: [1], remote });
engine.dispatch({ address: '/engine/record/start', args: ['take'], remote });
await engine.settle();
if (backend === 'offline') {
  // Render in 0.1 s pieces, letting the recorder drain and sync between them, past the failure.
  const host = engine.audio;
  for (let k = 0; k < Number(seconds) * 10; k++) {
    for (let b = 0; b < 4800 / 240; b++) host.render(240);
    await recorderOf(engine).flush().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2));
  }
  await engine.settle();
  process.stdout.write(JSON.stringify({ address: 'rendered', args: [host.engine.frame] }) + '\\n');
  await engine.stop();
} else {
  setInterval(() => {}, 1000);
}
`;
}


/** A child that prints one JSON reply per line; lines that are not JSON are kept as stderr. */
async function spawnChild(cmd: string, args: string[], onMessage: (msg: Reply, kill: () => void) => void) {
  let extra = '';
  const exit = await spawnLines(cmd, args, (line, kill) => {
    try {
      onMessage(JSON.parse(line) as Reply, kill);
    } catch {
      extra += `${line}\n`;
    }
  });
  return { ...exit, stderr: exit.stderr + extra };
}

test('SIGKILL while recording (null backend, real time): a playable file with the expected length ± 1 s', async (t) => {
  await withTempDir(async (dir) => {
    const root = await childRoot(dir);
    const script = path.join(dir, 'child.mts');
    await writeFile(script, childScript());
    const bytesPerSecond = SR * 2 * 3;
    let file = '';
    let killedAtSeconds = 0;
    let poll: NodeJS.Timeout | undefined;
    const exit = await spawnChild(process.execPath, ['--import', 'tsx', script, root, 'null', 'int24', '0'], (msg, kill) => {
      if (msg.address !== '/engine/record/started') return;
      file = String(msg.args[0]);
      // Kill once the file holds ~2.5 s of audio, as seen from outside (it grows at each sync).
      poll = setInterval(() => {
        void stat(file).then((s) => {
          if (killedAtSeconds === 0 && s.size >= 2.5 * bytesPerSecond) {
            killedAtSeconds = s.size / bytesPerSecond;
            kill();
          }
        }, () => undefined);
      }, 20);
    });
    clearInterval(poll);
    assert.equal(exit.signal, 'SIGKILL', `child exited ${exit.code}: ${exit.stderr}`);
    assert.ok(file.startsWith(path.join(root, 'recordings')), file);
    const sox = await soxInfo(file);
    const seconds = sox.frames / SR;
    t.diagnostic(`killed with ${killedAtSeconds.toFixed(2)} s on disk; the header covers ${seconds.toFixed(2)} s`);
    assert.ok(Math.abs(seconds - 2.5) <= 1, `expected 2.5 ± 1 s, the file says ${seconds} s`);
    assert.deepEqual([sox.channels, sox.rate, sox.bits], [2, SR, 24]);
    const stat2 = await run('sox', [file, '-n', 'stat']);
    const read = /Samples read:\s+(\d+)/.exec(stat2.stderr);
    assert.equal(Number(read?.[1]), sox.frames * 2, 'sox decodes the whole file');
    const wav = await readWav(file);
    assert.equal(wav.frames, sox.frames);
    assert.ok(wav.data[0].some((x) => x !== 0), 'audio, not silence');
  });
});

test('disk full mid-recording (file size limit): /error, a valid partial file, the engine plays on', { skip: process.platform !== 'linux' }, async () => {
  await withTempDir(async (dir) => {
    const root = await childRoot(dir);
    const script = path.join(dir, 'child.mts');
    await writeFile(script, childScript());
    const got: Reply[] = [];
    // RLIMIT_FSIZE 256 KiB with SIGXFSZ ignored: writes past it fail with EFBIG, like a full disk.
    const cmd = `trap '' XFSZ; ulimit -f 256; exec "$0" --import tsx "$@"`;
    const exit = await spawnChild('bash', ['-c', cmd, process.execPath, script, root, 'offline', 'int16', '3'], (msg) => got.push(msg));
    assert.equal(exit.code, 0, exit.stderr);
    const started = got.find((m) => m.address === '/engine/record/started');
    assert.ok(started, JSON.stringify(got));
    const file = String(started.args[0]);
    const error = got.find((m) => m.address === '/error');
    assert.ok(error, `an /error was broadcast: ${JSON.stringify(got)}`);
    assert.equal(error.args[0], '/engine/record');
    assert.equal(error.args[1], 'RECORD_WRITE_FAILED');
    assert.match(String(error.args[2]), /EFBIG/);
    assert.ok(String(error.args[2]).includes(file), String(error.args[2]));
    const stopped = got.find((m) => m.address === '/engine/record/stopped');
    assert.ok(stopped);
    const frames = Number(stopped.args[1]);
    assert.ok(frames > 0.5 * SR && frames < (256 * 1024) / 4, `partial file of ${frames} frames`);
    const rendered = Number(got.find((m) => m.address === 'rendered')?.args[0]);
    assert.equal(rendered, 3 * SR, 'the engine rendered all 3 s after the failure');
    const sox = await soxInfo(file);
    assert.equal(sox.frames, frames, 'the header covers what was synced');
    await run('sox', [file, '-n', 'stat']);
    const wav = await readWav(file);
    assert.ok(wav.data[0].some((x) => x !== 0));
  });
});
