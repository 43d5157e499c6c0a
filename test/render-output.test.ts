/**
 * A render's output file (cli/render/wav-file.ts): written under a temporary name and renamed onto
 * the output only when complete, without fsyncs. A render that fails or is interrupted leaves the
 * file that was there before, byte for byte, and no temporary file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openRenderOutput } from '../cli/render/wav-file.ts';
import { openWavWriter } from '../plugin-sdk/wav/index.ts';
import type { PluginFile } from '../plugin-sdk/control.ts';
import { PROJECT_ROOT } from './helpers/offline-engine.ts';
import { readWav } from '../plugin-sdk/wav-read.ts';

const OLD = Buffer.from('the previous take, which must survive');

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-render-out-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const tone = (frames: number) => Float32Array.from({ length: frames }, (_, i) => 0.5 * Math.sin(i / 10));

test('finish puts the complete file in place of the old one and leaves no temporary file', async (t) => {
  const dir = await tempDir(t);
  const out = path.join(dir, 'take.wav');
  await writeFile(out, OLD);
  const output = await openRenderOutput(out, { sampleRate: 48000, channels: 2, format: 'float32' });
  await output.writer.append([tone(4800), tone(4800)]);
  assert.deepEqual(await readFile(out), OLD, 'the old file stays until the render is complete');
  assert.equal(await output.finish(), 4800);
  assert.deepEqual(await readdir(dir), ['take.wav']);
  const wav = readWav(await readFile(out), { maxBytes: 2 ** 24 });
  assert.equal(wav.channels[0].length, 4800);
  assert.deepEqual(wav.channels[1], tone(4800));
});

test('discard leaves the old file byte for byte and no temporary file', async (t) => {
  const dir = await tempDir(t);
  const out = path.join(dir, 'take.wav');
  await writeFile(out, OLD);
  const output = await openRenderOutput(out, { sampleRate: 48000, channels: 2, format: 'int24' });
  await output.writer.append([tone(4800), tone(4800)]);
  await output.discard();
  assert.deepEqual(await readFile(out), OLD);
  assert.deepEqual(await readdir(dir), ['take.wav']);
});

test('a folder that does not exist is refused naming the output', async (t) => {
  const dir = await tempDir(t);
  const out = path.join(dir, 'missing', 'take.wav');
  await assert.rejects(openRenderOutput(out, { sampleRate: 48000, channels: 2, format: 'int24' }), (e: Error) => {
    assert.match(e.message, /WAV_OPEN_FAILED/);
    assert.ok(e.message.includes(JSON.stringify(out)), e.message);
    return true;
  });
});

test('a writer that is not durable never waits for the disk; a durable one syncs at open, sync and close', async (t) => {
  const dir = await tempDir(t);
  for (const durable of [false, true]) {
    const file = path.join(dir, `${durable}.wav`);
    let syncs = 0;
    const target = {
      path: file,
      open: async (flags: 'w' | 'wx'): Promise<PluginFile> => {
        const fh = await open(file, flags);
        const counted = (f: () => Promise<void>) => () => {
          syncs++;
          return f();
        };
        return Object.assign(Object.create(fh) as PluginFile, { sync: counted(() => fh.sync()), datasync: counted(() => fh.datasync()), close: () => fh.close() });
      },
    };
    const w = await openWavWriter(target, { sampleRate: 48000, channels: 2, format: 'int16', durable });
    await w.append([tone(48000), tone(48000)]);
    await w.sync();
    assert.equal(await w.close(), 48000);
    if (durable) assert.ok(syncs >= 3, `${syncs} syncs`);
    else assert.equal(syncs, 0);
    assert.equal(readWav(await readFile(file), { maxBytes: 2 ** 24 }).channels[0].length, 48000, 'the header is complete either way');
  }
});

test('chronus render interrupted by Ctrl-C (SIGINT) exits 130 and leaves the old file and no temporary file', async (t) => {
  const dir = await tempDir(t);
  const out = path.join(dir, 'take.wav');
  await writeFile(out, OLD);
  const score = path.join(dir, 'score.json');
  await writeFile(score, JSON.stringify({ events: [{ time: 0, address: '/gate/voice1', args: [1] }] }));
  // Ten minutes of audio: far longer than the time it takes to see the temporary file and signal.
  const proc = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/chronus.mjs'), 'render', score, '-o', out, '--seconds', '600'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  t.after(() => proc.kill('SIGKILL'));
  let sawTemp = false;
  for (let i = 0; i < 3000 && proc.exitCode === null; i++) {
    if ((await readdir(dir)).some((n) => n.endsWith('.tmp'))) {
      sawTemp = true;
      proc.kill('SIGINT');
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(sawTemp, `the render wrote under a temporary name (${stderr})`);
  assert.equal(await exited, 130, stderr);
  assert.deepEqual(await readFile(out), OLD);
  assert.deepEqual((await readdir(dir)).sort(), ['score.json', 'take.wav']);
});
