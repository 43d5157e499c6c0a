/**
 * Session snapshots: a long session made offline as fast as the machine allows (default 10 minutes of
 * busy play: 8 voices through reverb and delay, the sequencer at 160 BPM on four tracks, both LFOs,
 * every voice's filter and amp moved every 10.7 ms, a gate every 53 ms), journaled with a
 * snapshot every 30 s of audio; then `--from` the last minute rendered from the last snapshot before
 * it and from the session's start. Prints both times (and checks both renders are equal), the
 * snapshots' sizes and their share of the session folder.
 *
 *   npm run bench -- session-snapshots [--minutes 10] [--every 30]
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SessionJournal } from '../cli/session/journal.ts';
import { readJournal } from '../cli/session/read.ts';
import { replaySession } from '../cli/session/replay.ts';
import { BLOBS } from '../cli/session/store.ts';
import { OfflineEngine } from '../test/helpers/offline-engine.ts';
import { wavChannels, firstDifference } from '../test/helpers/session.ts';

const { values: opts } = parseArgs({ options: { minutes: { type: 'string', default: '10' }, every: { type: 'string', default: '30' } } });
const seconds = Number(opts.minutes) * 60;
const every = Number(opts.every);

const held: { journal: SessionJournal | null } = { journal: null };
const e = await OfflineEngine.start({
  configure: (c) => {
    c.audio.sampleRate = 48000;
  },
  attach: async (engine) => {
    held.journal = await SessionJournal.attach(engine, engine.config.paths.sessions, { maxCount: 10, maxBytes: 2 ** 40, snapshotSeconds: every });
  },
});
try {
  const journal = held.journal as SessionJournal;
  const sr = e.sampleRate;
  for (let v = 1; v <= 8; v++) {
    await e.send(`/mod/voice${v}/osc/type`, [v % 3 === 0 ? 2 : 1]);
    await e.send(`/mod/voice${v}/send/reverb`, [0.3]);
    await e.send(`/mod/voice${v}/send/delay`, [0.2]);
  }
  for (const [track, voice, pattern] of [['a', 'voice1', 'X...x...X..xx...'], ['b', 'voice2', 'x.x.x.xx'], ['c', 'drum1', 'X..x..X.'], ['d', 'drum3', 'xxxxxxxxxxxxxxxx']]) await e.send('/seq/add', [track, voice, pattern]);
  await e.send('/seq/bpm', [160]);
  await e.send('/seq/start');
  await e.send('/mod/lfo1/target', ['/mod/voice3/filter/freq']);
  await e.send('/mod/lfo2/target', ['/mod/voice4/amp']);
  const began = performance.now();
  // Two whole blocks a tick (10.7 ms at 48 kHz): a live engine renders whole blocks, and so does the replay.
  const tickFrames = 2 * e.host.blockSize;
  let tick = 0;
  while (e.frame < seconds * sr) {
    for (let v = 1; v <= 8; v++) {
      e.engine.dispatch({ address: `/mod/voice${v}/filter/freq`, args: [400 + ((tick * 37 + v * 101) % 3000)], remote: { address: 'bench', port: 1 } });
      e.engine.dispatch({ address: `/mod/voice${v}/amp`, args: [0.05 + ((tick + v) % 10) / 100], remote: { address: 'bench', port: 1 } });
    }
    if (tick % 5 === 0) e.engine.dispatch({ address: `/gate/voice${3 + ((tick / 5) % 6)}`, args: [(tick / 5) % 2], remote: { address: 'bench', port: 1 } });
    await e.engine.settle();
    e.render(0, tickFrames);
    // About once a second of audio: what a live engine's flush timer does (the snapshot is taken in it when due).
    if (++tick % 94 === 0) await journal.flush();
  }
  const madeMs = performance.now() - began;
  // What a snapshot costs the audio thread: the states copied and the structured clone a worker posts.
  const costs: number[] = [];
  for (let k = 0; k < 21; k++) {
    e.render(0, e.host.blockSize);
    const t0 = performance.now();
    structuredClone(e.host.engine.snapshot());
    costs.push(performance.now() - t0);
  }
  await journal.close();

  const j = readJournal(journal.dir);
  const from = j.endFrame - 60 * sr;
  const outs = [path.join(e.root, 'from-snapshot.wav'), path.join(e.root, 'from-start.wav')];
  // A first replay pays for cold code and files; a short one first, so the two timed start alike.
  await replaySession(j, { out: outs[0], format: 'float32', from: 0, to: sr });
  const times: number[] = [];
  let startFrame = 0;
  for (const [k, out] of outs.entries()) {
    const t0 = performance.now();
    const r = await replaySession(j, { out, format: 'float32', from, ignoreSnapshots: k === 1 });
    times.push(performance.now() - t0);
    if (k === 0) startFrame = r.startFrame;
  }
  const [a, b] = await Promise.all(outs.map(wavChannels));
  const same = a[0].length === b[0].length && firstDifference(a, 0, b, a[0].length) === -1;

  // Sizes: each snapshot's own blob, and the blobs only snapshots name (tails, states), against the folder.
  const blobDir = path.join(journal.dir, BLOBS);
  const size = async (h: string) => (await stat(path.join(blobDir, h))).size;
  const named = (text: string) => new Set([...text.matchAll(/"\$(?:bin|text)":"([0-9a-f]{64})"/g)].map((m) => m[1]));
  const byCalls = named(JSON.stringify(j.calls));
  const bySnapshots = new Set<string>();
  const own: number[] = [];
  for (const s of j.snapshots) {
    own.push(await size(s.h));
    bySnapshots.add(s.h);
    for (const h of named(await readFile(path.join(blobDir, s.h), 'utf8'))) if (!byCalls.has(h)) bySnapshots.add(h);
  }
  let snapshotBytes = 0;
  for (const h of bySnapshots) snapshotBytes += await size(h);
  let folderBytes = 0;
  for (const f of await readdir(journal.dir, { recursive: true, withFileTypes: true })) if (f.isFile()) folderBytes += (await stat(path.join(f.parentPath, f.name))).size;
  const kib = (x: number) => `${(x / 1024).toFixed(0)} KiB`;
  const median = (x: number[]) => [...x].sort((p, q) => p - q)[x.length >> 1];
  process.stdout.write(
    [
      `session: ${(j.endFrame / sr).toFixed(0)} s made offline in ${(madeMs / 1000).toFixed(1)} s, ${j.snapshots.length} snapshots (every ${every} s of audio)`,
      `--from the last minute (frame ${from}): ${(times[0] / 1000).toFixed(2)} s from the snapshot at ${(startFrame / sr).toFixed(1)} s, ${(times[1] / 1000).toFixed(2)} s from the start (${(times[1] / times[0]).toFixed(1)}×); the two renders are ${same ? 'equal' : 'DIFFERENT'}`,
      `snapshot blob (JSON with references): median ${kib(median(own))}, largest ${kib(Math.max(...own))}; with the arrays only snapshots name: ${kib(snapshotBytes)} in all, ${kib(snapshotBytes / j.snapshots.length)} per snapshot`,
      `a snapshot on the audio thread (states copied, structured clone): median ${median(costs).toFixed(2)} ms, max ${Math.max(...costs).toFixed(2)} ms over ${costs.length}`,
      `session folder: ${kib(folderBytes)} (journal gzipped, blobs), of which snapshots ${((100 * snapshotBytes) / folderBytes).toFixed(0)} %`,
    ].join('\n') + '\n',
  );
} finally {
  await e.close();
}
