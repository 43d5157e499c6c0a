/**
 * Pattern figures (issue "Sequencer and patterns"): `/pattern/save` and `/pattern/load` latency
 * p50/p99 over 1,000 operations each, while 32 voices sound (sustained saws, 4 of them also played by
 * the running sequencer at 128 BPM) through every project plugin on the real-time null backend, and
 * the xruns counted during each phase. The old engine: save 15 ms, load 25 ms; target ≤ 5 ms p50.
 * Each operation is timed from dispatch to its reply (OSC routing, audio-thread state calls,
 * validation, and for saves the atomic write with its fsyncs). Nothing is asserted.
 *
 *   npm run bench -- patterns [--ops 1000] [--voices 32] [--slots 16]
 */
import { cp, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import type { Remote } from '../kernel/osc/osc-router.ts';
import { Slot } from '../kernel/audio/shared-state.ts';

const { values } = parseArgs({ options: { ops: { type: 'string', default: '1000' }, voices: { type: 'string', default: '32' }, slots: { type: 'string', default: '16' } } });
const OPS = Number(values.ops);
const VOICES = Number(values.voices);
const SLOTS = Number(values.slots);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ME: Remote = { address: 'bench', port: 1 };

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-bench-patterns-'));
await mkdir(path.join(root, 'config'));
await cp(path.join(ROOT, 'config/default.json'), path.join(root, 'config/default.json'));
await cp(path.join(ROOT, 'plugins'), path.join(root, 'plugins'), { recursive: true });
const config = loadConfig({ root, env: {} });
config.engine.numVoices = VOICES;
config.plugins.viz = { ...config.plugins.viz, enabled: false };

const replies: { address: string; args: readonly unknown[] }[] = [];
const engine = await Engine.start({ config, backend: 'null', listen: false, status: false, log: Logger.silent() });
engine.onReply = (_r, address, args) => replies.push({ address, args });

async function send(address: string, args: unknown[] = []): Promise<void> {
  engine.dispatch({ address, args, remote: ME });
  await engine.settle();
}

async function timed(address: string, args: unknown[], reply: string): Promise<number> {
  const n = replies.length;
  const t0 = performance.now();
  await send(address, args);
  const ms = performance.now() - t0;
  const got = replies.slice(n);
  if (!got.some((r) => r.address === reply)) throw new Error(`${address} ${args.join(' ')}: ${JSON.stringify(got)}`);
  return ms;
}

try {
  const loaded = [...engine.plugins.loaded.keys()].sort();
  for (let v = 1; v <= VOICES; v++) {
    await send(`/mod/voice${v}/osc/type`, [1]);
    await send(`/mod/voice${v}/freq`, [110 * 2 ** ((v - 1) / 24.2)]);
    await send(`/mod/voice${v}/amp`, [0.4 / Math.sqrt(VOICES)]);
    await send(`/mod/voice${v}/adsr/sustain`, [1]);
    await send(`/gate/voice${v}`, [1]);
  }
  await send('/seq/add', ['kick', 'voice1', 'X...x...X...x...', 55, 200]);
  await send('/seq/add', ['bass', 'voice2', 'x.x.x.xx', 110, 400, 'C2 C2 Eb2 G1']);
  await send('/seq/add', ['lead', 'voice3', '..x...x...x.x...', 440, 2000, 'C4 E4 G4 B4']);
  await send('/seq/add', ['hats', 'voice4', 'x.x.x.x.x.x.x.x.', 8000, 6000, 'base_amp=0.05']);
  await send('/seq/bpm', [128]);
  await send('/seq/start');
  await new Promise((r) => setTimeout(r, 1000));

  const v = engine.audio.shared.values;
  const phase = async (name: string, op: (i: number) => Promise<number>) => {
    const xruns0 = v[Slot.Xruns];
    const blocks0 = v[Slot.BlocksRendered];
    engine.audio.shared.resetHistogram();
    const t0 = performance.now();
    const times: number[] = [];
    for (let i = 0; i < OPS; i++) times.push(await op(i));
    const wall = (performance.now() - t0) / 1000;
    return {
      name,
      times,
      wall,
      xruns: v[Slot.Xruns] - xruns0,
      blocks: v[Slot.BlocksRendered] - blocks0,
      blockP99: engine.audio.shared.blockTimeQuantile(0.99),
      blockMax: v[Slot.MaxBlockMs],
    };
  };

  const save = await phase('save', (i) => timed('/pattern/save', [1 + (i % SLOTS)], '/pattern/saved'));
  const load = await phase('load', (i) => timed('/pattern/load', [1 + (i % SLOTS)], '/pattern/loaded'));
  const loadNow = await phase('load immediate', (i) => timed('/pattern/load', [1 + (i % SLOTS), 'immediate'], '/pattern/loaded'));

  const slotBytes = (await stat(path.join(root, 'patterns/slots/slot_001.json'))).size;
  const backups = (await readdir(path.join(root, 'patterns/backups'))).length;
  const deadline = (config.audio.bufferSize / config.audio.sampleRate) * 1000;
  const lines = [
    `patterns: ${OPS} operations per phase over ${SLOTS} slots, ${VOICES} voices sounding + sequencer at 128 BPM, null backend ${config.audio.sampleRate} Hz / ${config.audio.bufferSize}-frame blocks (deadline ${deadline.toFixed(2)} ms)`,
    `  plugins: ${loaded.join(', ')}; slot file ${(slotBytes / 1024).toFixed(1)} KiB; backups kept ${backups}`,
  ];
  for (const p of [save, load, loadNow]) {
    lines.push(
      `  ${p.name.padEnd(15)} p50 ${fmt(quantile(p.times, 0.5))}  p99 ${fmt(quantile(p.times, 0.99))}  max ${fmt(Math.max(...p.times))}` +
        `  | ${p.wall.toFixed(1)} s, ${p.blocks} blocks, xruns ${p.xruns}, block time p99 ${fmt(p.blockP99)} max ${fmt(p.blockMax)}`,
    );
  }
  lines.push(`  machine: ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes inflate p99 and xruns)`);
  lines.push('  old engine (Music Chronus): save 15 ms, load 25 ms; target: p50 ≤ 5 ms for both, 0 xruns');
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await engine.stop();
  await rm(root, { recursive: true, force: true });
}
