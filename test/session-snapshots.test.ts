/**
 * Session snapshots: a live session (null backend, recorder on, a snapshot every second of audio)
 * with a reverb tail and delay echoes sounding, an LFO sweeping a filter, the sequencer playing, a
 * parameter gliding and OSC bundles waiting in the queue; `chronus render --session --from` a time
 * after the second snapshot starts at the last snapshot before it (it says so) and equals the
 * recording's slice sample for sample. The snapshot it started from is read back and shown to hold
 * each of those things. A damaged snapshot blob is refused with its frame. Offline: no snapshot is
 * taken while a reloaded version is watched, and one taken while a pattern load waits for the next
 * bar replays exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CMD_START } from '../plugins/recorder/protocol.ts';
import { readJournal, type Journal } from '../cli/session/read.ts';
import { readSnapshot } from '../cli/session/snapshot.ts';
import { blobSource, BLOBS } from '../cli/session/store.ts';
import { replaySession } from '../cli/session/replay.ts';
import { SessionJournal } from '../cli/session/journal.ts';
import { chronus, firstDifference, Live, peak, sessionRoot, wavChannels } from './helpers/session.ts';
import { OfflineEngine } from './helpers/offline-engine.ts';

let root = '';
before(async () => {
  root = await sessionRoot();
  await writeFile(path.join(root, 'config/local.json'), JSON.stringify({ plugins: { recorder: { enabled: true } }, sessions: { snapshotSeconds: 1 } }));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const recordingStart = (j: Journal) => j.calls.find((c) => c.m === 'command' && c.a[0] === 'recorder' && c.a[1] === CMD_START && c.x === undefined)?.f ?? -1;
/** The values the bundles set voice3's pitch to: each one distinct, so the queue shows which is waiting. */
const bundleFreq = (i: number) => 300.25 + i;

/** Render about `seconds` in whole blocks, as a live engine and the replay do. */
const play = (e: OfflineEngine, seconds: number) => e.render(0, Math.round((seconds * e.sampleRate) / e.host.blockSize) * e.host.blockSize);

/** Whether `x` holds a non-zero sample anywhere (typed arrays or arrays of numbers, at any depth). */
function sounding(x: unknown): boolean {
  if (ArrayBuffer.isView(x)) return Array.prototype.some.call(x, (v: number) => v !== 0);
  if (Array.isArray(x)) return x.some((v) => (typeof v === 'number' ? v !== 0 : sounding(v)));
  if (x !== null && typeof x === 'object') return Object.values(x).some(sounding);
  return false;
}

test('--from after two snapshots starts at the last one before it and equals the recording there', async () => {
  const live = await Live.start(root);
  let rec = '';
  try {
    rec = String((await live.send('/engine/record/start', 'snapshots', 'float32')).find((r) => r.address === '/engine/record/started')?.args[0]);
    // voice1: a saw into the reverb and the delay, its filter swept by lfo1.
    await live.send('/mod/voice1/osc/type', { type: 'i', value: 1 });
    await live.send('/mod/voice1/amp', 0.15);
    await live.send('/mod/voice1/send/reverb', 0.8);
    await live.send('/mod/voice1/send/delay', 0.7);
    await live.send('/mod/lfo1/target', '/mod/voice1/filter/freq');
    await live.send('/gate/voice1', { type: 'i', value: 1 });
    // The sequencer: kicks and a bass line, with sends, so the tails never rest.
    await live.send('/seq/add', 'kick', 'drum1', 'X...x...X..x....', 'reverb_send=0.4', 'delay_send=0.5');
    await live.send('/seq/add', 'bass', 'voice2', 'x.x.x.xx', { type: 'i', value: 110 }, { type: 'i', value: 500 }, 'C2 Eb2 G1');
    await live.send('/seq/bpm', { type: 'i', value: 132 });
    await live.send('/seq/start');
    await live.send('/gate/voice3', { type: 'i', value: 1 });
    await live.send('/mod/voice3/amp', 0.05);
    // For 4.5 s: a bundle for 2.5 s ahead every 250 ms (one always waits), and voice1's level moving.
    for (let i = 0; i < 18; i++) {
      live.bundle(2500, [{ address: '/mod/voice3/freq', args: [{ type: 'f', value: bundleFreq(i) }] }]);
      await live.send('/mod/voice1/amp', 0.08 + 0.01 * (i % 8));
      await new Promise((r) => setTimeout(r, 250));
    }
    await live.send('/gate/voice1', { type: 'i', value: 0 });
    await live.send('/engine/record/stop');
  } finally {
    await live.close();
  }

  const [id] = (await readdir(path.join(root, 'sessions'))).filter((n) => /^\d{8}_\d{6}/.test(n));
  const dir = path.join(root, 'sessions', id);
  const journal = readJournal(dir);
  const sr = journal.head.sampleRate;
  const recStart = recordingStart(journal);
  // Snapshots count from the engine's start; how long the recording took to start depends on the machine's load.
  const inside = journal.snapshots.filter((s) => s.f > recStart);
  assert.ok(inside.length >= 3, `${inside.length} snapshots in the recording (${journal.snapshots.length} in the journal)`);
  const second = inside[1];
  const from = second.f + Math.round(0.3 * sr);
  const to = from + sr;
  const used = journal.snapshots.filter((s) => s.f <= from).at(-1)!;

  const out = path.join(root, 'from.wav');
  const r = await chronus(root, ['render', '--session', id, '-o', out, '--format', 'float32', '--from', (from / sr).toFixed(6), '--to', (to / sr).toFixed(6)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`frames ${from}–${to}, 1\\.000 s; rendered from the snapshot at frame ${used.f}\\)`), 'it started from the last snapshot before --from');
  assert.ok(used.f >= second.f && used.f <= from);
  const slice = await wavChannels(out);
  const recorded = await wavChannels(rec);
  assert.equal(slice[0].length, sr);
  assert.ok(peak(slice[0]) > 0.05, 'the slice is not silent');
  assert.equal(firstDifference(recorded, from - recStart, slice, sr), -1, 'the replay from the snapshot equals the recording');

  // What the snapshot it started from holds.
  const snapshot = readSnapshot(used, blobSource(dir));
  const state = (id: string) => snapshot.slots.find((s) => s.spec.pluginId === id)?.state as Record<string, unknown> | undefined;
  assert.ok(sounding((state('reverb')?.dsp as { freeverb?: unknown })?.freeverb), 'a reverb tail is sounding');
  assert.ok(sounding(state('delay')?.dsp), 'delay echoes are sounding');
  assert.equal((state('lfo')?.modules as Record<string, { target: string }>).lfo1.target, '/mod/voice1/filter/freq', 'the LFO sweeps the filter');
  assert.equal(state('sequencer')?.running, true, 'the sequencer plays');
  assert.ok(snapshot.params.some((p) => p.moving && p.value !== p.target), 'a parameter is on its way to its target');
  const waiting = [...snapshot.queue.values].filter((v, i) => snapshot.queue.frames[i] > used.f + journal.head.blockSize && v > 300 && v < 320 && v % 1 === 0.25);
  assert.ok(waiting.length > 0, 'a future-timed bundle waits in the queue');

  // A snapshot blob that does not match its hash is refused, naming the snapshot's frame.
  const blob = path.join(dir, BLOBS, used.h);
  await writeFile(blob, (await readFile(blob, 'utf8')).replace('"frame"', '"frame" '));
  const bad = await chronus(root, ['render', '--session', id, '-o', out, '--from', (from / sr).toFixed(6)]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`snapshot at frame ${used.f}: .*blob ${used.h} does not match its hash`));
});

test('offline: no snapshot while a reload is watched; one taken while a pattern load waits for the bar replays exactly', async () => {
  const held: { journal: SessionJournal | null } = { journal: null };
  const e = await OfflineEngine.start({
    only: ['sequencer', 'voices', 'patterns', 'reverb'],
    configure: (c) => {
      c.audio.sampleRate = 48000;
    },
    attach: async (engine) => {
      held.journal = await SessionJournal.attach(engine, path.join(root, 'offline-sessions'), { maxCount: 10, maxBytes: 2 ** 30 });
    },
  });
  const journal = held.journal!;
  let staged = -1;
  try {
    await e.send('/seq/add', ['kick', 'voice1', 'X...x...X..x....']);
    await e.send('/seq/add', ['bass', 'voice2', 'x.x.x.xx', 110, 600, 'C2 Eb2 G1']);
    await e.send('/mod/voice2/send/reverb', [0.6]);
    await e.send('/seq/bpm', [140]);
    await e.send('/seq/start');
    play(e, 1);
    await e.send('/pattern/save', [1]);
    await e.send('/seq/update/pattern', ['kick', 'XXXX....XXXX....']);
    await e.send('/seq/bpm', [100]);
    play(e, 0.6);
    // A reload swaps a new version in, watched for a rollback: no snapshot until the watch is over.
    await e.engine.plugins.load(path.join(e.root, 'plugins', 'voices'));
    assert.equal(await journal.snapshot(), null, 'no snapshot while a new version is watched');
    play(e, 3.2);
    // The slot comes back on the next bar; a snapshot now holds the load that waits for it.
    await e.send('/pattern/load', [1]);
    play(e, 0.05);
    staged = (await journal.snapshot()) ?? -1;
    assert.ok(staged > 0, 'a snapshot once the watch is over');
    play(e, 4);
  } finally {
    await e.engine.stop();
    await journal.close();
    await e.close();
  }
  const j = readJournal(journal.dir);
  const snapshot = readSnapshot(j.snapshots[0], blobSource(journal.dir));
  assert.ok((snapshot.slots.find((s) => s.spec.pluginId === 'sequencer')?.state as { staged?: unknown }).staged, 'the load waiting for the bar is in the snapshot');
  const whole = path.join(root, 'offline-whole.wav');
  const from = path.join(root, 'offline-from.wav');
  await replaySession(j, { out: whole, format: 'float32' });
  const r = await replaySession(j, { out: from, format: 'float32', from: staged });
  assert.equal(r.startFrame, staged);
  const a = await wavChannels(whole);
  const b = await wavChannels(from);
  assert.ok(b[0].length > 3.5 * 48000, `${b[0].length} frames from the snapshot`);
  assert.ok(peak(b[0]) > 0.05, 'not silent');
  assert.equal(firstDifference(a, staged, b, b[0].length), -1, 'the replay from the snapshot equals the whole render after it');
});
