/**
 * The drum kit shipped in plugins/sampler/samples/ is what scripts/make-kit.ts makes, byte for byte
 * (the script is deterministic: run it again and git sees no change), and it gives every drum a
 * sample: a fresh clone plays.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { kitFiles } from '../../plugins/sampler/kit-files.ts';
import { readWav } from '../../plugin-sdk/index.ts';
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
