/**
 * Recorder benchmark: a long 24-bit stereo recording of the master in real time (null backend) while
 * 32 voices play and, if /pattern/save exists, a pattern is saved every second. Prints dropped
 * frames, xruns, the writer's share of CPU, per-thread CPU, RSS and pattern-save latency.
 *
 *   node --import tsx bench/recorder.ts [--minutes 10] [--voices 32] [--format int24] [--keep] [--lead-blocks 3]
 *                                       [--no-record] [--no-patterns]   (baselines for comparison)
 *
 * Everything runs in a temp folder (config/default.json and a copy of plugins/, engine.numVoices =
 * --voices) that is deleted at the end (unless --keep).
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { loadConfig } from '../kernel/base/config.ts';
import { Engine } from '../kernel/engine/engine.ts';
import { Logger } from '../kernel/base/logger.ts';
import { recorderOf } from '../test/helpers/recorder.ts';
import { Slot } from '../kernel/audio/shared-state.ts';
import { StealMonitor } from './steal-monitor.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    voices: { type: 'string', default: '32' },
    format: { type: 'string', default: 'int24' },
    keep: { type: 'boolean', default: false },
    /** audio.leadBlocks: output latency traded for margin against the audio thread not being run. */
    'lead-blocks': { type: 'string' },
    /** Baselines: the same run without the recording, or without the pattern saves. */
    'no-record': { type: 'boolean', default: false },
    'no-patterns': { type: 'boolean', default: false },
  },
});
const minutes = Number(opts.minutes);
const totalVoices = Math.max(1, Math.min(128, Math.round(Number(opts.voices))));
if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${opts.minutes}`);

/** CPU seconds of each thread of this process, from /proc (Linux), keyed by "tid name". */
async function threadCpu(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const tick = 100; // USER_HZ
  try {
    for (const tid of await readdir('/proc/self/task')) {
      const text = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '');
      const close = text.lastIndexOf(')');
      if (close < 0) continue;
      const name = text.slice(text.indexOf('(') + 1, close);
      const fields = text.slice(close + 2).split(' ');
      out.set(`${tid} ${name}`, (Number(fields[11]) + Number(fields[12])) / tick);
    }
  } catch {
    // Not Linux: no per-thread figures.
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function setupRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'chronus-bench-rec-'));
  await mkdir(path.join(root, 'config'));
  await cp(path.join(ROOT, 'config/default.json'), path.join(root, 'config/default.json'));
  await cp(path.join(ROOT, 'plugins'), path.join(root, 'plugins'), { recursive: true });
  return root;
}

async function main(): Promise<void> {
  const root = await setupRoot();
  const config = loadConfig({ root, env: {} });
  config.engine.numVoices = totalVoices;
  if (opts['lead-blocks'] !== undefined) config.audio.leadBlocks = Number(opts['lead-blocks']);
  (config.engine as Record<string, unknown>).watch = false;
  config.plugins.viz = { ...config.plugins.viz, enabled: false };
  config.plugins.recorder = { enabled: true, format: opts.format, tap: 'master' };
  const log = new Logger((line) => process.stderr.write(`${line}\n`), true);
  const engine = await Engine.start({ config, backend: 'null', listen: false, status: false, log });
  const remote = { address: 'bench', port: 1 };
  const replies: { address: string; args: readonly unknown[] }[] = [];
  engine.onReply = (_r, address, args) => {
    if (address === '/error') process.stderr.write(`bench: /error ${args.join(' ')}\n`);
    replies.push({ address, args });
    if (replies.length > 1000) replies.splice(0, 500);
  };
  const send = (address: string, ...args: unknown[]) => engine.dispatch({ address, args, remote });
  const v = engine.audio.shared.values;
  const sr = engine.audio.sampleRate;

  const modules = [...engine.registry.modules.values()].filter((m) => /^voice\d+$/.test(m.id)).map((m) => m.id);
  console.log(`plugins: ${[...engine.plugins.loaded.keys()].join(', ')}; ${modules.length} voices; ${sr} Hz, ${engine.audio.blockSize}-frame blocks, lead ${config.audio.leadBlocks} blocks`);
  modules.forEach((id, i) => {
    send(`/mod/${id}/osc/type`, 1);
    send(`/mod/${id}/freq`, 55 * 2 ** (i / 12));
    send(`/mod/${id}/amp`, 0.8 / modules.length);
    send(`/mod/${id}/filter/freq`, 1500);
    send(`/mod/${id}/adsr/release`, 0.1);
    send(`/gate/${id}`, 1);
  });
  await engine.settle();

  const rec = recorderOf(engine);
  const record = !opts['no-record'];
  const started = record ? await rec.start('bench', opts.format) : null;
  // Figures cover the recording only (not start-up and plugin loading).
  engine.audio.shared.resetHistogram();
  const xruns0 = v[Slot.Xruns];
  const steal = new StealMonitor(() => v[Slot.Xruns]);
  const frames0 = v[Slot.FramesRendered];
  const cpu0 = process.cpuUsage();
  const threads0 = await threadCpu();
  const t0 = performance.now();
  let rssMax = process.memoryUsage().rss;
  const saveMs: number[] = [];
  const canSave = engine.router.has('/pattern/save') && !opts['no-patterns'];
  let slot = 0;
  let gateOn = true;

  // Gates retrigger every 250 ms (envelopes and OSC traffic); a pattern is saved every second.
  const gates = setInterval(() => {
    gateOn = !gateOn;
    for (const id of modules) send(`/gate/${id}`, gateOn ? 1 : 0);
  }, 125);
  const seconds = minutes * 60;
  for (let s = 1; s <= seconds; s++) {
    if (canSave) {
      const before = replies.filter((r) => r.address === '/pattern/saved').length;
      const a = performance.now();
      send('/pattern/save', (slot++ % 8) + 1);
      await engine.settle();
      if (replies.filter((r) => r.address === '/pattern/saved').length > before) saveMs.push(performance.now() - a);
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    const wait = t0 + s * 1000 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (s % 30 === 0 || s === seconds) {
      const st = rec.status();
      console.log(`  ${s} s: recorded ${st.seconds.toFixed(1)} s, synced ${st.syncedSeconds.toFixed(1)} s, dropped ${st.dropped}, xruns ${v[Slot.Xruns] - xruns0}, rss ${(rssMax / 2 ** 20).toFixed(0)} MB`);
    }
  }
  clearInterval(gates);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const threads1 = await threadCpu();
  const framesRendered = v[Slot.FramesRendered] - frames0;
  const xruns = v[Slot.Xruns] - xruns0;
  const result = started ? await rec.stop() : null;
  let size = 0;
  let soxFrames = -1;
  if (result) {
    size = (await stat(result.path)).size;
    try {
      soxFrames = Number((await run('sox', ['--i', '-s', result.path])).stdout.trim());
    } catch {
      // sox missing: skip the check.
    }
  }

  const st = rec.stats;
  const wallS = wallMs / 1000;
  console.log('\nrecorder benchmark');
  console.log(`  machine            ${os.cpus().length} cores; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (1/5/15 min) at the end`);
  if (started && result) {
    console.log(`  recording          ${started.path} (${opts.format}, stereo, master)`);
    console.log(`  length             ${(result.frames / sr).toFixed(2)} s recorded, ${(framesRendered / sr).toFixed(2)} s rendered while recording, wall ${wallS.toFixed(2)} s`);
    console.log(`  file               ${(size / 2 ** 20).toFixed(1)} MiB; sox reads ${soxFrames} frames${soxFrames === result.frames ? ' (matches)' : ''}`);
    console.log(`  dropped frames     ${result.dropped}`);
  } else console.log(`  recording          none (--no-record baseline); ${(framesRendered / sr).toFixed(2)} s rendered, wall ${wallS.toFixed(2)} s`);
  console.log(`  xruns              ${xruns}${xruns > 0 ? ` (the last ${v[Slot.LastXrunLateMs].toFixed(1)} ms late, its block rendered in ${v[Slot.LastXrunRenderMs].toFixed(1)} ms)` : ''}; worst wake-up delay ${v[Slot.MaxWakeDelayMs].toFixed(1)} ms (past the sleep's timeout ${v[Slot.MaxSleepOverrunMs].toFixed(1)} ms)`);
  for (const line of steal.stop()) console.log(line);
  console.log(`  block time         p50 ${engine.audio.shared.blockTimeQuantile(0.5).toFixed(3)} ms, p99 ${engine.audio.shared.blockTimeQuantile(0.99).toFixed(3)} ms, max ${v[Slot.MaxBlockMs].toFixed(2)} ms (deadline ${((engine.audio.blockSize / sr) * 1000).toFixed(2)} ms)`);
  console.log(`  writer ticks       ${st.ticks}, busy ${st.busyMs.toFixed(0)} ms on the control thread = ${((100 * st.busyMs) / wallMs).toFixed(3)} % of one core`);
  console.log(`  process CPU        ${(((cpu.user + cpu.system) / 1000 / wallMs) * 100).toFixed(1)} % of one core (user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s)`);
  const byName = new Map<string, number>();
  for (const [key, secs] of threads1) {
    const before = threads0.get(key) ?? 0;
    const [tid, ...rest] = key.split(' ');
    const name = tid === String(process.pid) ? 'main (control thread: writer, OSC, patterns)' : rest.join(' ');
    byName.set(name, (byName.get(name) ?? 0) + secs - before);
  }
  for (const [name, secs] of [...byName].sort((a, b) => b[1] - a[1])) {
    if (secs > 0) console.log(`    thread ${name.padEnd(46)} ${((100 * secs) / wallS).toFixed(2)} %`);
  }
  console.log(`  RSS                max ${(rssMax / 2 ** 20).toFixed(0)} MB`);
  if (canSave) {
    const sorted = [...saveMs].sort((a, b) => a - b);
    console.log(`  pattern saves      ${saveMs.length}, p50 ${quantile(sorted, 0.5).toFixed(1)} ms, p99 ${quantile(sorted, 0.99).toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms`);
  } else console.log('  pattern saves      skipped (no /pattern/save route)');

  await engine.stop();
  if (opts.keep) console.log(`  kept ${root}`);
  else await rm(root, { recursive: true, force: true });
}

await main();
