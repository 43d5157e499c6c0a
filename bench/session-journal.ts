/**
 * Session journal size and replay speed: a live engine (null backend, in real time) under busy play —
 * 8 voices, the sequencer at 160 BPM on four tracks, the LFOs on, every voice's filter and amp moved
 * 100 times a second, a gate every 50 ms, a pattern load every 10 s — journaled; prints the journal's
 * bytes per minute (plain and gzipped) and how fast the session renders again offline.
 *
 *   node --import tsx bench/session-journal.ts [--seconds 30]
 */
import { cp, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { SessionJournal } from '../cli/session/journal.ts';
import { readJournal } from '../cli/session/read.ts';
import { replaySession } from '../cli/session/replay.ts';
import { writeTestConfig } from '../test/helpers/offline-engine.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({ options: { seconds: { type: 'string', default: '30' } } });
const seconds = Number(opts.seconds);

const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-bench-journal-'));
try {
  await writeTestConfig(root);
  await cp(path.join(ROOT, 'plugins'), path.join(root, 'plugins'), { recursive: true });
  const config = loadConfig({ root, env: {} });
  config.osc.port = 0;
  const held: { journal: SessionJournal | null } = { journal: null };
  const engine = await Engine.start({
    config,
    root,
    backend: 'null',
    listen: false,
    status: false,
    watch: false,
    log: Logger.silent(),
    attach: async (e) => {
      held.journal = await SessionJournal.attach(e, config.paths.sessions, config.sessions);
    },
  });
  const send = (address: string, ...args: unknown[]) => engine.dispatch({ address, args, remote: { address: 'bench', port: 1 } });
  for (const [track, voice, pattern] of [['a', 'voice1', 'X...x...X..xx...'], ['b', 'voice2', 'x.x.x.xx'], ['c', 'drum1', 'X..x..X.'], ['d', 'drum3', 'xxxxxxxxxxxxxxxx']]) send('/seq/add', track, voice, pattern);
  send('/seq/bpm', 160);
  send('/seq/start');
  send('/mod/lfo1/target', '/mod/voice3/filter/freq');
  send('/pattern/save', 7, 'bench');
  const began = Date.now();
  let tick = 0;
  while (Date.now() - began < seconds * 1000) {
    for (let v = 1; v <= 8; v++) {
      send(`/mod/voice${v}/filter/freq`, 400 + ((tick * 37 + v * 101) % 3000));
      send(`/mod/voice${v}/amp`, 0.05 + ((tick + v) % 10) / 100);
    }
    if (tick % 5 === 0) send(`/gate/voice${3 + ((tick / 5) % 6)}`, (tick / 5) % 2);
    if (tick % 1000 === 999) send('/pattern/load', 7, 'immediate');
    tick++;
    await new Promise((r) => setTimeout(r, 10));
  }
  await engine.settle();
  await engine.stop();
  const journal = held.journal as SessionJournal | null;
  if (!journal) throw new Error('no journal');
  const plainBytes = await (async () => {
    await journal.flush();
    return (await stat(path.join(journal.dir, 'journal.ndjson'))).size;
  })();
  const gz = gzipSync(readFileSync(path.join(journal.dir, 'journal.ndjson'))).length;
  await journal.close();
  const blobs = await readdir(path.join(journal.dir, 'blobs'));
  let blobBytes = 0;
  for (const b of blobs) blobBytes += (await stat(path.join(journal.dir, 'blobs', b))).size;
  const j = readJournal(journal.dir);
  const records = j.events.reduce((n, e) => n + e.r.length / 4, 0);
  const liveSeconds = j.endFrame / j.head.sampleRate;
  const perMinute = (x: number) => (x * 60) / liveSeconds;
  const out = path.join(root, 'replay.wav');
  const t0 = performance.now();
  await replaySession(j, { out, format: 'float32' });
  const renderMs = performance.now() - t0;
  const kib = (x: number) => `${(x / 1024).toFixed(1)} KiB`;
  process.stdout.write(
    [
      `session: ${liveSeconds.toFixed(1)} s live, ${records} event records (${perMinute(records).toFixed(0)}/min), ${j.calls.length} calls`,
      `journal: ${kib(plainBytes)} plain, ${kib(gz)} gzipped → ${kib(perMinute(plainBytes))}/min plain, ${kib(perMinute(gz))}/min gzipped`,
      `blobs (plugin code and samples, once per session): ${blobs.length} files, ${kib(blobBytes)}`,
      `replay: ${(renderMs / 1000).toFixed(2)} s for ${liveSeconds.toFixed(1)} s (${(liveSeconds / (renderMs / 1000)).toFixed(1)}× real time)`,
    ].join('\n') + '\n',
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
