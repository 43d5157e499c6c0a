/**
 * The session journal's parts: the codec keeps code and binary data by content hash; times and
 * markers for --from/--to; retention (count and size caps, oldest first, a live session kept); a
 * torn last line ends a journal; the determinism check refuses a plugin that uses Math.random.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeValue, encodeValue } from '../cli/session/codec.ts';
import { frameOf } from '../cli/session/times.ts';
import { listSessions, pruneSessions, sessionDir, PID, JOURNAL } from '../cli/session/store.ts';
import { readJournal } from '../cli/session/read.ts';
import { readManifest } from '../kernel/plugins/manifest.ts';
import { API_VERSION } from '../plugin-sdk/types.ts';
import { checkDeterminism } from './helpers/plugin-checks.ts';
import { FIXTURE_PLUGINS } from './helpers/offline-engine.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'chronus-journal-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('the codec stores code and typed arrays once by content hash and gives them back as they were', () => {
  const blobs = new Map<string, Buffer>();
  const sink = { put: (hash: string, data: string | Uint8Array) => void blobs.set(hash, Buffer.from(data)) };
  const code = 'x'.repeat(5000);
  const left = new Float32Array(new SharedArrayBuffer(16)).fill(0.25);
  const value = { spec: { code, filename: 'index.ts' }, sample: { file: 'kick.wav', left, right: left }, n: 3 };
  const encoded = encodeValue(value, sink);
  const text = JSON.stringify(encoded);
  assert.ok(text.length < 400, `journaled as references: ${text}`);
  assert.equal(blobs.size, 2, 'the code and the sample, the sample once');
  const decoded = decodeValue(JSON.parse(text), { get: (h) => blobs.get(h)! }) as typeof value;
  assert.equal(decoded.spec.code, code);
  assert.ok(decoded.sample.left instanceof Float32Array && decoded.sample.left.buffer instanceof SharedArrayBuffer);
  assert.deepEqual([...decoded.sample.right], [0.25, 0.25, 0.25, 0.25]);
});

test('--from/--to take seconds, mm:ss, hh:mm:ss and marker labels, and say what they are not', () => {
  const marks = [{ f: 4800, label: 'verse' }];
  assert.equal(frameOf('1.5', '--from', 48000, marks), 72000);
  assert.equal(frameOf('12:00', '--from', 48000, marks), 720 * 48000);
  assert.equal(frameOf('1:00:01.5', '--to', 48000, marks), 3601.5 * 48000);
  assert.equal(frameOf('verse', '--from', 48000, marks), 4800);
  assert.throws(() => frameOf('../x', '--to', 48000, marks), /--to '\.\.\/x' is neither a time .* \(its markers: verse\)/);
});

test('retention: the oldest sessions go first beyond the count or the size cap; a live one stays; an unknown id is refused', async (t) => {
  const root = await tempDir(t);
  const ids = ['20260101_100000', '20260101_110000', '20260101_120000', '20260101_130000'];
  for (const id of ids) {
    await mkdir(path.join(root, id, 'blobs'), { recursive: true });
    await writeFile(path.join(root, id, JOURNAL), 'x'.repeat(1000));
  }
  await writeFile(path.join(root, ids[0], PID), String(process.pid));
  assert.deepEqual(await pruneSessions(root, { maxCount: 2, maxBytes: 1 << 30 }), [ids[1], ids[2]], 'the live oldest is kept');
  assert.deepEqual((await listSessions(root)).map((s) => [s.id, s.live]), [[ids[0], true], [ids[3], false]]);
  await rm(path.join(root, ids[0], PID));
  assert.deepEqual(await pruneSessions(root, { maxCount: 10, maxBytes: 1500 }), [ids[0]], 'the size cap');
  assert.equal(sessionDir(root, 'latest'), path.join(root, ids[3]));
  assert.throws(() => sessionDir(root, '../etc'), /no session '\.\.\/etc' in .*\(sessions here: 20260101_130000;/);
  assert.deepEqual(await readdir(root), [ids[3]]);
});

test('a journal cut mid-line (a killed engine) ends at its last whole line; a bad line is named', async (t) => {
  const dir = await tempDir(t);
  const head = { t: 'head', v: 1, id: 'x', started: '', sampleRate: 48000, blockSize: 256, smoothingMs: 20, equalPowerFades: false };
  await writeFile(path.join(dir, JOURNAL), `${JSON.stringify(head)}\n{"t":"ev","b":0,"r":[1,0,3,0.5]}\n{"t":"at","f":512}\n{"t":"ev","b":512,"r":[1,5`);
  const j = readJournal(dir);
  assert.equal(j.endFrame, 512);
  assert.equal(j.torn, 4);
  assert.equal(j.ended, false);
  await writeFile(path.join(dir, JOURNAL), `${JSON.stringify(head)}\n{"t":"ev","b":-5,"r":[]}\n`);
  assert.throws(() => readJournal(dir), /journal line 2: b: /);
});

test('the determinism check refuses a plugin whose sound comes from Math.random', async () => {
  const manifest = await readManifest(path.join(FIXTURE_PLUGINS, 'dice'), API_VERSION, 'plugins/dice/plugin.json');
  await assert.rejects(checkDeterminism(FIXTURE_PLUGINS, 'dice', manifest, 50), /dice: two renders of the same journal differ/);
});
