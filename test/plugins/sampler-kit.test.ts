/**
 * The drum kit shipped in plugins/sampler/samples/ is what scripts/make-kit.ts makes, byte for byte
 * (the script is deterministic: run it again and git sees no change), and it gives every drum a
 * sample: a fresh clone plays. Which file plays which drum (kitFiles), and what loadSample makes of
 * a file: shared memory, within ±1, no denormals; a file too large to be a sample is not even read.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { kitFiles, loadSample } from '../../plugins/sampler/kit-files.ts';
import { readWav, type PluginFolder } from '../../plugin-sdk/index.ts';
import { wavBytes } from '../helpers/sampler.ts';
import { PROJECT_ROOT } from '../helpers/offline-engine.ts';

const SAMPLES = path.join(PROJECT_ROOT, 'plugins/sampler/samples');

test('scripts/make-kit.ts reproduces the committed kit byte for byte', async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'chronus-kit-'));
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'scripts/make-kit.ts'), '--out', out], { cwd: PROJECT_ROOT });
    const made = (await readdir(out)).sort();
    assert.deepEqual(made, (await readdir(SAMPLES)).sort(), 'the same files');
    for (const name of made) {
      const [a, b] = await Promise.all([readFile(path.join(out, name)), readFile(path.join(SAMPLES, name))]);
      assert.ok(a.equals(b), `${name} differs from what the script makes: run npm run kit and commit the result`);
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('the kit gives each of drum1…drum8 a short 48 kHz mono sample', async () => {
  const names = await readdir(SAMPLES);
  const drums = Array.from({ length: 8 }, (_, i) => `drum${i + 1}`);
  const { byDrum, ignored } = kitFiles(names, drums);
  assert.deepEqual([...byDrum.keys()].sort(), drums.sort());
  assert.deepEqual(ignored, []);
  for (const file of byDrum.values()) {
    const wav = readWav(await readFile(path.join(PROJECT_ROOT, 'plugins/sampler', file)));
    assert.equal(wav.sampleRate, 48000, file);
    assert.equal(wav.channels.length, 1, file);
    assert.equal(wav.format, '16-bit int', file);
    assert.ok(wav.frames <= 48000 / 2, `${file}: ${wav.frames} frames`);
    const peak = wav.channels[0].reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(peak > 0.5 && peak <= 1, `${file}: peak ${peak}`);
  }
});

test('kitFiles: drumN.wav or drumN-<name>.wav; the first by name wins; others are reported', () => {
  const drums = ['drum1', 'drum2', 'drum3'];
  const { byDrum, ignored } = kitFiles(['drum2.wav', 'drum1-b.WAV', 'drum1-a.wav', 'drum9-x.wav', 'notes.txt', 'drum3-x.aif', 'drum10.wav', 'xdrum3.wav'], drums);
  assert.deepEqual(Object.fromEntries(byDrum), { drum1: 'samples/drum1-a.wav', drum2: 'samples/drum2.wav' });
  assert.deepEqual(ignored, [
    { file: 'samples/drum1-b.WAV', reason: 'drum1 plays samples/drum1-a.wav' },
    { file: 'samples/drum10.wav', reason: 'there is no module drum10 (drum1…drum3)' },
    { file: 'samples/drum9-x.wav', reason: 'there is no module drum9 (drum1…drum3)' },
  ]);
});

/** A plugin folder in memory holding one file, counting its reads. */
function folderWith(bytes: Uint8Array, size = bytes.length): PluginFolder & { reads: number } {
  const folder = {
    reads: 0,
    root: '/kit',
    path: (name: string) => `/kit/${name}`,
    readFile: async () => {
      folder.reads++;
      return bytes;
    },
    readdir: async () => ['drum1.wav'],
    stat: async () => ({ size, mtimeMs: 1, isFile: true, isDirectory: false }),
    watch: () => undefined,
  };
  return folder;
}

test('loadSample: shared memory, mono as one array, a louder float file scaled to peak 1, denormals and NaN gone', async () => {
  const mono = await loadSample(folderWith(wavBytes([[0.5, -0.25, 1e-40, Number.NaN]])), 'samples/drum1.wav', 48000, { maxSeconds: 1 });
  assert.ok(mono.sample.left.buffer instanceof SharedArrayBuffer);
  assert.equal(mono.sample.right, mono.sample.left);
  assert.deepEqual(Array.from(mono.sample.left), [0.5, -0.25, 0, 0]);
  assert.equal(mono.scaledBy, undefined);

  const loud = await loadSample(folderWith(wavBytes([[2, -1], [0.5, 4]])), 'samples/drum1.wav', 48000, { maxSeconds: 1 });
  assert.deepEqual(Array.from(loud.sample.left), [0.5, -0.25]);
  assert.deepEqual(Array.from(loud.sample.right), [0.125, 1]);
  assert.equal(loud.scaledBy, 0.25);
  assert.equal(loud.channels, 2);
});

test('loadSample refuses what is not a mono or stereo sample within maxSeconds; a huge file is not read', async () => {
  const refuse = async (folder: PluginFolder, code: string, message: RegExp) =>
    assert.rejects(loadSample(folder, 'samples/drum1.wav', 48000, { maxSeconds: 1 }), (e: Error & { code?: string }) => {
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  const huge = folderWith(new Uint8Array(0), 2 ** 31);
  await refuse(huge, 'WAV_TOO_LARGE', /2147483648 bytes, more than a 1 s sample can take/);
  assert.equal(huge.reads, 0, 'never read');
  await refuse(folderWith(wavBytes([[0], [0], [0]])), 'WAV_TOO_LARGE', /3 channels, more than the 2 allowed/);
  await refuse(folderWith(wavBytes([new Float32Array(48001)])), 'WAV_TOO_LARGE', /1\.00 s long, more than the 1 s/);
  await refuse(folderWith(new TextEncoder().encode('not a wave file')), 'WAV_INVALID', /not a WAV file/);
});
